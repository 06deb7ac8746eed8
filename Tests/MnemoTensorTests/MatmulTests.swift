import XCTest
@testable import MnemoTensor

/// `matmul` (sgemm, tiled dequantize + sgemm) against repeated `matvec` and the exact product.
/// Both sides accumulate the same f32 products in different orders, so each is within
/// `(n + 2)·u·Σ|w x|` of the exact value and they differ by at most twice that.
final class MatmulTests: XCTestCase {
    private func check(_ dtype: DType, rows: Int, cols: Int, count: Int, rng: inout SplitMix64) {
        let w = makeMatrix(dtype, rows: rows, cols: cols, rng: &rng, misaligned: dtype != .f32)
        let x = rng.floats(count * cols)
        var y = [Float](repeating: .nan, count: count * rows)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { w.matmul(xp.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        for t in 0..<count {
            let xt = Array(x[(t * cols)..<((t + 1) * cols)])
            let viaMatvec = w.matvecArray(xt)
            let (exact, magnitude) = w.exactMatvec(xt)
            for r in 0..<rows {
                let bound = Double(cols + 2) * unitRoundoff * magnitude[r] + Double(Float.leastNormalMagnitude)
                let got = Double(y[t * rows + r])
                XCTAssertLessThanOrEqual(abs(got - exact[r]), bound, "\(dtype) \(count)x\(cols)x\(rows) [\(t), \(r)]")
                XCTAssertLessThanOrEqual(abs(got - Double(viaMatvec[r])), 2 * bound, "vs matvec [\(t), \(r)]")
            }
        }
    }

    func testMatmulMatchesMatvecOverOddShapes() {
        var rng = SplitMix64(seed: 0x3A7)
        for dtype in DType.allCases {
            for rows in [1, 7, 33, 65, 257] {
                for cols in (dtype == .q8_0 ? [32, 96, 288] : [1, 31, 33, 127]) {
                    for count in [1, 2, 5] {
                        check(dtype, rows: rows, cols: cols, count: count, rng: &rng)
                    }
                }
            }
        }
    }

    /// Several dequantization tiles (`matmulScratchFloats / cols` rows each) with a ragged last tile.
    func testMatmulAcrossTiles() {
        var rng = SplitMix64(seed: 0x711E)
        let cols = 4096   // 1 Mi floats / 4096 = 256 rows per tile
        for dtype in [DType.f16, .q8_0] {
            check(dtype, rows: 600, cols: cols, count: 3, rng: &rng)
        }
    }

    func testMatmulThreadCountsAgree() {
        var rng = SplitMix64(seed: 77)
        let w = makeMatrix(.bf16, rows: 129, cols: 200, rng: &rng)
        let x = rng.floats(4 * 200)
        func run() -> [Float] {
            var y = [Float](repeating: .nan, count: 4 * 129)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { w.matmul(xp.baseAddress!, count: 4, into: $0.baseAddress!) }
            }
            return y
        }
        var one: [Float] = [], two: [Float] = []
        withKernelSettings(threads: 1) { one = run() }
        withKernelSettings(threads: 2) { two = run() }
        let (exact, magnitude) = w.exactMatvec(Array(x[0..<200]))
        for r in 0..<129 {
            let bound = Double(202) * unitRoundoff * magnitude[r]
            XCTAssertLessThanOrEqual(abs(Double(one[r]) - exact[r]), bound)
            XCTAssertLessThanOrEqual(abs(Double(two[r]) - exact[r]), bound)
        }
    }

    func testMatmulZeroCountAndZeroColumns() {
        var rng = SplitMix64(seed: 3)
        let w = makeMatrix(.f32, rows: 4, cols: 0, rng: &rng)
        var y = [Float](repeating: .nan, count: 8)
        let x: [Float] = [0]
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { w.matmul(xp.baseAddress!, count: 2, into: $0.baseAddress!) }
        }
        XCTAssertEqual(y, [Float](repeating: 0, count: 8))
        y.withUnsafeMutableBufferPointer { w.matmul(x, count: 0, into: $0.baseAddress!) }
        XCTAssertEqual(y, [Float](repeating: 0, count: 8))
    }
}
