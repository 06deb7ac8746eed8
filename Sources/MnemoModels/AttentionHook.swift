// The seam between the model and the memory mechanisms (ARCHITECTURE.md: "the attention layer does
// not know which memory mechanism is active: it receives, per layer and per segment, the key/value
// sets it may attend to and a fusion rule").

/// One input row of a forward pass: a token id, or an embedding given directly (RMT memory tokens).
public enum ModelInput: Sendable, Equatable {
    case token(Int)
    /// `hiddenSize` floats used in place of a token embedding.
    case embedding([Float])
}

/// What a layer's attention sees of the new rows, handed to an `AttentionHook`.
public struct LayerAttentionInput {
    /// The normed hidden states that feed attention, `count × hiddenSize` (Unlimiformer stores these).
    public let normedInput: UnsafePointer<Float>
    /// Queries after RoPE at their cache rows, `count × headCount × headDim`.
    public let queries: UnsafePointer<Float>
    /// Cache row of the first new query; the new rows are `start ..< start + count`.
    public let start: Int
    public let count: Int
}

/// Key/value pairs a layer attends to besides its cache (retrieved memories), per query row and head.
///
/// Layout: entry `j` of query row `t`, head `h` has its key at
/// `keys[((t * headCount + h) * capacity + j) * headDim ..< + headDim]` (already rotated into the
/// frame of the cache rows: a key meant at distance `d` from a query at row `r` is rotated to
/// position `r - d`) and its value at the same offset in `values`; `counts[t * headCount + h]`
/// entries are valid (≤ `capacity`).
public final class ExtraAttention {
    /// How retrieved attention joins local attention.
    public enum Fusion: Sendable, Equatable {
        /// One softmax over local and retrieved scores together.
        case jointSoftmax
        /// Separate softmaxes mixed per head: `y = (1 - g_h) y_local + g_h y_mem` with `g_h` given
        /// here (already through the sigmoid). A row with no retrieved entries keeps `y_local`.
        case gate([Float])
    }

    public let rows: Int
    public let headCount: Int
    public let headDim: Int
    public let capacity: Int
    public var keys: [Float]
    public var values: [Float]
    public var counts: [Int32]
    public var fusion: Fusion

    public init(rows: Int, headCount: Int, headDim: Int, capacity: Int, fusion: Fusion) {
        self.rows = rows
        self.headCount = headCount
        self.headDim = headDim
        self.capacity = capacity
        self.fusion = fusion
        let slots = rows * headCount * capacity * headDim
        keys = [Float](repeating: 0, count: slots)
        values = [Float](repeating: 0, count: slots)
        counts = [Int32](repeating: 0, count: rows * headCount)
    }

    /// Offset (in floats) of entry `j` for query row `t`, head `h`.
    @inline(__always)
    public func offset(row t: Int, head h: Int, entry j: Int) -> Int {
        ((t * headCount + h) * capacity + j) * headDim
    }
}

/// Supplies memory to chosen layers during a forward pass (implemented by the engine's mechanisms).
///
/// `attention(layer:input:)` is called once per layer after the new rows' keys and values are in
/// the cache and before attention runs. Returning `nil` means plain causal attention over the cache.
public protocol AttentionHook: AnyObject {
    func attention(layer: Int, input: LayerAttentionInput) throws -> ExtraAttention?
}

/// What `forward(inputs:...)` returns.
public struct ForwardOutput: Sendable {
    /// Logits of `logitRows` (input row indices), row-major `logitRows.count × vocabularySize`.
    public var logits: [Float]
    public var logitRows: Range<Int>
    /// Final hidden states after the last norm for `hiddenRows`, `hiddenRows.count × hiddenSize`.
    public var hidden: [Float]
    public var hiddenRows: Range<Int>
}
