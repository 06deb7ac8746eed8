import Foundation
import XCTest
@testable import MnemoTensor

/// Element-wise kernels against naive Double references written from the formulas.
/// Tolerances count the f32 roundings each kernel performs (u = 2^-24 per operation).
final class KernelsTests: XCTestCase {
    private let sizes = [1, 3, 7, 31, 32, 33, 64, 65, 127, 257, 1000]

    private func assertClose(_ got: Float, _ expected: Double, _ tolerance: Double, _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(Double(got) - expected), tolerance, "\(message): \(got) vs \(expected)", file: file, line: line)
    }

    func testRMSNorm() {
        var rng = SplitMix64(seed: 1)
        for n in sizes {
            let x = rng.floats(n, scale: 4), w = rng.floats(n, scale: 2)
            var out = [Float](repeating: .nan, count: n)
            Kernels.rmsNorm(x, weight: w, epsilon: 1e-5, into: &out, count: n)
            let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
            let inv = 1 / (meanSquare + Double(Float(1e-5))).squareRoot()
            for i in 0..<n {
                let expected = Double(x[i]) * inv * Double(w[i])
                // inv rounded to f32, then two multiplications: 3 roundings (+1 slack for the Double sum).
                assertClose(out[i], expected, 4 * unitRoundoff * abs(expected) + 1e-30, "rmsNorm n=\(n) i=\(i)")
            }
            // In place (out aliases x).
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                Kernels.rmsNorm(p.baseAddress!, weight: w, epsilon: 1e-5, into: p.baseAddress!, count: n)
            }
            XCTAssertEqual(inPlace, out)
        }
    }

    func testLayerNorm() {
        var rng = SplitMix64(seed: 2)
        for n in sizes {
            let x = rng.floats(n, scale: 3).map { $0 + 1.5 }, w = rng.floats(n), b = rng.floats(n)
            var out = [Float](repeating: .nan, count: n), noBias = out
            Kernels.layerNorm(x, weight: w, bias: b, epsilon: 1e-5, into: &out, count: n)
            Kernels.layerNorm(x, weight: w, bias: nil, epsilon: 1e-5, into: &noBias, count: n)
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
            let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
            let inv = 1 / (variance + Double(Float(1e-5))).squareRoot()
            for i in 0..<n {
                let centered = Double(x[i]) - mean
                let scaled = centered * inv * Double(w[i])
                // mean rounded to f32 (u|mean|), subtraction, inv, two products, the bias add.
                let tol = 4 * unitRoundoff * (abs(centered) + abs(mean)) * inv * abs(Double(w[i]))
                    + 2 * unitRoundoff * (abs(scaled) + abs(Double(b[i]))) + 1e-30
                assertClose(out[i], scaled + Double(b[i]), tol, "layerNorm n=\(n) i=\(i)")
                assertClose(noBias[i], scaled, tol, "layerNorm (no bias) n=\(n) i=\(i)")
            }
        }
    }

    /// The documented accuracy of `Kernels.exp`: relative error < 4u on [-87, 88] for both the
    /// AVX2 polynomial and libm; clamping and masking behaviour at the ends.
    func testExp() {
        var x = [Float]()
        var v: Float = -87
        while v <= 88 { x.append(v); v += 0.0137 }
        var rng = SplitMix64(seed: 0xE4)
        x += rng.floats(3001, scale: 1)
        for scalar in [false, true] {
            withKernelSettings(scalar: scalar) {
                var y = [Float](repeating: .nan, count: x.count)
                Kernels.exp(x, into: &y, count: x.count)
                var worst = 0.0
                for i in x.indices {
                    let expected = Foundation.exp(Double(x[i]))
                    worst = max(worst, abs(Double(y[i]) - expected) / expected / unitRoundoff)
                }
                XCTAssertLessThan(worst, 4, "max relative error \(worst) u, scalar=\(scalar)")
            }
        }
        var ends: [Float] = [-.infinity, -200, 0, 1, 88.5]
        Kernels.exp(ends, into: &ends, count: 5)
        XCTAssertTrue(ends[4].isFinite && ends[4] > 1.5e38, "large inputs saturate: \(ends[4])")
        XCTAssertEqual(ends[0], 0)
        XCTAssertEqual(ends[1], 0)
        XCTAssertEqual(ends[2], 1)
        XCTAssertEqual(Double(ends[3]), Foundation.exp(1.0), accuracy: 4 * unitRoundoff * Foundation.exp(1.0))
    }

    func testSoftmax() {
        var rng = SplitMix64(seed: 3)
        for n in sizes {
            var x = rng.floats(n, scale: 20)
            if n > 3 { x[2] = -.infinity }   // masked entry
            let maxValue = x.max()!
            let exps = x.map { exp(Double($0) - Double(maxValue)) }
            let sum = exps.reduce(0, +)
            var y = x
            Kernels.softmax(&y, count: n)
            for i in 0..<n {
                let expected = exps[i] / sum
                // x - max rounds (relative u|x - max| after exp), exp < 4u (testExp), the sum's
                // rounding to f32, 1/sum and the product: (|x - max| + 7)u, plus 1u slack.
                let spread = x[i].isFinite ? abs(Double(x[i]) - Double(maxValue)) : 0
                assertClose(y[i], expected, (spread + 8) * unitRoundoff * expected + 1e-30, "softmax n=\(n) i=\(i)")
            }
            if n > 3 { XCTAssertEqual(y[2], 0) }
        }
        var large: [Float] = [1000, 1000, -1000]   // would overflow without the max subtraction
        Kernels.softmax(&large, count: 3)
        XCTAssertEqual(large, [0.5, 0.5, 0])
    }

    func testSiluMul() {
        var rng = SplitMix64(seed: 4)
        for n in sizes {
            let g = rng.floats(n, scale: 12), u = rng.floats(n, scale: 3)
            var out = [Float](repeating: .nan, count: n)
            Kernels.siluMul(gate: g, up: u, into: &out, count: n)
            for i in 0..<n {
                let gd = Double(g[i])
                let expected = gd / (1 + exp(-gd)) * Double(u[i])
                // exp(-g) < 4u (testExp; -g is exact), the add, the divide, the product: 7u, +1u slack.
                assertClose(out[i], expected, 8 * unitRoundoff * abs(expected) + 1e-30, "silu n=\(n) i=\(i)")
            }
        }
    }

    func testGELU() {
        var rng = SplitMix64(seed: 5)
        let k = (2 / Double.pi).squareRoot()
        for n in sizes {
            let x = rng.floats(n, scale: 6)
            var tanhOut = [Float](repeating: .nan, count: n), erfOut = tanhOut
            Kernels.gelu(x, approximation: .tanh, into: &tanhOut, count: n)
            Kernels.gelu(x, approximation: .none, into: &erfOut, count: n)
            for i in 0..<n {
                let v = Double(x[i])
                let inner = k * (v + 0.044715 * v * v * v)
                let t = tanh(inner)
                // Absolute: 0.5|x| times the error of (1 + tanh(...)): tanhf's ulp, the sum, and the
                // argument's ~5 roundings amplified by tanh' = 1 - t².
                let tanhTol = 0.5 * abs(v) * unitRoundoff * (4 + 8 * abs(inner) * (1 - t * t)) + 1e-30
                assertClose(tanhOut[i], 0.5 * v * (1 + t), tanhTol, "gelu tanh x=\(v)")
                let e = erf(v / 2.0.squareRoot())
                let erfTol = 0.5 * abs(v) * unitRoundoff * (4 + 4 * abs(v) * exp(-v * v / 2)) + 1e-30
                assertClose(erfOut[i], 0.5 * v * (1 + e), erfTol, "gelu erf x=\(v)")
            }
        }
    }

    func testAddScaleDotAxpy() {
        var rng = SplitMix64(seed: 6)
        for scalar in [false, true] {
            withKernelSettings(scalar: scalar) {
                for n in sizes {
                    let a = rng.floats(n), b = rng.floats(n)
                    var sum = [Float](repeating: .nan, count: n)
                    Kernels.add(a, b, into: &sum, count: n)
                    XCTAssertEqual(sum, zip(a, b).map { $0 + $1 })   // one rounding each: exact match

                    var scaled = a
                    Kernels.scale(&scaled, by: 0.37, count: n)
                    XCTAssertEqual(scaled, a.map { $0 * 0.37 })

                    let dot = Kernels.dot(a, b, count: n)
                    let exact = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    let magnitude = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                    assertClose(dot, exact, Double(n + 1) * unitRoundoff * magnitude, "dot n=\(n) scalar=\(scalar)")

                    var y = b
                    Kernels.axpy(-1.25, a, &y, count: n)
                    for i in 0..<n {
                        let expected = -1.25 * Double(a[i]) + Double(b[i])
                        // FMA (one rounding) or multiply-then-add (two).
                        assertClose(y[i], expected, 2 * unitRoundoff * (1.25 * abs(Double(a[i])) + abs(Double(b[i]))), "axpy")
                    }
                }
            }
        }
    }

    func testArgmax() {
        XCTAssertEqual(Kernels.argmax([1, 5, 3, 5], count: 4), 1)           // first of ties
        XCTAssertEqual(Kernels.argmax([.nan, -2, -1], count: 3), 2)         // NaN skipped
        XCTAssertEqual(Kernels.argmax([-.infinity, -.infinity], count: 2), 0)
        XCTAssertEqual(Kernels.argmax([Float](), count: 0), 0)
        var rng = SplitMix64(seed: 7)
        for n in sizes {
            let x = rng.floats(n)
            XCTAssertEqual(Kernels.argmax(x, count: n), x.indices.max { x[$0] < x[$1] || (x[$0] == x[$1] && $0 > $1) }!)
        }
    }

    func testInstructionSetIsReported() {
        XCTAssertTrue(["avx2+fma+f16c", "scalar"].contains(Kernels.instructionSet))
        Kernels.forceScalarKernels(true)
        XCTAssertEqual(Kernels.instructionSet, "scalar")
        Kernels.forceScalarKernels(false)
    }
}
