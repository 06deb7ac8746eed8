internal import CMnemoKernels

/// Element-wise and reduction kernels on f32 vectors (single-threaded, SIMD where it matters).
///
/// Every function takes raw pointers and an element count; outputs may alias inputs where
/// stated. Each has a naive reference in the tests.
public enum Kernels {
    /// RMS normalization (Llama): `out[i] = x[i] / sqrt(mean(x²) + eps) · weight[i]`; the mean of
    /// squares is accumulated in Double. `out` may alias `x`.
    /// - Complexity: O(n).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
                               into out: UnsafeMutablePointer<Float>, count n: Int) {
        precondition(n > 0, "Kernels.rmsNorm: count must be positive")
        mnemo_rms_norm(x, weight, epsilon, out, n)
    }

    /// Layer normalization (GPT-2): `out[i] = (x[i] - μ) / sqrt(σ² + eps) · weight[i] + bias[i]`
    /// with the biased variance σ² = mean((x - μ)²); statistics in Double. `bias` may be nil,
    /// `out` may alias `x`.
    /// - Complexity: O(n).
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, epsilon: Float,
                                 into out: UnsafeMutablePointer<Float>, count n: Int) {
        precondition(n > 0, "Kernels.layerNorm: count must be positive")
        mnemo_layer_norm(x, weight, bias, epsilon, out, n)
    }

    /// Numerically stable softmax in place: `x[i] = exp(x[i] - max x) / Σ_j exp(x[j] - max x)`
    /// (sum in Double, exp as in `Kernels.exp`). Entries equal to `-inf` become 0 (masking); at
    /// least one entry must be finite.
    /// - Complexity: O(n).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        precondition(n > 0, "Kernels.softmax: count must be positive")
        mnemo_softmax(x, n)
    }

    /// `out[i] = exp(x[i])`. AVX2 path: Cephes-style polynomial (relative error < 4·2⁻²⁴ for
    /// x in [-87, 88]; results under ~1.2e-38 flush to 0, x > 88.02 saturates at ~1.6e38);
    /// portable path: libm `expf`. `out` may alias `x`.
    /// - Complexity: O(n).
    public static func exp(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        mnemo_exp(x, out, n)
    }

    /// SwiGLU gate: `out[i] = silu(gate[i]) · up[i]` with `silu(g) = g / (1 + exp(-g))`.
    /// `out` may alias `gate` or `up`.
    /// - Complexity: O(n).
    public static func siluMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                               into out: UnsafeMutablePointer<Float>, count n: Int) {
        mnemo_silu_mul(gate, up, out, n)
    }

    /// GELU variants.
    public enum GELUApproximation: String, Sendable, CaseIterable {
        /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`: HF "gelu_new" / "gelu_pytorch_tanh" (GPT-2).
        case tanh
        /// Exact `0.5 x (1 + erf(x / √2))`: HF "gelu".
        case none
    }

    /// `out[i] = gelu(x[i])` with the given approximation. `out` may alias `x`.
    /// - Complexity: O(n).
    public static func gelu(_ x: UnsafePointer<Float>, approximation: GELUApproximation,
                            into out: UnsafeMutablePointer<Float>, count n: Int) {
        switch approximation {
        case .tanh: mnemo_gelu_tanh(x, out, n)
        case .none: mnemo_gelu_erf(x, out, n)
        }
    }

    /// `out[i] = a[i] + b[i]` (residual connections). `out` may alias `a` or `b`.
    /// - Complexity: O(n).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           into out: UnsafeMutablePointer<Float>, count n: Int) {
        mnemo_add(a, b, out, n)
    }

    /// `x[i] *= alpha`.
    /// - Complexity: O(n).
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count n: Int) {
        mnemo_scale(x, alpha, n)
    }

    /// `Σ_i a[i] · b[i]` (f32 accumulation in 32 lanes, then a tree sum).
    /// - Complexity: O(n).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        mnemo_dot(a, b, n)
    }

    /// `y[i] += alpha · x[i]` (attention value accumulation).
    /// - Complexity: O(n).
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            count n: Int) {
        mnemo_axpy(alpha, x, y, n)
    }

    /// Index of the first largest element (NaNs ignored; 0 when `n == 0` or all are NaN).
    /// - Complexity: O(n).
    public static func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        Int(mnemo_argmax(x, n))
    }

    /// The SIMD path the C kernels use on this machine: `"avx2+fma+f16c"` or `"scalar"`.
    public static var instructionSet: String {
        mnemo_kernels_cpu_features() & Int32(MNEMO_CPU_AVX2_FMA_F16C) != 0 ? "avx2+fma+f16c" : "scalar"
    }

    /// Forces the portable scalar kernels (`true`) or restores CPU dispatch; process-wide, for
    /// tests and benchmarks comparing the two paths.
    public static func forceScalarKernels(_ enabled: Bool) {
        mnemo_kernels_force_scalar(enabled ? 1 : 0)
    }
}
