import Foundation

/// An integer or a list of integers (`eos_token_id` may be either in Hugging Face configs).
struct IntOrList: Codable, Sendable, Equatable {
    var values: [Int]
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Not swallowed: when it is not an Int, decoding a list below throws the real error.
        if let v = try? c.decode(Int.self) { values = [v]; return }
        values = try c.decode([Int].self)
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

/// RoPE parameters as found under `rope_scaling` (classic) or `rope_parameters` (transformers 5).
struct HFRopeParameters: Codable, Sendable, Equatable {
    var ropeType: String?
    var type: String?
    var ropeTheta: Double?
    var factor: Double?
    var originalMaxPositionEmbeddings: Int?
    var lowFreqFactor: Double?
    var highFreqFactor: Double?
    var betaFast: Double?
    var betaSlow: Double?
    var attentionFactor: Double?
    var mscale: Double?
    var mscaleAllDim: Double?
    var truncate: Bool?
    var partialRotaryFactor: Double?
    /// Whether `factor` is present as an explicit JSON `null` (not decoded from its own key).
    var factorIsNull = false

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
        case betaFast = "beta_fast", betaSlow = "beta_slow", attentionFactor = "attention_factor"
        case mscale, mscaleAllDim = "mscale_all_dim", truncate, partialRotaryFactor = "partial_rotary_factor"
    }
}

extension HFRopeParameters {
    /// Decodes every key like the synthesized initializer and also records an explicit `"factor": null`,
    /// which transformers' `_compute_yarn_parameters` (v5.23) replaces by the derived YaRN factor
    /// (a `factor` key that is absent altogether is a `KeyError` in its `_check_received_keys`).
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ropeType = try c.decodeIfPresent(String.self, forKey: .ropeType)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        factor = try c.decodeIfPresent(Double.self, forKey: .factor)
        originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        lowFreqFactor = try c.decodeIfPresent(Double.self, forKey: .lowFreqFactor)
        highFreqFactor = try c.decodeIfPresent(Double.self, forKey: .highFreqFactor)
        betaFast = try c.decodeIfPresent(Double.self, forKey: .betaFast)
        betaSlow = try c.decodeIfPresent(Double.self, forKey: .betaSlow)
        attentionFactor = try c.decodeIfPresent(Double.self, forKey: .attentionFactor)
        mscale = try c.decodeIfPresent(Double.self, forKey: .mscale)
        mscaleAllDim = try c.decodeIfPresent(Double.self, forKey: .mscaleAllDim)
        truncate = try c.decodeIfPresent(Bool.self, forKey: .truncate)
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        factorIsNull = try c.contains(.factor) && c.decodeNil(forKey: .factor)
    }
}

