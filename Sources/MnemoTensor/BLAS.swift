internal import CMnemoBLAS

/// Row-major single-precision BLAS (OpenBLAS) for attention and prefill matrix products.
public enum BLAS {
    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable {
        case noTranspose
        case transpose
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major; `op(A)` is `m × k`, `op(B)` is
    /// `k × n`, `C` is `m × n`. `lda`/`ldb`/`ldc` are row strides in elements of the matrices
    /// as stored (for `A` stored transposed, `A` is `k × m` and `lda >= m`).
    ///
    /// ```swift
    /// // scores[T, S] = Q[T, d] · K[S, d]^T
    /// BLAS.sgemm(transB: .transpose, m: T, n: S, k: d, a: q, lda: d, b: k, ldb: d, c: scores, ldc: S)
    /// ```
    /// Uses `Threading.threadCount` OpenBLAS threads.
    /// - Complexity: O(m · n · k).
    public static func sgemm(transA: Transpose = .noTranspose, transB: Transpose = .noTranspose,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "BLAS.sgemm: negative dimension")
        precondition(lda >= max(1, transA == .noTranspose ? k : m), "BLAS.sgemm: lda \(lda) too small")
        precondition(ldb >= max(1, transB == .noTranspose ? n : k), "BLAS.sgemm: ldb \(ldb) too small")
        precondition(ldc >= max(1, n), "BLAS.sgemm: ldc \(ldc) too small")
        guard m > 0, n > 0 else { return }
        _ = Threading.threadCount   // makes sure OpenBLAS has been told the thread count
        cblas_sgemm(CblasRowMajor,
                    transA == .noTranspose ? CblasNoTrans : CblasTrans,
                    transB == .noTranspose ? CblasNoTrans : CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
