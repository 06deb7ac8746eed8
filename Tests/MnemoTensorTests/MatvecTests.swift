import XCTest
@testable import MnemoTensor

/// Optimized `matvec` against the exact (Double) product of the reference dequantization.
///
/// Tolerance: every path multiplies the same f32 values (F16/BF16 -> f32 is exact; Q8_0's
/// `d·q` is exact in Double), so only the f32 accumulation order differs. A recursive f32 sum
/// of n products in any order is within `n·u·Σ|w_i x_i|` of the exact value (Higham,
/// "Accuracy and Stability of Numerical Algorithms", §3.1, first order); Q8_0 adds up to two
/// more roundings per term (`d·(q·x)` and the reference's `d·q`). We allow `(n + 2)·u·Σ|w x|`.
final class MatvecTests: XCTestCase {
    private func columns(for dtype: DType) -> [Int] { dtype == .q8_0 ? q8Columns : oddSizes }

    private func checkAgainstExact(_ dtype: DType, scalar: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SplitMix64(seed: 0x5EED_0000 + UInt64(DType.allCases.firstIndex(of: dtype)!))
        withKernelSettings(scalar: scalar) {
            for rows in oddSizes {
                for cols in columns(for: dtype) {
                    let w = makeMatrix(dtype, rows: rows, cols: cols, rng: &rng)
                    let x = rng.floats(cols)
                    let fast = w.matvecArray(x)
                    let (exact, magnitude) = w.exactMatvec(x)
                    var reference = [Float](repeating: 0, count: rows)
                    x.withUnsafeBufferPointer { xp in
                        reference.withUnsafeMutableBufferPointer { w.referenceMatvec(xp.baseAddress!, into: $0.baseAddress!) }
                    }
                    for r in 0..<rows {
                        let bound = Double(cols + 2) * unitRoundoff * magnitude[r] + Double(Float.leastNormalMagnitude)
                        XCTAssertLessThanOrEqual(abs(Double(fast[r]) - exact[r]), bound,
                                                 "\(dtype) \(rows)x\(cols) row \(r) scalar=\(scalar)", file: file, line: line)
                        // The naive reference obeys the same bound (sanity check of the bound itself).
                        XCTAssertLessThanOrEqual(abs(Double(reference[r]) - exact[r]), bound, file: file, line: line)
                    }
                }
            }
        }
    }

    func testF32MatchesExact() { checkAgainstExact(.f32) }
    func testF16MatchesExact() { checkAgainstExact(.f16) }
    func testBF16MatchesExact() { checkAgainstExact(.bf16) }
    func testQ8_0MatchesExact() { checkAgainstExact(.q8_0) }

    func testScalarFallbackMatchesExact() {
        for dtype in DType.allCases { checkAgainstExact(dtype, scalar: true) }
    }

    /// Row chunks are multiples of 4 rows, so each row goes through the same code in the same
    /// order whatever the thread count: results must be bitwise identical.
    func testThreadedEqualsSingleThreaded() {
        var rng = SplitMix64(seed: 42)
        withKernelSettings(parallelThresholdBytes: 0) {
            for dtype in DType.allCases {
                for rows in [1, 5, 33, 257, 1000] {
                    let cols = dtype == .q8_0 ? 96 : 65
                    let w = makeMatrix(dtype, rows: rows, cols: cols, rng: &rng)
                    let x = rng.floats(cols)
                    let single = w.matvecArray(x, threads: 1)
                    for threads in [2, 3, 4, 7] {
                        XCTAssertEqual(w.matvecArray(x, threads: threads), single, "\(dtype) \(rows) rows, \(threads) threads")
                    }
                    for mode in Q8MatvecMode.allCases where dtype == .q8_0 {
                        withKernelSettings(q8Mode: mode) {
                            XCTAssertEqual(w.matvecArray(x, threads: 3), w.matvecArray(x, threads: 1), "\(mode)")
                        }
                    }
                }
            }
        }
    }

    /// `quantizedActivations` rounds each x to a multiple of its block's d = max|x_b|/127:
    /// |x_i - q_i·d| <= d/2 (plus the rounding of x·(1/d) before `roundf`, < 0.0001·d), the
    /// integer block sums are exact, and the f32 combination adds the usual accumulation bound.
    func testQ8QuantizedActivationsWithinDocumentedBound() {
        var rng = SplitMix64(seed: 808)
        withKernelSettings(q8Mode: .quantizedActivations) {
            for rows in oddSizes {
                for cols in q8Columns {
                    let w = makeMatrix(.q8_0, rows: rows, cols: cols, rng: &rng)
                    let x = rng.floats(cols, scale: 3)
                    let fast = w.matvecArray(x)
                    let (exact, _) = w.exactMatvec(x)
                    let blockStep = stride(from: 0, to: cols, by: 32).map { b in
                        Double(x[b..<(b + 32)].map { abs($0) }.max()!) / 127
                    }
                    for r in 0..<rows {
                        let row = w.referenceRow(r)
                        var quantizationBound = 0.0, magnitude = 0.0
                        for i in 0..<cols {
                            quantizationBound += 0.5001 * blockStep[i / 32] * abs(row[i])
                            magnitude += abs(row[i]) * (abs(Double(x[i])) + blockStep[i / 32])
                        }
                        let bound = quantizationBound + Double(cols + 3) * unitRoundoff * magnitude
                        XCTAssertLessThanOrEqual(abs(Double(fast[r]) - exact[r]), bound, "\(rows)x\(cols) row \(r)")
                    }
                }
            }
        }
    }

    func testQ8QuantizedActivationsScalarEqualsSIMDUpToOrder() {
        var rng = SplitMix64(seed: 99)
        let w = makeMatrix(.q8_0, rows: 37, cols: 320, rng: &rng)
        let x = rng.floats(320)
        withKernelSettings(q8Mode: .quantizedActivations) {
            let simd = w.matvecArray(x)
            Kernels.forceScalarKernels(true)
            let scalar = w.matvecArray(x)
            // Same integer block sums S_b; each path rounds d_w·d_x, the product with S_b and the
            // sum over 10 blocks: within (10 + 3)u·Σ_b|d_w d_x S_b| of the exact sum, and
            // Σ_b|d_w d_x S_b| <= Σ_i |w_i|·(|x_i| + step_b) (the quantized x moves by <= step/2).
            for r in 0..<37 {
                let row = w.referenceRow(r)
                var magnitude = 0.0
                for i in 0..<320 {
                    let step = Double(x[(i / 32 * 32)..<(i / 32 * 32 + 32)].map { abs($0) }.max()!) / 127
                    magnitude += abs(row[i]) * (abs(Double(x[i])) + step)
                }
                XCTAssertLessThanOrEqual(abs(Double(simd[r]) - Double(scalar[r])), 2 * 13 * unitRoundoff * magnitude + 1e-30)
            }
        }
    }

    func testDefaultQ8ModeIsExactF32() {
        XCTAssertEqual(WeightMatrix.q8MatvecMode, .f32Activations)
    }

    func testEmptyShapes() {
        var rng = SplitMix64(seed: 1)
        let w = makeMatrix(.f32, rows: 3, cols: 0, rng: &rng)
        XCTAssertEqual(w.matvecArray([]), [0, 0, 0])
        let none = makeMatrix(.f16, rows: 0, cols: 5, rng: &rng)
        XCTAssertEqual(none.matvecArray([1, 2, 3, 4, 5]), [])
    }
}
