internal import CMnemoKernels

/// How `WeightMatrix.matvec` handles the activation vector for Q8_0 weights.
public enum Q8MatvecMode: String, Sendable, CaseIterable {
    /// Weights dequantized in registers and multiplied with f32 `x` by FMA: the only error is
    /// f32 rounding in the accumulation (same as F32/F16 weights).
    case f32Activations
    /// `x` quantized once per call to blocks of 32 int8 with an f32 scale (`d = max|x| / 127`,
    /// like llama.cpp's `quantize_row_q8_0`), then integer block dot products
    /// (`ggml_vec_dot_q8_0_q8_0`). Adds the activation rounding error: each `x[i]` moves by at
    /// most `d / 2 = max|x_block| / 254`, so `|y - y_f32| <= sum_blocks (max|x_b| / 254) · sum|w_b|`
    /// (measured on a random 1536x576 Q8_0 matrix with outlier-heavy activations: median 0.1%,
    /// 99th percentile 0.4%, max 0.9% of `sum|w·x|` per row).
    case quantizedActivations
}

extension WeightMatrix {
    private static let q8Mode = LockedSetting(Q8MatvecMode.f32Activations)
    private static let parallelThreshold = LockedSetting(96 * 1024)

    /// The Q8_0 matvec path in use (process-wide). Default `.f32Activations`: it is exact up to
    /// f32 rounding and its compute (~15 G multiply-adds/s per Zen 3 core, ~16 GB/s of Q8_0)
    /// outruns DRAM on two threads; `.quantizedActivations` is ~1.45x faster per core when the
    /// weights are in cache.
    /// `matmul` with `count > 1` always dequantizes to f32.
    public static var q8MatvecMode: Q8MatvecMode {
        get { q8Mode.current }
        set { q8Mode.current = newValue }
    }

    /// Matrices with fewer stored bytes than this run `matvec` on one thread (thread start-up
    /// costs more than it saves). Default 96 KiB.
    public static var parallelMatvecThresholdBytes: Int {
        get { parallelThreshold.current }
        set { parallelThreshold.current = max(0, newValue) }
    }

    /// Floats of f32 scratch per tile in `matmul` for non-F32 weights (1 Mi floats = 4 MiB,
    /// which stays in the L3 cache while OpenBLAS streams it).
    public static let matmulScratchFloats = 1 << 20

    /// `matvec` with an explicit thread count (1 = single-threaded).
    /// - Complexity: O(rows · cols).
    public func matvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int) {
        guard rows > 0 else { return }
        guard cols > 0 else {
            y.update(repeating: 0, count: rows)
            return
        }
        let bytes = rows * rowBytes
        let threads = bytes < WeightMatrix.parallelMatvecThresholdBytes ? 1 : threads
        let type = dtype.kernelType, base = base, rowBytes = rowBytes, cols = cols
        if dtype == .q8_0 && WeightMatrix.q8MatvecMode == .quantizedActivations {
            let byteCount = mnemo_q8_activation_bytes(cols)
            withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 64) { xq in
                mnemo_quantize_q8_activation(x, cols, xq.baseAddress!)
                let xq = UnsafeRawPointer(xq.baseAddress!)
                Threading.forEachChunk(count: rows, granularity: 4, threads: threads) { begin, end in
                    mnemo_matvec_q8_0_q8_rows(base, rowBytes, cols, xq, y, begin, end)
                }
            }
            return
        }
        Threading.forEachChunk(count: rows, granularity: 4, threads: threads) { begin, end in
            mnemo_matvec_rows(type, base, rowBytes, cols, x, y, begin, end)
        }
    }
}

extension DType {
    /// The C kernels' name for this storage type.
    var kernelType: mnemo_dtype {
        switch self {
        case .f32: return MNEMO_DTYPE_F32
        case .f16: return MNEMO_DTYPE_F16
        case .bf16: return MNEMO_DTYPE_BF16
        case .q8_0: return MNEMO_DTYPE_Q8_0
        }
    }
}
