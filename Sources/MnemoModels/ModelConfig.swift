/// A model architecture Mnemo can run.
public enum Architecture: String, Sendable, Codable, CaseIterable {
    case llama, mistral, qwen2, gpt2

    /// Whether the architecture is a Llama-family decoder (RMSNorm, SwiGLU, RoPE).
    public var isLlamaFamily: Bool { self != .gpt2 }
}

/// Which dimensions of a head RoPE rotates together.
public enum RoPEPairing: String, Sendable, Codable {
    /// Hugging Face `rotate_half` / llama.cpp NEOX: dimension `i` with `i + d/2`.
    case halves
    /// Original Meta / llama2.c / GGUF llama (llama.cpp NORM): dimension `2i` with `2i + 1`.
    case interleaved
}

/// How rotary frequencies are scaled to extend the context.
///
/// Formulas follow Hugging Face transformers `modeling_rope_utils.py` (v5.23).
public enum RoPEScaling: Sendable, Equatable {
    case none
    /// Position interpolation: `inv_freq /= factor`.
    case linear(factor: Double)
    /// Dynamic NTK: the base is recomputed from the current sequence length once it exceeds
    /// `maxPositions` (`max_position_embeddings`).
    case dynamic(factor: Double, maxPositions: Int)
    /// YaRN: blend of interpolated and extrapolated frequencies, cos/sin scaled by `attentionFactor`.
    case yarn(YaRNParameters)
    /// Llama 3.1 frequency-dependent scaling.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContextLength: Int)
}

/// Parameters of YaRN scaling (transformers `_compute_yarn_parameters`).
public struct YaRNParameters: Sendable, Equatable {
    public var factor: Double
    public var originalContextLength: Int
    public var betaFast: Double = 32
    public var betaSlow: Double = 1
    /// Explicit `attention_factor`; `nil` derives it from `factor` (and `mscale` / `mscaleAllDim`).
    public var attentionFactor: Double?
    public var mscale: Double?
    public var mscaleAllDim: Double?
    public var truncate: Bool = true

    public init(factor: Double, originalContextLength: Int, betaFast: Double = 32, betaSlow: Double = 1,
                attentionFactor: Double? = nil, mscale: Double? = nil, mscaleAllDim: Double? = nil,
                truncate: Bool = true) {
        self.factor = factor
        self.originalContextLength = originalContextLength
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.attentionFactor = attentionFactor
        self.mscale = mscale
        self.mscaleAllDim = mscaleAllDim
        self.truncate = truncate
    }
}

/// Rotary position embedding settings of a model.
public struct RoPEConfig: Sendable, Equatable {
    /// Base wavelength (`rope_theta`).
    public var theta: Double
    /// Number of leading dimensions of each head that are rotated (even, ≤ headDim).
    public var dimension: Int
    public var pairing: RoPEPairing
    public var scaling: RoPEScaling
    /// Per-frequency divisors from a GGUF `rope_freqs.weight` tensor (llama.cpp's Llama 3 scaling):
    /// `inv_freq[i] = theta^(-2i/d) / frequencyFactors[i]`.
    public var frequencyFactors: [Float]?

    public init(theta: Double, dimension: Int, pairing: RoPEPairing, scaling: RoPEScaling = .none,
                frequencyFactors: [Float]? = nil) {
        self.theta = theta
        self.dimension = dimension
        self.pairing = pairing
        self.scaling = scaling
        self.frequencyFactors = frequencyFactors
    }
}

/// The feed-forward activation function.
public enum Activation: String, Sendable, Codable {
    /// SiLU gate of a SwiGLU MLP (Llama family).
    case silu
    /// GPT-2's `gelu_new` (tanh approximation; same as `gelu_pytorch_tanh`).
    case geluTanh
    /// Exact erf GELU.
    case gelu
}

