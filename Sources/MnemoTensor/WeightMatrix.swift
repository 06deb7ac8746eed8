internal import CMnemoKernels

/// A read-only 2-D weight matrix of `rows × cols`, row-major, stored as `dtype` somewhere in
/// memory (usually a memory-mapped model file kept alive by `owner`).
///
/// The convention is the Hugging Face `nn.Linear` one: `rows` = output features, `cols` = input
/// features, `y = W x`.
///
/// The naive per-element versions (`referenceDequantizeRow`, `referenceMatvec`,
/// `referenceMatmul`) are kept as the specification the SIMD kernels are tested against.
public struct WeightMatrix: @unchecked Sendable {
    // @unchecked Sendable: the storage is immutable after load (read-only mmap or an owned,
    // never-mutated buffer), so concurrent reads are safe.
    public let dtype: DType
    public let rows: Int
    public let cols: Int
    public let base: UnsafeRawPointer
    /// Keeps the storage alive (a mapped file or an owned buffer).
    public let owner: AnyObject?

    /// Bytes of one stored row.
    public var rowBytes: Int { (cols / dtype.blockElements) * dtype.blockBytes }

    public init(dtype: DType, rows: Int, cols: Int, base: UnsafeRawPointer, owner: AnyObject?) {
        precondition(rows >= 0 && cols >= 0 && cols % dtype.blockElements == 0,
                     "WeightMatrix: cols must be a whole number of \(dtype) blocks")
        self.dtype = dtype
        self.rows = rows
        self.cols = cols
        self.base = base
        self.owner = owner
    }

    /// Dequantizes row `r` into `out[0..<cols]` (SIMD; exact: every stored value converts to
    /// f32 without rounding, and Q8_0 multiplies `d * q` once in f32).
    /// - Complexity: O(cols).
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "WeightMatrix.dequantizeRow: row \(r) outside 0..<\(rows)")
        mnemo_dequantize_rows(dtype.kernelType, base, rowBytes, cols, out, r, r + 1)
    }

    /// Dequantizes rows `begin..<end` into `out`, densely (`cols` floats per row), splitting the
    /// rows over `Threading.threadCount` threads when the work is large enough.
    /// - Complexity: O((end - begin) · cols).
    public func dequantizeRows(_ begin: Int, _ end: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(begin >= 0 && begin <= end && end <= rows,
                     "WeightMatrix.dequantizeRows: \(begin)..<\(end) outside 0..<\(rows)")
        let threads = (end - begin) * cols >= 65_536 ? Threading.threadCount : 1
        let type = dtype.kernelType, base = base, rowBytes = rowBytes, cols = cols
        Threading.forEachChunk(count: end - begin, threads: threads) { b, e in
            mnemo_dequantize_rows(type, base, rowBytes, cols, out + b * cols, begin + b, begin + e)
        }
    }

    /// `y[0..<rows] = W · x[0..<cols]`, multi-threaded over row chunks (`Threading.threadCount`)
    /// with AVX2 kernels (4 rows per pass sharing each load of `x`). F32/F16/BF16 results equal
    /// the f32 dot product up to accumulation order; Q8_0 follows `WeightMatrix.q8MatvecMode`.
    /// `x` and `y` must not overlap.
    /// - Complexity: O(rows · cols); memory-bound (reads `rows · rowBytes` bytes once).
    public func matvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        matvec(x, into: y, threads: Threading.threadCount)
    }

    /// `Y[t, :] = W · X[t, :]` for `t` in `0..<count`; `X` is `count × cols`, `Y` is `count × rows`,
    /// both row-major. F32 calls `cblas_sgemm` on the weights in place; F16/BF16/Q8_0 dequantize
    /// row tiles (thread-parallel) into an f32 scratch of about `matmulScratchFloats` floats and
    /// call `cblas_sgemm` per tile; `count == 1` is `matvec`.
    /// - Complexity: O(count · rows · cols).
    public func matmul(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(count >= 0, "WeightMatrix.matmul: negative count \(count)")
        if count == 1 {
            matvec(x, into: y)
            return
        }
        guard count > 0, rows > 0 else { return }
        guard cols > 0 else {
            y.update(repeating: 0, count: count * rows)
            return
        }
        if dtype == .f32 {
            BLAS.sgemm(transB: .transpose, m: count, n: rows, k: cols, a: x, lda: cols,
                       b: base.assumingMemoryBound(to: Float.self), ldb: cols, c: y, ldc: rows)
            return
        }
        let tileRows = min(rows, max(4, (WeightMatrix.matmulScratchFloats / cols) & ~3))
        ScratchPool.shared.withBuffer(count: tileRows * cols) { scratch in
            var begin = 0
            while begin < rows {
                let end = min(rows, begin + tileRows)
                dequantizeRows(begin, end, into: scratch)
                BLAS.sgemm(transB: .transpose, m: count, n: end - begin, k: cols, a: x, lda: cols,
                           b: scratch, ldb: cols, c: y + begin, ldc: rows)
                begin = end
            }
        }
    }
}
