import XCTest
@testable import MnemoTensor

/// Dequantization is exact (every stored value is representable in f32 and Q8_0's `d·q` is one
/// rounding in both paths), so the SIMD rows must equal the naive per-element formula bitwise.
final class DequantizeTests: XCTestCase {
    private func checkRows(_ dtype: DType, scalar: Bool) {
        var rng = SplitMix64(seed: 0xDE0 + UInt64(scalar ? 1 : 0))
        withKernelSettings(scalar: scalar) {
            for rows in [1, 3, 7] {
                for cols in (dtype == .q8_0 ? q8Columns : oddSizes) {
                    let w = makeMatrix(dtype, rows: rows, cols: cols, rng: &rng)
                    var fast = [Float](repeating: .nan, count: cols)
                    var naive = [Float](repeating: .nan, count: cols)
                    for r in 0..<rows {
                        fast.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!) }
                        naive.withUnsafeMutableBufferPointer { w.referenceDequantizeRow(r, into: $0.baseAddress!) }
                        XCTAssertEqual(fast.map(\.bitPattern), naive.map(\.bitPattern), "\(dtype) \(rows)x\(cols) row \(r)")
                    }
                }
            }
        }
    }

    func testDequantizeRowEqualsNaiveFormula() {
        for dtype in DType.allCases {
            checkRows(dtype, scalar: false)
            checkRows(dtype, scalar: true)
        }
    }

    /// The naive formula itself, written out for one Q8_0 block: value = f16(d) * q.
    func testQ8_0BlockLayout() {
        var block = [UInt8](repeating: 0, count: 34)
        let d = Float16(0.25)
        block[0] = UInt8(d.bitPattern & 0xff)
        block[1] = UInt8(d.bitPattern >> 8)
        for j in 0..<32 { block[2 + j] = UInt8(bitPattern: Int8(j - 16)) }
        block.withUnsafeBytes { raw in
            let w = WeightMatrix(dtype: .q8_0, rows: 1, cols: 32, base: raw.baseAddress!, owner: nil)
            var out = [Float](repeating: 0, count: 32)
            out.withUnsafeMutableBufferPointer { w.dequantizeRow(0, into: $0.baseAddress!) }
            XCTAssertEqual(out, (0..<32).map { Float($0 - 16) * 0.25 })
        }
    }

    func testDequantizeRowsThreadedEqualsRowByRow() {
        var rng = SplitMix64(seed: 5)
        withKernelSettings(threads: 3) {
            for dtype in DType.allCases {
                let cols = dtype == .q8_0 ? 288 : 257
                let w = makeMatrix(dtype, rows: 300, cols: cols, rng: &rng)
                var all = [Float](repeating: .nan, count: 290 * cols)
                all.withUnsafeMutableBufferPointer { w.dequantizeRows(7, 297, into: $0.baseAddress!) }
                var row = [Float](repeating: 0, count: cols)
                for r in 7..<297 {
                    row.withUnsafeMutableBufferPointer { w.referenceDequantizeRow(r, into: $0.baseAddress!) }
                    XCTAssertEqual(Array(all[((r - 7) * cols)..<((r - 6) * cols)]), row, "\(dtype) row \(r)")
                }
            }
        }
    }
}
