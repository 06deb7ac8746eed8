import Dispatch
import MnemoTensor

/// Head layout of one attention layer.
struct AttentionShape: Sendable {
    var headCount: Int
    var kvHeadCount: Int
    var headDim: Int
    var queryWidth: Int { headCount * headDim }
    var kvWidth: Int { kvHeadCount * headDim }
    /// Query heads per kv head (grouped-query attention).
    var group: Int { headCount / kvHeadCount }
    /// Sliding attention window (`nil` = full causal).
    var window: Int? = nil

    /// First key position a query at `position` may attend.
    @inline(__always)
    func firstKey(_ position: Int) -> Int {
        guard let window else { return 0 }
        return max(0, position - window + 1)
    }
}

/// Causal scaled-dot-product attention over a KV cache (transformers `eager_attention_forward`,
/// llama2.c `run.c` multihead attention).
enum Attention {
    /// Attends `count` new queries at positions `start ..< start+count` to cached keys/values at
    /// positions `0 ..< start+count` (row `p` of `keys`/`values` = position `p`, row stride
    /// `kvWidth`). Query head `h` reads kv head `h / group`. Writes `count × queryWidth` to `out`.
    ///
    /// Prefill (`count > 1`) uses BLAS: per head `S = Q Kᵀ / √d` (sgemm), causal mask + softmax per
    /// row, `O = P V` (sgemm), queries in chunks so the score block stays ≤ 4 Mi floats. Decode
    /// (`count == 1`) uses dot/axpy kernels (heads in parallel) for short caches and, from 64
    /// positions on, one sgemm pair per kv head covering its whole query-head group.
    /// - Complexity: O(heads × count × (start + count) × headDim).
    static func causal(_ shape: AttentionShape, query: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                       values: UnsafePointer<Float>, start: Int, count T: Int, scratch: ScratchBuffer,
                       into out: UnsafeMutablePointer<Float>) {
        if T == 1 {
            decode(shape, query: query, keys: keys, values: values, length: start + 1,
                   scores: scratch.ensure(shape.headCount * (start + 1)), into: out)
        } else {
            prefill(shape, query: query, keys: keys, values: values, start: start, count: T, scratch: scratch, into: out)
        }
    }

    private static func prefill(_ s: AttentionShape, query: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                                values: UnsafePointer<Float>, start: Int, count T: Int, scratch: ScratchBuffer,
                                into out: UnsafeMutablePointer<Float>) {
        let D = s.headDim, qW = s.queryWidth, kvW = s.kvWidth
        let end = start + T
        let scale = 1 / Float(D).squareRoot()
        let chunk = max(1, min(T, (1 << 22) / end))
        let scores = scratch.ensure(chunk * end)
        for h in 0..<s.headCount {
            let kvh = h / s.group
            var t0 = 0
            while t0 < T {
                let rows = min(chunk, T - t0)
                // Keys needed by this chunk: positions 0 ..< start + t0 + rows.
                let width = start + t0 + rows
                BLAS.sgemm(transB: .transpose, m: rows, n: width, k: D, alpha: scale,
                           a: query + t0 * qW + h * D, lda: qW, b: keys + kvh * D, ldb: kvW,
                           c: scores, ldc: width)
                for r in 0..<rows {
                    let row = scores + r * width
                    let valid = start + t0 + r + 1
                    let lo = s.firstKey(valid - 1)
                    Ops.softmax(row + lo, count: valid - lo)
                    if lo > 0 { row.update(repeating: 0, count: lo) }
                    if valid < width { (row + valid).update(repeating: 0, count: width - valid) }
                }
                BLAS.sgemm(m: rows, n: D, k: width, a: scores, lda: width, b: values + kvh * D, ldb: kvW,
                           c: out + t0 * qW + h * D, ldc: qW)
                t0 += rows
            }
        }
    }

    private static func decode(_ s: AttentionShape, query: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                               values: UnsafePointer<Float>, length: Int, scores: UnsafeMutablePointer<Float>,
                               into out: UnsafeMutablePointer<Float>) {
        let D = s.headDim, kvW = s.kvWidth, group = s.group
        let scale = 1 / Float(D).squareRoot()
        let lo = s.firstKey(length - 1)
        let q = SendablePointer(UnsafeMutablePointer(mutating: query))
        let k = SendablePointer(UnsafeMutablePointer(mutating: keys))
        let v = SendablePointer(UnsafeMutablePointer(mutating: values))
        let sc = SendablePointer(scores), o = SendablePointer(out)
        let work: @Sendable (Int) -> Void = { h in
            let kvh = h / group
            let row = sc.pointer + h * length
            let qh = q.pointer + h * D
            for j in lo..<length { row[j] = Ops.dot(qh, k.pointer + j * kvW + kvh * D, count: D) * scale }
            Ops.softmax(row + lo, count: length - lo)
            let oh = o.pointer + h * D
            oh.update(repeating: 0, count: D)
            for j in lo..<length { Ops.axpy(row[j], v.pointer + j * kvW + kvh * D, oh, count: D) }
        }
        if length >= 64 {
            // Long caches: one sgemm pair per kv head over its `group` query heads, whose query and
            // output rows are contiguous (heads kvh*group ..< (kvh+1)*group).
            for kvh in 0..<s.kvHeadCount {
                let h0 = kvh * group
                let rows = scores + h0 * length
                BLAS.sgemm(transB: .transpose, m: group, n: length, k: D, alpha: scale, a: query + h0 * D, lda: D,
                           b: keys + kvh * D, ldb: kvW, c: rows, ldc: length)
                for g in 0..<group { Ops.softmax(rows + g * length + lo, count: length - lo) }
                if lo > 0 { for g in 0..<group { (rows + g * length).update(repeating: 0, count: lo) } }
                BLAS.sgemm(m: group, n: D, k: length, a: rows, lda: length, b: values + kvh * D, ldb: kvW,
                           c: out + h0 * D, ldc: D)
            }
            return
        }
        let threads = min(Threading.threadCount, s.headCount)
        if threads > 1 && length * D * s.headCount >= 1 << 16 {
            // Heads split into `threads` contiguous ranges; each writes only its own rows.
            DispatchQueue.concurrentPerform(iterations: threads) { part in
                for h in (s.headCount * part / threads)..<(s.headCount * (part + 1) / threads) { work(h) }
            }
        } else {
            for h in 0..<s.headCount { work(h) }
        }
    }
}

/// A raw pointer handed to `concurrentPerform` workers that write disjoint ranges.
struct SendablePointer<T>: @unchecked Sendable {
    // @unchecked Sendable: each worker touches a disjoint slice and the owner outlives the
    // synchronous concurrentPerform call.
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
