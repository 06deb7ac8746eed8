import Foundation
import MnemoTensor
import MnemoFormats

/// Reads typed values from GGUF metadata, throwing `ModelError` for absent or wrongly typed keys.
struct GGUFMetadataReader {
    let metadata: [String: GGUFValue]
    let file: String

    func int(_ key: String) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        guard let i = v.intValue else { throw ModelError.invalidConfig(key: key, value: "\(v)", file: file, expected: "an integer") }
        return i
    }
    func requiredInt(_ key: String) throws -> Int {
        guard let i = try int(key) else { throw ModelError.missingConfig(key: key, file: file) }
        return i
    }
    func double(_ key: String) throws -> Double? {
        guard let v = metadata[key] else { return nil }
        guard let d = v.doubleValue else { throw ModelError.invalidConfig(key: key, value: "\(v)", file: file, expected: "a number") }
        return d
    }
    func string(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.stringValue else { throw ModelError.invalidConfig(key: key, value: "\(v)", file: file, expected: "a string") }
        return s
    }
}

extension ModelConfig {
    /// Builds a config from GGUF metadata (keys as written by llama.cpp's `convert_hf_to_gguf.py`,
    /// names from llama.cpp `src/llama-arch.cpp`).
    ///
    /// - Parameters:
    ///   - metadata: the GGUF key/value metadata.
    ///   - tensorInfos: used for the vocabulary size fallback and tied-output detection.
    ///   - ropeFrequencyFactors: the `rope_freqs.weight` values when the file has them.
    /// - Throws: `ModelError.unknownModelType`, `.missingConfig`, `.invalidConfig`.
    static func fromGGUF(metadata: [String: GGUFValue], tensorInfos: [String: TensorInfo],
                         ropeFrequencyFactors: [Float]?, file: String) throws -> ModelConfig {
        let r = GGUFMetadataReader(metadata: metadata, file: file)
        guard let archName = try r.string("general.architecture") else {
            throw ModelError.missingConfig(key: "general.architecture", file: file)
        }
        let arch: Architecture
        switch archName {
        case "llama": arch = .llama
        case "qwen2": arch = .qwen2
        case "gpt2": arch = .gpt2
        default: throw ModelError.unknownModelType(archName, file: file)
        }
        let a = archName
        let hidden = try r.requiredInt("\(a).embedding_length")
        let heads = try r.requiredInt("\(a).attention.head_count")
        guard heads > 0 else {
            throw ModelError.invalidConfig(key: "\(a).attention.head_count", value: "\(heads)", file: file, expected: "> 0")
        }
        let kvHeads = try r.int("\(a).attention.head_count_kv") ?? heads
        let headDim = try r.int("\(a).attention.key_length") ?? hidden / heads
        var vocab = try r.int("\(a).vocab_size")
        if vocab == nil, let tokens = metadata["tokenizer.ggml.tokens"]?.arrayValue { vocab = tokens.count }
        if vocab == nil, let emb = tensorInfos["token_embd.weight"], emb.shape.count == 2 { vocab = emb.shape[0] }
        guard let vocabularySize = vocab else { throw ModelError.missingConfig(key: "\(a).vocab_size", file: file) }
        let bos = try r.int("tokenizer.ggml.bos_token_id")
        let eos = try r.int("tokenizer.ggml.eos_token_id")
        let tied = tensorInfos["output.weight"] == nil
        let context = try r.requiredInt("\(a).context_length")
        var config: ModelConfig
        if arch == .gpt2 {
            config = ModelConfig(
                architecture: .gpt2, vocabularySize: vocabularySize, hiddenSize: hidden,
                layerCount: try r.requiredInt("\(a).block_count"), headCount: heads, kvHeadCount: kvHeads,
                headDim: headDim,
                intermediateSize: try r.int("\(a).feed_forward_length")
                    ?? ModelConfig.checkedProduct(4, hidden, key: "\(a).embedding_length", value: hidden, file: file),
                contextLength: context,
                normEpsilon: Float(try r.double("\(a).attention.layer_norm_epsilon") ?? 1e-5),
                tieWordEmbeddings: tied, bosTokenID: bos, eosTokenIDs: eos.map { [$0] } ?? [], rope: nil,
                attentionBias: true)
            config.outputBias = true
            config.activation = .geluTanh
        } else {
            let scaling = try ggufScaling(r, arch: a, context: context)
            let rope = RoPEConfig(
                theta: try r.double("\(a).rope.freq_base") ?? 10000,
                dimension: try r.int("\(a).rope.dimension_count") ?? headDim,
                // llama.cpp `llama_model_rope_type`: LLAMA -> NORM (adjacent pairs, q/k rows permuted
                // by the converter), QWEN2 -> NEOX (halves, no permutation).
                pairing: arch == .llama ? .interleaved : .halves,
                scaling: ropeFrequencyFactors == nil ? scaling : .none,
                frequencyFactors: ropeFrequencyFactors)
            config = ModelConfig(
                architecture: arch, vocabularySize: vocabularySize, hiddenSize: hidden,
                layerCount: try r.requiredInt("\(a).block_count"), headCount: heads, kvHeadCount: kvHeads,
                headDim: headDim, intermediateSize: try r.requiredInt("\(a).feed_forward_length"),
                contextLength: context,
                normEpsilon: Float(try r.double("\(a).attention.layer_norm_rms_epsilon") ?? 1e-5),
                tieWordEmbeddings: tied, bosTokenID: bos, eosTokenIDs: eos.map { [$0] } ?? [], rope: rope,
                attentionBias: arch == .qwen2 || tensorInfos["blk.0.attn_q.bias"] != nil)
            config.outputBias = arch == .llama && tensorInfos["blk.0.attn_output.bias"] != nil
        }
        try config.validate(file: file, keys: [
            "vocab_size": "\(a).vocab_size", "hidden_size": "\(a).embedding_length", "num_hidden_layers": "\(a).block_count",
            "num_attention_heads": "\(a).attention.head_count", "num_key_value_heads": "\(a).attention.head_count_kv",
            "head_dim": "\(a).attention.key_length", "intermediate_size": "\(a).feed_forward_length",
            "max_position_embeddings": "\(a).context_length", "rope dimension": "\(a).rope.dimension_count",
            "rope_theta": "\(a).rope.freq_base",
        ])
        return config
    }

