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
        guard !tokens.isEmpty else {
            try checkCache(cache)
            return []
        }
        let rows = allLogits ? 0..<tokens.count : (tokens.count - 1)..<tokens.count
        return try forward(inputs: tokens.map(ModelInput.token), cache: cache, hook: nil, logitRows: rows).logits
    }

    /// The general forward pass: `inputs` (tokens or embeddings) at cache rows
    /// `cache.count ..< cache.count + inputs.count`, with an optional `hook` that adds retrieved
    /// memories to chosen layers' attention.
    ///
    /// - Parameters:
    ///   - logitRows: input rows whose logits are returned (may be empty).
    ///   - hiddenRows: input rows whose final normed hidden states are returned (RMT write block).
    ///   - positionOffset: added to the cache row to index learned position embeddings (GPT-2), so a
    ///     re-based window can keep its tokens' true positions; RoPE keys always use the cache row.
    /// - Throws: as `forward(_:cache:allLogits:)`, `ModelError.invalidInput` for a wrong embedding
    ///   length or row range, and whatever `hook` throws. Nothing is appended to `cache` when it throws.
    public func forward(inputs: [ModelInput], cache: KVCache, hook: (any AttentionHook)?,
                        logitRows: Range<Int>, hiddenRows: Range<Int> = 0..<0,
                        positionOffset: Int = 0) throws -> ForwardOutput {
        let c = config
        let T = inputs.count
        try checkCache(cache)
        guard logitRows.lowerBound >= 0, logitRows.upperBound <= T, hiddenRows.lowerBound >= 0, hiddenRows.upperBound <= T
        else {
            throw ModelError.invalidInput("rows \(logitRows) / \(hiddenRows) outside 0..<\(T)")
        }
        guard T > 0 else { return ForwardOutput(logits: [], logitRows: logitRows, hidden: [], hiddenRows: hiddenRows) }
        for input in inputs {
            switch input {
            case .token(let t) where t < 0 || t >= c.vocabularySize:
                throw ModelError.tokenOutOfRange(token: t, vocabularySize: c.vocabularySize)
            case .embedding(let e) where e.count != c.hiddenSize:
                throw ModelError.invalidInput("embedding of \(e.count) floats; the model's hidden size is \(c.hiddenSize)")
            default: break
            }
        }
        let start = cache.count
        let end = start + T
        if weights.positionEmbedding != nil, positionOffset < 0 || end > c.contextLength - positionOffset {
            throw ModelError.positionOutOfRange(position: end - 1 + positionOffset, limit: c.contextLength)
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

        for t in 0..<T {
            switch inputs[t] {
            case .token(let id): weights.embedding.dequantizeRow(id, into: x + t * H)
            case .embedding(let e): e.withUnsafeBufferPointer { (x + t * H).update(from: $0.baseAddress!, count: H) }
            }
        }
        if let pos = weights.positionEmbedding {
            for t in 0..<T {
                pos.dequantizeRow(positionOffset + start + t, into: proj)
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
            let extra = try hook?.attention(layer: l, input: LayerAttentionInput(normedInput: xn, queries: q,
                                                                                start: start, count: T))
            if let extra {
                guard extra.rows == T, extra.headCount == c.headCount, extra.headDim == c.headDim else {
                    throw ModelError.invalidInput("layer \(l): retrieved memory shaped \(extra.rows)x\(extra.headCount)x\(extra.headDim)")
                }
                Attention.causal(shape, query: q, keys: cache.keys[l], values: cache.values[l], start: start, count: T,
                                 extra: extra, scratch: s.scores, into: attn)
            } else {
                Attention.causal(shape, query: q, keys: cache.keys[l], values: cache.values[l], start: start, count: T,
                                 scratch: s.scores, into: attn)
            }
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

        var output = ForwardOutput(logits: [], logitRows: logitRows, hidden: [], hiddenRows: hiddenRows)
        let first = min(logitRows.lowerBound, hiddenRows.isEmpty ? Int.max : hiddenRows.lowerBound)
        let last = max(logitRows.upperBound, hiddenRows.upperBound)
        guard first < last else { return output }
        norm(x + first * H, rows: last - first, weight: weights.finalNorm, bias: weights.finalNormBias, into: xn + first * H)
        if !hiddenRows.isEmpty {
            output.hidden = Array(UnsafeBufferPointer(start: xn + hiddenRows.lowerBound * H, count: hiddenRows.count * H))
        }
        if !logitRows.isEmpty {
            output.logits = [Float](repeating: 0, count: logitRows.count * c.vocabularySize)
            output.logits.withUnsafeMutableBufferPointer { out in
                weights.lmHead.matmul(xn + logitRows.lowerBound * H, count: logitRows.count, into: out.baseAddress!)
            }
        }
        return output
    }

    private func checkCache(_ cache: KVCache) throws {
        guard cache.layerCount == config.layerCount, cache.kvWidth == config.kvWidth else {
            throw ModelError.cacheMismatch(cacheLayers: cache.layerCount, cacheWidth: cache.kvWidth,
                                           modelLayers: config.layerCount, modelWidth: config.kvWidth)
        }
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
