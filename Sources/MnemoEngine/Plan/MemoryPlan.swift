// MemoryPlan: which memory mechanisms run on which layers (issue #5, item 1).
//
// The four mechanisms are described in Docs/MemoryPlan.md and ARCHITECTURE.md:
// Transformer-XL recurrence (Dai et al. 2019), Memorizing Transformers kNN memory (Wu et al. 2022),
// Unlimiformer retrieval attention (Bertsch et al. 2023) and RMT memory tokens (Bulatov et al. 2022).

/// What a streamed document may remember, and where: one value, from a JSON file or CLI flags.
///
/// Every mechanism is optional (`nil` = off); only `segmentLength` is required.
/// ```swift
/// var plan = MemoryPlan(segmentLength: 512, xl: .init(memoryLength: 1024))
/// plan.knn = .init(layers: [9], topK: 32, capacity: 65_536)
/// try plan.validate(for: facts)          // throws MemoryPlanError naming each bad field
/// let same = try MemoryPlan.load(from: URL(fileURLWithPath: "plan.json"))
/// ```
/// JSON keys are the property names (`segmentLength`, `xl.memoryLength`, `knn.topK`, ...); unknown
/// keys and wrong types are rejected with their path (see `MemoryPlan+JSON.swift`).
public struct MemoryPlan: Sendable, Equatable {
    /// Tokens per segment: the document is read `segmentLength` tokens at a time.
    public var segmentLength: Int
    /// Transformer-XL recurrence: keys/values of the last `memoryLength` tokens, every layer.
    public var xl: XLMemory?
    /// Memorizing Transformers kNN memory on chosen layers.
    public var knn: KNNMemory?
    /// Unlimiformer retrieval attention from `layerBegin` up.
    public var retrieval: RetrievalAttention?
    /// RMT read/write memory tokens.
    public var memoryTokens: MemoryTokens?

    public init(segmentLength: Int, xl: XLMemory? = nil, knn: KNNMemory? = nil,
                retrieval: RetrievalAttention? = nil, memoryTokens: MemoryTokens? = nil) {
        self.segmentLength = segmentLength
        self.xl = xl
        self.knn = knn
        self.retrieval = retrieval
        self.memoryTokens = memoryTokens
    }
}

extension MemoryPlan {
    /// Transformer-XL recurrence (Dai et al. 2019): every layer keeps the last `memoryLength`
    /// tokens' keys/values from earlier segments; queries attend to them plus their own segment.
    public struct XLMemory: Sendable, Equatable {
        /// Tokens of past keys/values kept per layer (0 = independent segments).
        public var memoryLength: Int

        public init(memoryLength: Int) {
            self.memoryLength = memoryLength
        }
    }

    /// Memorizing Transformers kNN memory (Wu et al. 2022, lucidrains/memorizing-transformers-pytorch):
    /// keys/values leaving the XL window go to a per-layer, per-KV-head store searched by inner product.
    public struct KNNMemory: Sendable, Equatable {
        /// Reference default for `topK` (the paper retrieves 32 neighbours).
        public static let defaultTopK = 32
        /// Default FAISS description: exact inner-product search.
        public static let defaultIndex = "Flat"

        /// Layers with a kNN memory, each in `0 ..< layerCount`, no duplicates.
        public var layers: [Int]
        /// Neighbours retrieved per query and head.
        public var topK: Int
        /// Keys kept per store, oldest evicted first; `nil` = unbounded.
        public var capacity: Int?
        /// FAISS index factory description ("Flat", "HNSW32", "IVF1024,Flat", ...).
        public var index: String
        /// How retrieved attention is combined with local attention.
        public var fusion: KNNFusion
        /// L2-normalise keys and queries before search and attention (as in the reference).
        public var normalizeKeys: Bool
        /// Clear the stores at a document boundary.
        public var resetOnDocument: Bool
        /// Rotating shards used for oldest-first eviction; `nil` = the store's default. Needs `capacity`.
        public var shardCount: Int?
        /// Positions of retrieved keys (default `.windowEdge`).
        public var positions: KeyPositions

