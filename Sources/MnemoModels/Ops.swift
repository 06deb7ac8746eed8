import Foundation
import MnemoTensor

/// The forward pass's element-wise kernels, delegating to MnemoTensor's SIMD `Kernels`.
enum Ops {
    /// `out = x / sqrt(mean(x²) + eps) * weight` (transformers `LlamaRMSNorm`, llama2.c `rmsnorm`).
    /// - Complexity: O(n).
    @inline(__always)
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float, count n: Int,
                        into out: UnsafeMutablePointer<Float>) {
        Kernels.rmsNorm(x, weight: weight, epsilon: epsilon, into: out, count: n)
    }

    /// `out = (x - mean) / sqrt(var + eps) * weight + bias` (PyTorch `nn.LayerNorm`, biased variance).
    /// - Complexity: O(n).
    @inline(__always)
    static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                          epsilon: Float, count n: Int, into out: UnsafeMutablePointer<Float>) {
        Kernels.layerNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: out, count: n)
    }

    /// `gate[i] = silu(gate[i]) * up[i]` (SwiGLU).
    @inline(__always)
    static func siluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        Kernels.siluMul(gate: gate, up: up, into: gate, count: n)
    }

    /// GPT-2 `gelu_new` (tanh approximation) or exact erf GELU, in place.
    @inline(__always)
    static func gelu(_ x: UnsafeMutablePointer<Float>, count n: Int, tanhApproximation: Bool) {
        Kernels.gelu(x, approximation: tanhApproximation ? .tanh : .none, into: x, count: n)
    }

    /// `x[t * n + i] += bias[i]` for `rows` rows.
    static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, count n: Int) {
        for t in 0..<rows { Kernels.add(x + t * n, bias, into: x + t * n, count: n) }
    }

    /// `x[i] += y[i]`.
    @inline(__always)
    static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) {
        Kernels.add(x, y, into: x, count: n)
    }

    /// Dot product.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        Kernels.dot(a, b, count: n)
    }

    /// `y += alpha * x`.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        Kernels.axpy(alpha, x, y, count: n)
    }

    /// In-place numerically stable softmax.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        Kernels.softmax(x, count: n)
    }
}
