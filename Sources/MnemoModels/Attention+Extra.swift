import Foundation
import MnemoTensor

extension Attention {
    /// Causal attention over the cache plus per-query retrieved pairs (`extra`), fused by
    /// `extra.fusion`. Same layout and masking as `causal(_:query:keys:values:start:count:scratch:into:)`.
    ///
    /// Joint softmax: for query row `t`, head `h`, the scores `q·k/√d` over the visible cache rows and
    /// over the row's retrieved keys share one softmax, and the output sums both value sets.
    /// Gate: `y = (1 - g_h) softmax_local·V + g_h softmax_mem·V_mem` (rows without retrieved entries
    /// keep `y_local`).
    /// - Complexity: O(heads × count × (start + count + extra.capacity) × headDim).
    static func causal(_ s: AttentionShape, query: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                       values: UnsafePointer<Float>, start: Int, count T: Int, extra: ExtraAttention,
                       scratch: ScratchBuffer, into out: UnsafeMutablePointer<Float>) {
        let D = s.headDim, qW = s.queryWidth, kvW = s.kvWidth
        let end = start + T
        let scale = 1 / Float(D).squareRoot()
        let K = extra.capacity
        let chunk = max(1, min(T, (1 << 22) / (end + K)))
        let scores = scratch.ensure(chunk * (end + K))
        let memScores = scores + chunk * end
        var gates: [Float]? = nil
        if case let .gate(g) = extra.fusion { gates = g }
        extra.keys.withUnsafeBufferPointer { ek in
            extra.values.withUnsafeBufferPointer { ev in
                let ek = ek.baseAddress!, ev = ev.baseAddress!
                for h in 0..<s.headCount {
                    let kvh = h / s.group
                    var t0 = 0
                    while t0 < T {
                        let rows = min(chunk, T - t0)
                        let width = start + t0 + rows
                        BLAS.sgemm(transB: .transpose, m: rows, n: width, k: D, alpha: scale,
                                   a: query + t0 * qW + h * D, lda: qW, b: keys + kvh * D, ldb: kvW,
                                   c: scores, ldc: width)
                        for r in 0..<rows {
                            let t = t0 + r
                            let row = scores + r * width
                            let mem = memScores + r * K
                            let valid = start + t + 1
                            let lo = s.firstKey(valid - 1)
                            let n = Int(extra.counts[t * s.headCount + h])
                            let qh = query + t * qW + h * D
                            for j in 0..<n {
                                mem[j] = Ops.dot(qh, ek + extra.offset(row: t, head: h, entry: j), count: D) * scale
                            }
                            if gates != nil {
                                Ops.softmax(row + lo, count: valid - lo)
                                if n > 0 { Ops.softmax(mem, count: n) }
                            } else {
                                var m = -Float.infinity
                                for j in lo..<valid { m = max(m, row[j]) }
                                for j in 0..<n { m = max(m, mem[j]) }
                                var sum: Float = 0
                                for j in lo..<valid { row[j] = Foundation.exp(row[j] - m); sum += row[j] }
                                for j in 0..<n { mem[j] = Foundation.exp(mem[j] - m); sum += mem[j] }
                                let inv = 1 / sum
                                for j in lo..<valid { row[j] *= inv }
                                for j in 0..<n { mem[j] *= inv }
                            }
                            if lo > 0 { row.update(repeating: 0, count: lo) }
                            if valid < width { (row + valid).update(repeating: 0, count: width - valid) }
                        }
                        BLAS.sgemm(m: rows, n: D, k: width, a: scores, lda: width, b: values + kvh * D, ldb: kvW,
                                   c: out + t0 * qW + h * D, ldc: qW)
                        for r in 0..<rows {
                            let t = t0 + r
                            let n = Int(extra.counts[t * s.headCount + h])
                            guard n > 0 else { continue }
                            let o = out + t * qW + h * D
                            let mem = memScores + r * K
                            if let gates {
                                let g = gates[h]
                                for d in 0..<D { o[d] *= 1 - g }
                                for j in 0..<n { Ops.axpy(g * mem[j], ev + extra.offset(row: t, head: h, entry: j), o, count: D) }
                            } else {
                                for j in 0..<n { Ops.axpy(mem[j], ev + extra.offset(row: t, head: h, entry: j), o, count: D) }
                            }
                        }
                        t0 += rows
                    }
                }
            }
        }
    }
}
