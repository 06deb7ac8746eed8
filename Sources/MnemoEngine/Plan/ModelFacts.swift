// ModelFacts: the few facts about a model that a memory plan is validated against.

/// Shape facts and tensor names of a loaded model, for `MemoryPlan.validate(for:)`.
///
/// A small value so plans can be checked without loading weights; built from a model's
/// `ModelConfig` and its checkpoint's tensor names.
public struct ModelFacts: Sendable, Equatable {
    /// Transformer layers (blocks).
    public var layerCount: Int
    /// Query heads per layer.
    public var headCount: Int
    /// Key/value heads per layer (grouped-query attention when fewer than `headCount`).
    public var kvHeadCount: Int
    /// Floats per head.
    public var headDim: Int
    /// Floats per hidden state.
    public var hiddenSize: Int
    /// The context length the model was trained on: the largest query-key distance it has seen.
    public var contextLength: Int
    /// Names of every tensor in the checkpoint (for gate biases and memory-token embeddings).
    public var availableTensors: Set<String>

    public init(layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int, hiddenSize: Int,
                contextLength: Int, availableTensors: Set<String> = []) {
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.hiddenSize = hiddenSize
        self.contextLength = contextLength
        self.availableTensors = availableTensors
    }
}