/// Hyper-parameters of a loaded model, independent of the file format it came from.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var intermediateSize: Int
    /// Trained context length (`max_position_embeddings`, `n_positions`, `{arch}.context_length`).
    public var contextLength: Int
    public var normEpsilon: Float
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    /// `nil` for GPT-2 (learned absolute position embeddings).
    public var rope: RoPEConfig?
    /// Whether q/k/v projections carry biases (Qwen2, GPT-2, Llama with `attention_bias`).
    public var attentionBias: Bool
    /// Whether the attention output projection carries a bias (GPT-2, Llama with `attention_bias`).
    public var outputBias: Bool = false
    /// The MLP activation.
    public var activation: Activation = .silu
    /// Mistral's sliding-window attention: a query at position q attends keys k with
    /// `q - slidingWindow < k <= q` (transformers `sliding_window_overlay`); `nil` = full causal.
    public var slidingWindow: Int?

    public init(architecture: Architecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int, intermediateSize: Int, contextLength: Int,
                normEpsilon: Float, tieWordEmbeddings: Bool, bosTokenID: Int? = nil, eosTokenIDs: [Int] = [],
                rope: RoPEConfig?, attentionBias: Bool = false) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.contextLength = contextLength
        self.normEpsilon = normEpsilon
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.rope = rope
        self.attentionBias = attentionBias
    }

    /// Width of the query projection output (`headCount * headDim`).
    public var queryWidth: Int { headCount * headDim }
    /// Width of one key (or value) row in the cache (`kvHeadCount * headDim`).
    public var kvWidth: Int { kvHeadCount * headDim }

    /// Largest accepted count or size (vocabulary, widths, layers, heads, context), the bound the
    /// llama2.c header reader uses; keeps every width product far from `Int` overflow.
    static let maximumDimension = 1 << 24

    /// `a * b`, or `ModelError.invalidConfig` naming `key` and `value` when the product overflows `Int`.
    static func checkedProduct(_ a: Int, _ b: Int, key: String, value: Int, file: String) throws -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow {
            throw ModelError.invalidConfig(key: key, value: "\(value)", file: file, expected: "a size whose product \(a) × \(b) fits in Int")
        }
        return product
    }

    /// Checks the dimensions are positive, bounded and consistent, and that the sizes allocated from
    /// them (q/k/v widths, the fused qkv rows, one layer's KV cache at full context) fit in `Int`.
    /// - Parameter keys: file-specific names for the Hugging Face keys used in messages (GGUF, llama2.c).
    /// - Throws: `ModelError.invalidConfig` naming the offending key.
    func validate(file: String, keys: [String: String] = [:]) throws {
        func name(_ key: String) -> String { keys[key] ?? key }
        func positive(_ v: Int, _ key: String) throws {
            if v <= 0 { throw ModelError.invalidConfig(key: name(key), value: "\(v)", file: file, expected: "a positive integer") }
            if v > Self.maximumDimension {
                throw ModelError.invalidConfig(key: name(key), value: "\(v)", file: file, expected: "at most \(Self.maximumDimension)")
            }
        }
        try positive(vocabularySize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(layerCount, "num_hidden_layers")
        try positive(headCount, "num_attention_heads")
        try positive(kvHeadCount, "num_key_value_heads")
        try positive(headDim, "head_dim")
        try positive(intermediateSize, "intermediate_size")
        try positive(contextLength, "max_position_embeddings")
        func product(_ a: Int, _ b: Int, _ key: String, _ value: Int) throws -> Int {
            try Self.checkedProduct(a, b, key: name(key), value: value, file: file)
        }
        let qW = try product(headCount, headDim, "num_attention_heads", headCount)
        let kvW = try product(kvHeadCount, headDim, "num_key_value_heads", kvHeadCount)
        let (_, overflow) = try product(kvW, 2, "num_key_value_heads", kvHeadCount).addingReportingOverflow(qW)
        if overflow {
            throw ModelError.invalidConfig(key: name("num_attention_heads"), value: "\(headCount)", file: file,
                                           expected: "q + k + v widths (\(qW) + 2 × \(kvW)) that fit in Int")
        }
        let cacheRows = try product(contextLength, kvW, "max_position_embeddings", contextLength)
        _ = try product(cacheRows, MemoryLayout<Float>.stride, "max_position_embeddings", contextLength)
        if headCount % kvHeadCount != 0 {
            throw ModelError.invalidConfig(key: name("num_key_value_heads"), value: "\(kvHeadCount)", file: file,
                                           expected: "a divisor of num_attention_heads (\(headCount))")
        }
        if let w = slidingWindow, w <= 0 {
            throw ModelError.invalidConfig(key: "sliding_window", value: "\(w)", file: file, expected: "a positive integer or null")
        }
        if let rope {
            if rope.dimension <= 0 || rope.dimension % 2 != 0 || rope.dimension > headDim {
                throw ModelError.invalidConfig(key: name("rope dimension"), value: "\(rope.dimension)", file: file,
                                               expected: "an even number in 2...\(headDim)")
            }
            if !(rope.theta > 0) {
                throw ModelError.invalidConfig(key: name("rope_theta"), value: "\(rope.theta)", file: file, expected: "> 0")
            }
            if let f = rope.frequencyFactors, f.count != rope.dimension / 2 {
                throw ModelError.invalidConfig(key: "rope_freqs.weight", value: "\(f.count) values", file: file,
                                               expected: "\(rope.dimension / 2) values")
            }
        }
    }
}
