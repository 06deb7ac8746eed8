import Foundation
import MnemoTensor
import MnemoFormats

/// Weights of one transformer block in the runtime's internal layout (HF `nn.Linear` orientation:
/// rows = output features), whatever file format they came from.
struct LayerWeights: Sendable {
    var attentionNorm: [Float]
    var attentionNormBias: [Float]?
    /// Separate projections (Llama family) ...
    var query: WeightMatrix?
    var key: WeightMatrix?
    var value: WeightMatrix?
    /// ... or one fused `[q; k; v]` projection (GPT-2).
    var fusedQKV: WeightMatrix?
    /// Concatenated `[q; k; v]` bias when the architecture has one.
    var qkvBias: [Float]?
    var output: WeightMatrix
    var outputBias: [Float]?
    var mlpNorm: [Float]
    var mlpNormBias: [Float]?
    /// SwiGLU gate (Llama family); `nil` for GPT-2.
    var gate: WeightMatrix?
    var up: WeightMatrix
    var upBias: [Float]?
    var down: WeightMatrix
    var downBias: [Float]?
}

/// All weights of a model.
struct ModelWeights: Sendable {
    var embedding: WeightMatrix
    var positionEmbedding: WeightMatrix?
    var layers: [LayerWeights]
    var finalNorm: [Float]
    var finalNormBias: [Float]?
    /// The output projection; the embedding matrix itself when embeddings are tied.
    var lmHead: WeightMatrix
}

/// Tensor naming conventions the binder understands.
enum TensorNaming {
    /// Hugging Face / llama2.c names; `gpt2Prefix` is `"transformer."` or `""`.
    case huggingFace(gpt2Prefix: String)
    /// llama.cpp GGUF names (`src/llama-arch.cpp` LLM_TENSOR_NAMES).
    case gguf
}

extension ModelWeights {
    /// Binds every tensor the architecture needs, strictly.
    /// - Throws: `ModelError.weightBinding` listing every missing, mis-shaped and unused tensor.
    static func bind(_ c: ModelConfig, naming: TensorNaming, binder b: WeightBinder) throws -> ModelWeights {
        let H = c.hiddenSize, V = c.vocabularySize, I = c.intermediateSize
        let qW = c.queryWidth, kvW = c.kvWidth
        var layers: [LayerWeights?] = []
        var embedding: WeightMatrix?, positions: WeightMatrix?, lmHead: WeightMatrix?
        var finalNorm: [Float]?, finalNormBias: [Float]?

        switch (c.architecture, naming) {
        case (.gpt2, .huggingFace(let p)):
            b.ignore { $0.hasSuffix(".attn.bias") || $0.hasSuffix(".attn.masked_bias") }
            embedding = b.matrix("\(p)wte.weight", V, H)
            positions = b.matrix("\(p)wpe.weight", c.contextLength, H)
            for i in 0..<c.layerCount {
                let n = "\(p)h.\(i)."
                // Conv1D stores [in, out]: transpose to [out, in] once at load.
                let qkv = b.transposedMatrix(n + "attn.c_attn.weight", rows: qW + 2 * kvW, cols: H)
                let o = b.transposedMatrix(n + "attn.c_proj.weight", rows: H, cols: qW)
                let up = b.transposedMatrix(n + "mlp.c_fc.weight", rows: I, cols: H)
                let down = b.transposedMatrix(n + "mlp.c_proj.weight", rows: H, cols: I)
                layers.append(gpt2Layer(
                    b.vector(n + "ln_1.weight", H), b.vector(n + "ln_1.bias", H), qkv,
                    b.vector(n + "attn.c_attn.bias", qW + 2 * kvW), o, b.vector(n + "attn.c_proj.bias", H),
                    b.vector(n + "ln_2.weight", H), b.vector(n + "ln_2.bias", H),
                    up, b.vector(n + "mlp.c_fc.bias", I), down, b.vector(n + "mlp.c_proj.bias", H)))
            }
            finalNorm = b.vector("\(p)ln_f.weight", H)
            finalNormBias = b.vector("\(p)ln_f.bias", H)
            lmHead = b.matrix("lm_head.weight", V, H, optional: c.tieWordEmbeddings)
        case (.gpt2, .gguf):
            embedding = b.matrix("token_embd.weight", V, H)
            positions = b.matrix("position_embd.weight", c.contextLength, H)
            for i in 0..<c.layerCount {
                let n = "blk.\(i)."
                layers.append(gpt2Layer(
                    b.vector(n + "attn_norm.weight", H), b.vector(n + "attn_norm.bias", H),
                    b.matrix(n + "attn_qkv.weight", qW + 2 * kvW, H), b.vector(n + "attn_qkv.bias", qW + 2 * kvW),
                    b.matrix(n + "attn_output.weight", H, qW), b.vector(n + "attn_output.bias", H),
                    b.vector(n + "ffn_norm.weight", H), b.vector(n + "ffn_norm.bias", H),
                    b.matrix(n + "ffn_up.weight", I, H), b.vector(n + "ffn_up.bias", I),
                    b.matrix(n + "ffn_down.weight", H, I), b.vector(n + "ffn_down.bias", H)))
            }
            finalNorm = b.vector("output_norm.weight", H)
            finalNormBias = b.vector("output_norm.bias", H)
            lmHead = b.matrix("output.weight", V, H, optional: c.tieWordEmbeddings)
        case (_, .huggingFace):
            b.ignore { $0.hasSuffix("rotary_emb.inv_freq") }
            embedding = b.matrix("model.embed_tokens.weight", V, H)
            for i in 0..<c.layerCount {
                let n = "model.layers.\(i)."
                let a = n + "self_attn."
                let bias = c.attentionBias
                let qb = bias ? b.vector(a + "q_proj.bias", qW) : nil
                let kb = bias ? b.vector(a + "k_proj.bias", kvW) : nil
                let vb = bias ? b.vector(a + "v_proj.bias", kvW) : nil
                layers.append(llamaLayer(
                    b.vector(n + "input_layernorm.weight", H),
                    b.matrix(a + "q_proj.weight", qW, H), b.matrix(a + "k_proj.weight", kvW, H),
                    b.matrix(a + "v_proj.weight", kvW, H), bias, qb, kb, vb,
                    b.matrix(a + "o_proj.weight", H, qW), c.outputBias ? b.vector(a + "o_proj.bias", H) : nil,
                    c.outputBias, b.vector(n + "post_attention_layernorm.weight", H),
                    b.matrix(n + "mlp.gate_proj.weight", I, H), b.matrix(n + "mlp.up_proj.weight", I, H),
                    b.matrix(n + "mlp.down_proj.weight", H, I)))
            }
            finalNorm = b.vector("model.norm.weight", H)
            lmHead = b.matrix("lm_head.weight", V, H, optional: c.tieWordEmbeddings)
        case (_, .gguf):
            b.ignore { $0 == "rope_freqs.weight" }
            embedding = b.matrix("token_embd.weight", V, H)
            for i in 0..<c.layerCount {
                let n = "blk.\(i)."
                let bias = c.attentionBias
                let qb = bias ? b.vector(n + "attn_q.bias", qW) : nil
                let kb = bias ? b.vector(n + "attn_k.bias", kvW) : nil
                let vb = bias ? b.vector(n + "attn_v.bias", kvW) : nil
                layers.append(llamaLayer(
                    b.vector(n + "attn_norm.weight", H),
                    b.matrix(n + "attn_q.weight", qW, H), b.matrix(n + "attn_k.weight", kvW, H),
                    b.matrix(n + "attn_v.weight", kvW, H), bias, qb, kb, vb,
                    b.matrix(n + "attn_output.weight", H, qW),
                    c.outputBias ? b.vector(n + "attn_output.bias", H) : nil, c.outputBias,
                    b.vector(n + "ffn_norm.weight", H),
                    b.matrix(n + "ffn_gate.weight", I, H), b.matrix(n + "ffn_up.weight", I, H),
                    b.matrix(n + "ffn_down.weight", H, I)))
            }
            finalNorm = b.vector("output_norm.weight", H)
            lmHead = b.matrix("output.weight", V, H, optional: c.tieWordEmbeddings)
        }
        try b.finish()
        guard let embedding, let finalNorm else { throw ModelError.weightBinding(file: b.file, problems: ["internal: incomplete binding"]) }
        let bound = layers.compactMap { $0 }
        guard bound.count == c.layerCount else {
            throw ModelError.weightBinding(file: b.file, problems: ["internal: incomplete layer binding"])
        }
        return ModelWeights(embedding: embedding, positionEmbedding: positions, layers: bound, finalNorm: finalNorm,
                            finalNormBias: finalNormBias, lmHead: lmHead ?? embedding)
    }