    /// `{arch}.rope.scaling.*` (and the legacy `{arch}.rope.scale_linear`) to `RoPEScaling`.
    private static func ggufScaling(_ r: GGUFMetadataReader, arch a: String, context: Int) throws -> RoPEScaling {
        let type = try r.string("\(a).rope.scaling.type")
        let factorKey = r.metadata["\(a).rope.scaling.factor"] != nil ? "\(a).rope.scaling.factor" : "\(a).rope.scale_linear"
        let factor = try r.double(factorKey)
        // Like the Hugging Face path: a zero, negative or non-finite factor would divide inv_freq into inf/NaN.
        if let factor, !(factor.isFinite && factor > 0) {
            throw ModelError.invalidConfig(key: factorKey, value: "\(factor)", file: r.file, expected: "a finite number > 0")
        }
        switch type {
        case nil, "none"?:
            if type == nil, let factor, factor != 1 { return .linear(factor: factor) }
            return .none
        case "linear"?:
            return .linear(factor: factor ?? 1)
        case "yarn"?:
            guard let factor else { throw ModelError.missingConfig(key: "\(a).rope.scaling.factor", file: r.file) }
            // convert_hf_to_gguf writes HF `attention_factor` as `yarn_attn_factor`; llama.cpp
            // (llama-context.cpp) multiplies the cos/sin scale by `attn_factor` as well and derives
            // it from `yarn_log_mul` (= mscale_all_dim) when that is set.
            func mscale(_ scale: Double, _ m: Double) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
            var attention = try r.double("\(a).rope.scaling.yarn_attn_factor")
            if attention == nil, let logMul = try r.double("\(a).rope.scaling.yarn_log_mul"), logMul != 0 {
                attention = mscale(factor, 1) / mscale(factor, logMul)
            }
            if let multiplier = try r.double("\(a).rope.scaling.attn_factor") {
                attention = (attention ?? mscale(factor, 1)) * multiplier
            }
            return .yarn(YaRNParameters(
                factor: factor, originalContextLength: try r.int("\(a).rope.scaling.original_context_length") ?? context,
                betaFast: try r.double("\(a).rope.scaling.yarn_beta_fast") ?? 32,
                betaSlow: try r.double("\(a).rope.scaling.yarn_beta_slow") ?? 1,
                attentionFactor: attention))
        case let other?:
            throw ModelError.invalidConfig(key: "\(a).rope.scaling.type", value: "\"\(other)\"", file: r.file,
                                           expected: "none, linear or yarn")
        }
    }

    /// Builds a config from a llama2.c checkpoint header (`run.c`: rope theta 10000, RMSNorm eps
    /// 1e-5, adjacent-pair rotation; tokenizer bos 1, eos 2).
    static func fromLlama2c(_ h: Llama2cHeader, file: String) throws -> ModelConfig {
        guard h.headCount > 0, h.dim % h.headCount == 0 else {
            throw ModelError.invalidConfig(key: "n_heads", value: "\(h.headCount)", file: file, expected: "a divisor of dim (\(h.dim))")
        }
        let headDim = h.dim / h.headCount
        let config = ModelConfig(
            architecture: .llama, vocabularySize: h.vocabSize, hiddenSize: h.dim, layerCount: h.layerCount,
            headCount: h.headCount, kvHeadCount: h.kvHeadCount, headDim: headDim, intermediateSize: h.hiddenDim,
            contextLength: h.seqLen, normEpsilon: 1e-5, tieWordEmbeddings: h.sharedClassifier,
            bosTokenID: 1, eosTokenIDs: [2],
            rope: RoPEConfig(theta: 10000, dimension: headDim, pairing: .interleaved), attentionBias: false)
        try config.validate(file: file)
        return config
    }
}