/// A Hugging Face `config.json` for the supported architectures, keyed by the HF names.
///
/// Reads both the classic spelling (`rope_theta`, `rope_scaling`, `torch_dtype`) and the
/// transformers 5 one (`rope_parameters`, `dtype`), and GPT-2's own names (`n_embd`, `n_layer`, ...).
/// Port of the config classes in transformers `models/{llama,mistral,qwen2,gpt2}/configuration_*.py`.
public struct HFConfig: Codable, Sendable, Equatable {
    public var modelType: String?
    var vocabSize: Int?
    var hiddenSize: Int?
    var numHiddenLayers: Int?
    var numAttentionHeads: Int?
    var numKeyValueHeads: Int?
    var headDim: Int?
    var intermediateSize: Int?
    var maxPositionEmbeddings: Int?
    var rmsNormEps: Double?
    var tieWordEmbeddings: Bool?
    var bosTokenID: Int?
    var eosTokenID: IntOrList?
    var ropeTheta: Double?
    var ropeScaling: HFRopeParameters?
    var ropeParameters: HFRopeParameters?
    var partialRotaryFactor: Double?
    public var torchDtype: String?
    public var dtype: String?
    var attentionBias: Bool?
    var hiddenAct: String?
    var slidingWindow: Int?
    var useSlidingWindow: Bool?
    var mlpBias: Bool?
    // GPT-2 names.
    var nEmbd: Int?
    var nLayer: Int?
    var nHead: Int?
    var nPositions: Int?
    var nInner: Int?
    var layerNormEpsilon: Double?
    var activationFunction: String?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabSize = "vocab_size", hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case intermediateSize = "intermediate_size", maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case partialRotaryFactor = "partial_rotary_factor"
        case torchDtype = "torch_dtype", dtype, attentionBias = "attention_bias", hiddenAct = "hidden_act"
        case slidingWindow = "sliding_window", useSlidingWindow = "use_sliding_window", mlpBias = "mlp_bias"
        case nEmbd = "n_embd", nLayer = "n_layer", nHead = "n_head", nPositions = "n_positions"
        case nInner = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
        case activationFunction = "activation_function"
    }

    /// The weights' storage type as declared (`dtype` or `torch_dtype`).
    public var declaredDType: String? { dtype ?? torchDtype }

    /// Architectures by `model_type`.
    static let registry: [String: Architecture] = [
        "llama": .llama, "mistral": .mistral, "qwen2": .qwen2, "gpt2": .gpt2,
    ]

    /// Decodes `data` (the contents of `file`), mapping JSON type errors to `ModelError.invalidConfig`.
    /// - Throws: `ModelError.invalidConfig` for a wrongly typed key or malformed JSON.
    public static func decode(_ data: Data, file: String) throws -> HFConfig {
        do {
            return try JSONDecoder().decode(HFConfig.self, from: data)
        } catch let error as DecodingError {
            throw mapDecodingError(error, data: data, file: file)
        }
    }

    /// Converts a JSON decoding failure into a one-line `ModelError` naming the key and its value.
    static func mapDecodingError(_ error: DecodingError, data: Data, file: String) -> ModelError {
        func describe(_ path: [CodingKey]) -> (String, String) {
            let joined = path.map(\.stringValue).joined(separator: ".")
            let key = joined.isEmpty ? "(document)" : joined
            // Only used to quote the offending value in the message; the decoding error is thrown regardless.
            var node: Any? = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            for k in path { node = (node as? [String: Any])?[k.stringValue] }
            let value: String
            if let node, JSONSerialization.isValidJSONObject([node]),
               let d = try? JSONSerialization.data(withJSONObject: [node], options: [.fragmentsAllowed]),
               let s = String(data: d, encoding: .utf8) {
                value = String(s.dropFirst().dropLast())
            } else {
                value = "?"
            }
            return (key, value)
        }
        switch error {
        case let .typeMismatch(type, ctx), let .valueNotFound(type, ctx):
            let (key, value) = describe(ctx.codingPath)
            return .invalidConfig(key: key, value: value, file: file, expected: "\(type)")
        case let .dataCorrupted(ctx):
            if ctx.codingPath.isEmpty {
                return .invalidConfig(key: "(document)", value: "not valid JSON", file: file, expected: "a JSON object")
            }
            let (key, value) = describe(ctx.codingPath)
            return .invalidConfig(key: key, value: value, file: file)
        case let .keyNotFound(key, _):
            return .missingConfig(key: key.stringValue, file: file)
        @unknown default:
            return .invalidConfig(key: "(document)", value: "\(error)", file: file)
        }
    }

    /// Builds the format-independent `ModelConfig`.
    /// - Parameter generation: a parsed `generation_config.json`, whose bos/eos ids take precedence.
    /// - Throws: `ModelError.unknownModelType`, `.missingConfig` or `.invalidConfig`.
    public func modelConfig(file: String, generation: HFGenerationConfig? = nil) throws -> ModelConfig {
        guard let modelType else { throw ModelError.missingConfig(key: "model_type", file: file) }
        guard let arch = Self.registry[modelType] else { throw ModelError.unknownModelType(modelType, file: file) }
        func need<T>(_ v: T?, _ key: String) throws -> T {
            guard let v else { throw ModelError.missingConfig(key: key, file: file) }
            return v
        }
        var eos = eosTokenID?.values ?? []
        var bos = bosTokenID
        if let generation {
            if let g = generation.eosTokenID?.values, !g.isEmpty { eos = g }
            if let b = generation.bosTokenID { bos = b }
        }
        var config: ModelConfig
        var keys: [String: String] = [:]
        if arch == .gpt2 {
            // Name GPT-2's own keys in validation messages when the file uses them.
            if nEmbd != nil { keys["hidden_size"] = "n_embd" }
            if nHead != nil { keys["num_attention_heads"] = "n_head"; keys["num_key_value_heads"] = "n_head" }
            if nLayer != nil { keys["num_hidden_layers"] = "n_layer" }
            if nPositions != nil { keys["max_position_embeddings"] = "n_positions" }
            if nInner != nil { keys["intermediate_size"] = "n_inner" }
            let hidden = try need(nEmbd ?? hiddenSize, "n_embd")
            let heads = try need(nHead ?? numAttentionHeads, "n_head")
            guard heads > 0, hidden % heads == 0 else {
                throw ModelError.invalidConfig(key: "n_head", value: "\(heads)", file: file, expected: "a divisor of n_embd (\(hidden))")
            }
            let act: Activation
            switch activationFunction ?? "gelu_new" {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": act = .geluTanh
            case "gelu": act = .gelu
            case let other:
                throw ModelError.invalidConfig(key: "activation_function", value: "\"\(other)\"", file: file,
                                               expected: "gelu_new, gelu_pytorch_tanh or gelu")
            }
            config = ModelConfig(
                architecture: .gpt2, vocabularySize: try need(vocabSize, "vocab_size"), hiddenSize: hidden,
                layerCount: try need(nLayer ?? numHiddenLayers, "n_layer"), headCount: heads, kvHeadCount: heads,
                headDim: hidden / heads,
                intermediateSize: try nInner ?? ModelConfig.checkedProduct(4, hidden, key: "n_embd", value: hidden, file: file),
                contextLength: try need(nPositions ?? maxPositionEmbeddings, "n_positions"),
                normEpsilon: Float(layerNormEpsilon ?? 1e-5), tieWordEmbeddings: tieWordEmbeddings ?? true,
                bosTokenID: bos, eosTokenIDs: eos, rope: nil, attentionBias: true)
            config.outputBias = true
            config.activation = act
        } else {
            let hidden = try need(hiddenSize, "hidden_size")
            let heads = try need(numAttentionHeads, "num_attention_heads")
            guard heads > 0 else {
                throw ModelError.invalidConfig(key: "num_attention_heads", value: "\(heads)", file: file, expected: "> 0")
            }
            let headDim = self.headDim ?? hidden / heads
            let context = try need(maxPositionEmbeddings, "max_position_embeddings")
            let params = ropeParameters ?? ropeScaling
            let partial = params?.partialRotaryFactor ?? partialRotaryFactor ?? 1
            guard partial.isFinite, partial > 0, partial <= 1 else {
                let key = params?.partialRotaryFactor != nil ? "rope_scaling.partial_rotary_factor" : "partial_rotary_factor"
                throw ModelError.invalidConfig(key: key, value: "\(partial)", file: file, expected: "a number in (0, 1]")
            }
            // Int(Double(Int.max)) would trap: a full rotation keeps head_dim as is (validated later).
            let ropeDim = partial == 1 ? headDim : Int(Double(headDim) * partial)
            let theta = params?.ropeTheta ?? ropeTheta ?? 10000
            let scaling = try Self.scaling(params, maxPositions: context, file: file)
            switch hiddenAct ?? "silu" {
            case "silu", "swish": break
            case let other:
                throw ModelError.invalidConfig(key: "hidden_act", value: "\"\(other)\"", file: file, expected: "silu")
            }
            if useSlidingWindow == true {
                throw ModelError.invalidConfig(key: "use_sliding_window", value: "true", file: file,
                                               expected: "false (Qwen2 per-layer sliding windows are not supported)")
            }
            if mlpBias == true {
                throw ModelError.invalidConfig(key: "mlp_bias", value: "true", file: file, expected: "false (not supported)")
            }
            let bias = arch == .qwen2 || (attentionBias ?? false)
            config = ModelConfig(
                architecture: arch, vocabularySize: try need(vocabSize, "vocab_size"), hiddenSize: hidden,
                layerCount: try need(numHiddenLayers, "num_hidden_layers"), headCount: heads,
                kvHeadCount: numKeyValueHeads ?? heads, headDim: headDim,
                intermediateSize: try need(intermediateSize, "intermediate_size"), contextLength: context,
                normEpsilon: Float(rmsNormEps ?? 1e-6), tieWordEmbeddings: tieWordEmbeddings ?? false,
                bosTokenID: bos, eosTokenIDs: eos,
                rope: RoPEConfig(theta: theta, dimension: ropeDim, pairing: .halves, scaling: scaling),
                attentionBias: bias)
            config.outputBias = arch != .qwen2 && (attentionBias ?? false)
            // Only Mistral applies `sliding_window` unconditionally (transformers MistralModel);
            // Qwen2 needs `use_sliding_window`, which Mnemo does not implement (full attention).
            if arch == .mistral { config.slidingWindow = slidingWindow }
        }
        try config.validate(file: file, keys: keys)
        return config
    }

    /// Maps `rope_scaling` / `rope_parameters` to `RoPEScaling`, following transformers'
    /// `standardize_rope_params` (`rope_type` falls back to `type`; `original_max_position_embeddings`
    /// defaults to `max_position_embeddings`).
    static func scaling(_ p: HFRopeParameters?, maxPositions: Int, file: String) throws -> RoPEScaling {
        guard let p else { return .none }
        let type = p.ropeType ?? p.type ?? "default"
        let key = "rope_scaling.rope_type"
        func factor(derived: Double? = nil) throws -> Double {
            guard let f = p.factor ?? derived else { throw ModelError.missingConfig(key: "rope_scaling.factor", file: file) }
            guard f.isFinite, f > 0 else {
                throw ModelError.invalidConfig(key: "rope_scaling.factor", value: "\(f)", file: file, expected: "a finite number > 0")
            }
            return f
        }
        switch type {
        case "default": return .none
        case "linear": return .linear(factor: try factor())
        case "dynamic": return .dynamic(factor: try factor(), maxPositions: maxPositions)
        case "yarn":
            // transformers `_compute_yarn_parameters` (modeling_rope_utils.py, v5.23): a null `factor` is
            // `max_position_embeddings / original_max_position_embeddings`, and `beta_fast` / `beta_slow`
            // are read as `get("beta_fast") or 32` / `get("beta_slow") or 1`, so an explicit 0 (or null)
            // means the default too.
            let original = p.originalMaxPositionEmbeddings ?? maxPositions
            var derived: Double?
            if p.factorIsNull {
                guard original > 0 else {
                    throw ModelError.invalidConfig(key: "rope_scaling.original_max_position_embeddings", value: "\(original)",
                                                   file: file, expected: "> 0")
                }
                derived = Double(maxPositions) / Double(original)
            }
            func orDefault(_ v: Double?, _ fallback: Double) -> Double {
                if let v, v != 0 { return v }
                return fallback
            }
            return .yarn(YaRNParameters(
                factor: try factor(derived: derived), originalContextLength: original,
                betaFast: orDefault(p.betaFast, 32), betaSlow: orDefault(p.betaSlow, 1), attentionFactor: p.attentionFactor,
                mscale: p.mscale, mscaleAllDim: p.mscaleAllDim, truncate: p.truncate ?? true))
        case "llama3":
            guard let low = p.lowFreqFactor else { throw ModelError.missingConfig(key: "rope_scaling.low_freq_factor", file: file) }
            guard let high = p.highFreqFactor else { throw ModelError.missingConfig(key: "rope_scaling.high_freq_factor", file: file) }
            guard high != low else {
                throw ModelError.invalidConfig(key: "rope_scaling.high_freq_factor", value: "\(high)", file: file, expected: "≠ low_freq_factor")
            }
            return .llama3(factor: try factor(), lowFrequencyFactor: low, highFrequencyFactor: high,
                           originalContextLength: p.originalMaxPositionEmbeddings ?? maxPositions)
        default:
            throw ModelError.invalidConfig(key: key, value: "\"\(type)\"", file: file,
                                           expected: "default, linear, dynamic, yarn or llama3")
        }
    }
}

/// The parts of `generation_config.json` the runtime uses.
public struct HFGenerationConfig: Codable, Sendable, Equatable {
    var bosTokenID: Int?
    var eosTokenID: IntOrList?
    enum CodingKeys: String, CodingKey { case bosTokenID = "bos_token_id", eosTokenID = "eos_token_id" }

    public static func decode(_ data: Data, file: String) throws -> HFGenerationConfig {
        do {
            return try JSONDecoder().decode(HFGenerationConfig.self, from: data)
        } catch let error as DecodingError {
            throw HFConfig.mapDecodingError(error, data: data, file: file)
        }
    }
}