    private static func llamaLayer(
        _ norm: [Float]?, _ q: WeightMatrix?, _ k: WeightMatrix?, _ v: WeightMatrix?, _ hasBias: Bool,
        _ qb: [Float]?, _ kb: [Float]?, _ vb: [Float]?, _ o: WeightMatrix?, _ ob: [Float]?, _ hasOutputBias: Bool,
        _ mlpNorm: [Float]?, _ gate: WeightMatrix?, _ up: WeightMatrix?, _ down: WeightMatrix?
    ) -> LayerWeights? {
        guard let norm, let q, let k, let v, let o, let mlpNorm, let gate, let up, let down else { return nil }
        var qkvBias: [Float]?
        if hasBias {
            guard let qb, let kb, let vb else { return nil }
            qkvBias = qb + kb + vb
        }
        if hasOutputBias && ob == nil { return nil }
        return LayerWeights(attentionNorm: norm, query: q, key: k, value: v, qkvBias: qkvBias, output: o,
                            outputBias: ob, mlpNorm: mlpNorm, gate: gate, up: up, down: down)
    }

    private static func gpt2Layer(
        _ norm: [Float]?, _ normBias: [Float]?, _ qkv: WeightMatrix?, _ qkvBias: [Float]?, _ o: WeightMatrix?,
        _ ob: [Float]?, _ mlpNorm: [Float]?, _ mlpNormBias: [Float]?, _ up: WeightMatrix?, _ upBias: [Float]?,
        _ down: WeightMatrix?, _ downBias: [Float]?
    ) -> LayerWeights? {
        guard let norm, let normBias, let qkv, let qkvBias, let o, let ob, let mlpNorm, let mlpNormBias,
              let up, let upBias, let down, let downBias else { return nil }
        return LayerWeights(attentionNorm: norm, attentionNormBias: normBias, fusedQKV: qkv, qkvBias: qkvBias,
                            output: o, outputBias: ob, mlpNorm: mlpNorm, mlpNormBias: mlpNormBias, gate: nil,
                            up: up, upBias: upBias, down: down, downBias: downBias)
    }
}
