import Foundation

/// Small element-wise kernels of the forward pass (reference loops; MnemoTensor's `Kernels`
/// replace them where available).
enum Ops {
    /// `out = x / sqrt(mean(x²) + eps) * weight` (transformers `LlamaRMSNorm`, llama2.c `rmsnorm`).
    /// - Complexity: O(n).
    static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float, count n: Int,
                        into out: UnsafeMutablePointer<Float>) {
        var ss: Float = 0
        for i in 0..<n { ss += x[i] * x[i] }
        let scale = 1 / (ss / Float(n) + epsilon).squareRoot()
        for i in 0..<n { out[i] = weight[i] * (x[i] * scale) }
    }

    /// `out = (x - mean) / sqrt(var + eps) * weight + bias` (PyTorch `nn.LayerNorm`, biased variance).
    /// - Complexity: O(n).
    static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                          epsilon: Float, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var mean: Float = 0
        for i in 0..<n { mean += x[i] }
        mean /= Float(n)
        var variance: Float = 0
        for i in 0..<n { let d = x[i] - mean; variance += d * d }
        variance /= Float(n)
        let scale = 1 / (variance + epsilon).squareRoot()
        for i in 0..<n { out[i] = (x[i] - mean) * scale * weight[i] + bias[i] }
    }

    /// `gate[i] = silu(gate[i]) * up[i]` (SwiGLU).
    static func siluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// GPT-2 `gelu_new`: `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`, or exact erf GELU.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count n: Int, tanhApproximation: Bool) {
        if tanhApproximation {
            let c = Float((2.0 / Double.pi).squareRoot())
            for i in 0..<n {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v)))
            }
        } else {
            for i in 0..<n {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Foundation.erf(v / Float(2).squareRoot()))
            }
        }
    }

    /// `x[t * n + i] += bias[i]` for `rows` rows.
    static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, count n: Int) {
        for t in 0..<rows { for i in 0..<n { x[t * n + i] += bias[i] } }
    }

    /// `x[i] += y[i]`.
    static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { x[i] += y[i] }
    }

    /// Dot product.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n { s += a[i] * b[i] }
        return s
    }

    /// `y += alpha * x`.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }

    /// In-place numerically stable softmax.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, x[i]) }
        var s: Float = 0
        for i in 0..<n { let e = Foundation.exp(x[i] - m); x[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<n { x[i] *= inv }
    }
}
