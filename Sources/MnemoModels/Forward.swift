import Foundation
import MnemoTensor

// Port of the decoder forward pass of transformers `modeling_llama.py` / `modeling_qwen2.py` /
// `modeling_gpt2.py` and llama2.c `run.c` `forward()`.
extension LanguageModel {
    /// Runs `tokens` at positions `cache.count ..< cache.count + tokens.count`, appends their keys
    /// and values to `cache`, and returns logits.
    ///
    /// - Parameters:
    ///   - tokens: token ids in `0..<vocabularySize`.
    ///   - cache: a cache made by this model's `makeCache()`.
    ///   - allLogits: `true` returns `tokens.count * vocab` floats (row t = logits after token t);
    ///     `false` returns `vocab` floats for the last token.
    /// - Returns: logits; empty when `tokens` is empty (the cache is unchanged).
    /// - Throws: `ModelError.tokenOutOfRange`, `.positionOutOfRange` (GPT-2 past its learned
    ///   positions), `.cacheMismatch`. Nothing is appended to `cache` when it throws.
    /// - Complexity: O(T × parameters + T × (cache.count + T) × layers × hidden).
    public func forward(_ tokens: [Int], cache: KVCache, allLogits: Bool) throws -> [Float] {
        let c = config
        let T = tokens.count
        guard cache.layerCount == c.layerCount, cache.kvWidth == c.kvWidth else {
            throw ModelError.cacheMismatch(cacheLayers: cache.layerCount, cacheWidth: cache.kvWidth,
                                           modelLayers: c.layerCount, modelWidth: c.kvWidth)
        }
        guard T > 0 else { return [] }
        for t in tokens where t < 0 || t >= c.vocabularySize {
            throw ModelError.tokenOutOfRange(token: t, vocabularySize: c.vocabularySize)
        }
        let start = cache.count
        let end = start + T
        if weights.positionEmbedding != nil, end > c.contextLength {
            throw ModelError.positionOutOfRange(position: end - 1, limit: c.contextLength)
        }
        let H = c.hiddenSize, qW = c.queryWidth, kvW = c.kvWidth, I = c.intermediateSize
        cache.reserve(end)
        cache.rope?.prepare(positionStart: start, positionEnd: end)
        let s = cache.scratch
        let x = s.hidden.ensure(T * H)
        let xn = s.normed.ensure(T * H)
        let q = s.query.ensure(T * qW)
        let attn = s.attention.ensure(T * qW)
        let proj = s.projected.ensure(T * H)
        let gate = s.gate.ensure(T * I)
        let up = s.up.ensure(T * I)

        for t in 0..<T { weights.embedding.dequantizeRow(tokens[t], into: x + t * H) }
        if let pos = weights.positionEmbedding {
            for t in 0..<T {
                pos.dequantizeRow(start + t, into: proj)
                Ops.add(x + t * H, proj, count: H)
            }
        }

        for (l, w) in weights.layers.enumerated() {
            norm(x, rows: T, weight: w.attentionNorm, bias: w.attentionNormBias, into: xn)
            let keys = cache.keys[l] + start * kvW
            let values = cache.values[l] + start * kvW
            if let fused = w.fusedQKV {
                let width = qW + 2 * kvW
                let qkv = s.fused.ensure(T * width)
                fused.matmul(xn, count: T, into: qkv)
                if let b = w.qkvBias { b.withUnsafeBufferPointer { Ops.addBias(qkv, $0.baseAddress!, rows: T, count: width) } }
                for t in 0..<T {
                    (q + t * qW).update(from: qkv + t * width, count: qW)
                    (keys + t * kvW).update(from: qkv + t * width + qW, count: kvW)
                    (values + t * kvW).update(from: qkv + t * width + qW + kvW, count: kvW)
                }
            } else if let wq = w.query, let wk = w.key, let wv = w.value {
                wq.matmul(xn, count: T, into: q)
                wk.matmul(xn, count: T, into: keys)
                wv.matmul(xn, count: T, into: values)
                if let b = w.qkvBias {
                    b.withUnsafeBufferPointer { b in
                        Ops.addBias(q, b.baseAddress!, rows: T, count: qW)
                        Ops.addBias(keys, b.baseAddress! + qW, rows: T, count: kvW)
                        Ops.addBias(values, b.baseAddress! + qW + kvW, rows: T, count: kvW)
                    }
                }
            }
            if let rope = cache.rope {
                for t in 0..<T {
                    rope.rotate(q + t * qW, heads: c.headCount, headDim: c.headDim, position: start + t)
                    rope.rotate(keys + t * kvW, heads: c.kvHeadCount, headDim: c.headDim, position: start + t)
                }
            }
            let shape = AttentionShape(headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
                                       window: c.slidingWindow)
            Attention.causal(shape, query: q, keys: cache.keys[l], values: cache.values[l], start: start, count: T,
                             scratch: s.scores, into: attn)
            w.output.matmul(attn, count: T, into: proj)
            if let b = w.outputBias { b.withUnsafeBufferPointer { Ops.addBias(proj, $0.baseAddress!, rows: T, count: H) } }
            Ops.add(x, proj, count: T * H)

            norm(x, rows: T, weight: w.mlpNorm, bias: w.mlpNormBias, into: xn)
            w.up.matmul(xn, count: T, into: up)
            if let b = w.upBias { b.withUnsafeBufferPointer { Ops.addBias(up, $0.baseAddress!, rows: T, count: I) } }
            if let g = w.gate {
                g.matmul(xn, count: T, into: gate)
                Ops.siluMultiply(gate, up, count: T * I)
                w.down.matmul(gate, count: T, into: proj)
            } else {
                Ops.gelu(up, count: T * I, tanhApproximation: c.activation == .geluTanh)
                w.down.matmul(up, count: T, into: proj)
            }
            if let b = w.downBias { b.withUnsafeBufferPointer { Ops.addBias(proj, $0.baseAddress!, rows: T, count: H) } }
            Ops.add(x, proj, count: T * H)
        }
        cache.count = end

        let first = allLogits ? 0 : T - 1
        let rows = T - first
        norm(x + first * H, rows: rows, weight: weights.finalNorm, bias: weights.finalNormBias, into: xn)
        var logits = [Float](repeating: 0, count: rows * c.vocabularySize)
        logits.withUnsafeMutableBufferPointer { out in
            weights.lmHead.matmul(xn, count: rows, into: out.baseAddress!)
        }
        return logits
    }

    /// RMSNorm (Llama family) or LayerNorm (GPT-2, when `bias` is given) of `rows` rows.
    private func norm(_ x: UnsafePointer<Float>, rows: Int, weight: [Float], bias: [Float]?,
                      into out: UnsafeMutablePointer<Float>) {
        let H = config.hiddenSize
        let eps = config.normEpsilon
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    for t in 0..<rows {
                        Ops.layerNorm(x + t * H, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: eps, count: H,
                                      into: out + t * H)
                    }
                }
            } else {
                for t in 0..<rows {
                    Ops.rmsNorm(x + t * H, weight: w.baseAddress!, epsilon: eps, count: H, into: out + t * H)
                }
            }
        }
    }
}