        public init(layers: [Int], topK: Int = KNNMemory.defaultTopK, capacity: Int? = nil,
                    index: String = KNNMemory.defaultIndex, fusion: KNNFusion = .jointSoftmax,
                    normalizeKeys: Bool = true, resetOnDocument: Bool = true, shardCount: Int? = nil,
                    positions: KeyPositions = .windowEdge) {
            self.positions = positions
            self.layers = layers
            self.topK = topK
            self.capacity = capacity
            self.index = index
            self.fusion = fusion
            self.normalizeKeys = normalizeKeys
            self.resetOnDocument = resetOnDocument
            self.shardCount = shardCount
        }
    }

    /// Where retrieved keys sit relative to the querying token (they are RoPE-rotated accordingly).
    public enum KeyPositions: String, Sendable, Equatable, CaseIterable {
        /// At their true document positions: exact (with `topK` ≥ stored entries the mechanism equals
        /// full attention), but distances grow with the document, beyond what the model was trained on.
        case trueDistance = "true"
        /// Every retrieved key just before the window's first token: the largest distance the model
        /// sees stays within the window, so within the trained context.
        case windowEdge
    }

    /// How a kNN layer combines memory attention `y_mem` with local attention `y_local`.
    public enum KNNFusion: Sendable, Equatable {
        /// `y = (1 - g_h) * y_local + g_h * y_mem`, `g_h = sigmoid(b_h)`: separate softmaxes, mixed
        /// by a per-head gate (the Memorizing Transformers reference).
        case gate(GateSource)
        /// Retrieved and local scores share one softmax (training-free; no gate needed).
        case jointSoftmax
    }

    /// Where the per-head gate biases `b_h` come from.
    public enum GateSource: Sendable, Equatable {
        /// A checkpoint tensor of `headCount` values. `{layer}` in the name is replaced by the layer
        /// index, so each kNN layer can have its own tensor.
        case tensor(String)
        /// One bias for every head.
        case value(Double)
        /// One bias per head (`headCount` values).
        case perHead([Double])

        /// The tensor name for `layer` (`{layer}` substituted), or nil when biases are given values.
        public func tensorName(layer: Int) -> String? {
            guard case let .tensor(name) = self else { return nil }
            return name.replacingOccurrences(of: "{layer}", with: String(layer))
        }
    }

    /// Unlimiformer retrieval attention (Bertsch et al. 2023, abertsch72/unlimiformer): one index of
    /// normed hidden states per layer from `layerBegin` up; top-k states replace the far context.
    public struct RetrievalAttention: Sendable, Equatable {
        /// How the datastore is filled while the document is read.
        public enum Encoding: String, Sendable, Equatable, CaseIterable {
            /// Segment by segment with retrieval already active: every stored state has seen the whole
            /// past. With `layerBegin = 0` and `topK` ≥ stored length this equals full attention.
            case exact
            /// Unlimiformer's own encoding: overlapping chunks, each seeing only its window (an approximation).
            case overlappingChunks
        }

        public static let defaultTopK = 64
        public static let defaultIndex = "Flat"

        /// First layer with retrieval attention (in `0 ..< layerCount`).
        public var layerBegin: Int
        /// Hidden states retrieved per query and head.
        public var topK: Int
        /// Tokens shared by consecutive chunks (`overlappingChunks` only), in `0 ..< segmentLength`.
        public var chunkOverlap: Int
        /// FAISS index factory description.
        public var index: String
        public var encoding: Encoding
        /// Positions of retrieved keys (default `.windowEdge`; ranking always folds the window-edge position).
        public var positions: KeyPositions

        public init(layerBegin: Int = 0, topK: Int = RetrievalAttention.defaultTopK, chunkOverlap: Int = 0,
                    index: String = RetrievalAttention.defaultIndex, encoding: Encoding = .exact,
                    positions: KeyPositions = .windowEdge) {
            self.positions = positions
            self.layerBegin = layerBegin
            self.topK = topK
            self.chunkOverlap = chunkOverlap
            self.index = index
            self.encoding = encoding
        }
    }

    /// RMT read/write memory tokens (Bulatov et al. 2022, booydar/recurrent-memory-transformer):
    /// `count` embeddings before (read) and after (write) each segment.
    public struct MemoryTokens: Sendable, Equatable {
        /// The reference checkpoint's tensor name.
        public static let defaultTensor = "memory_cell.memory"

        /// Memory tokens `m` (0 = independent segments).
        public var count: Int
        /// Checkpoint tensor holding the `count x hiddenSize` initial memory embeddings.
        public var tensor: String

        public init(count: Int, tensor: String = MemoryTokens.defaultTensor) {
            self.count = count
            self.tensor = tensor
        }
    }
}
