import XCTest
@testable import MnemoTensor

/// f16/bf16 conversions against Swift's `Float16` (an independent software implementation) and
/// against a Double-based nearest-even bf16 rounding.
final class HalfPrecisionTests: XCTestCase {
    /// Every one of the 65536 binary16 patterns, through both the bulk (F16C + tail) and the
    /// portable scalar conversion: exact, NaN stays NaN with its sign.
    func testAllF16PatternsToF32() {
        let all = (0...UInt16.max).map { $0 }
        for scalar in [false, true] {
            withKernelSettings(scalar: scalar) {
                var bulk = [Float](repeating: 0, count: all.count)
                all.withUnsafeBufferPointer { s in
                    bulk.withUnsafeMutableBufferPointer { d in
                        // Two calls with odd counts so both the 8-wide loop and the tail run.
                        HalfPrecision.f16ToF32(s.baseAddress!, into: d.baseAddress!, count: 65_533)
                        HalfPrecision.f16ToF32(s.baseAddress! + 65_533, into: d.baseAddress! + 65_533, count: 3)
                    }
                }
                for (i, bits) in all.enumerated() {
                    let expected = Float(Float16(bitPattern: bits))
                    for got in [bulk[i], HalfPrecision.f16ToF32(bits)] {
                        if expected.isNaN {
                            XCTAssertTrue(got.isNaN, "0x\(String(bits, radix: 16))")
                            XCTAssertEqual(got.sign, expected.sign)
                        } else {
                            XCTAssertEqual(got.bitPattern, expected.bitPattern, "0x\(String(bits, radix: 16)) scalar=\(scalar)")
                        }
                    }
                }
            }
        }
    }

    /// Specials, boundaries and rounding ties for f32 -> f16 (nearest even).
    func testF32ToF16MatchesSwiftFloat16() {
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, .signalingNaN,
                               65504, 65519.996, 65520, 65536, 1e10, -1e10,
                               Float(Float16.leastNonzeroMagnitude), Float(Float16.leastNormalMagnitude),
                               0x1p-25, 0x1.8p-25, 0x1p-26, 0x1.8p-24, 0x1.4p-24, 0x1.cp-24,  // subnormal ties
                               1 + 0x1p-11, 1 + 0x1.8p-11, 1 + 0x1p-12,  // ties at 1
                               Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude, 0x1.ffep-15, 0x1.fffp-15]
        values += values.map { -$0 }
        var rng = SplitMix64(seed: 16)
        for _ in 0..<20_000 {
            // Random bit patterns concentrated on the f16 exponent range.
            let e = UInt32(rng.next() % 40 + 100)
            values.append(Float(bitPattern: UInt32(rng.next() & 0x807f_ffff) | (e << 23)))
        }
        for scalar in [false, true] {
            withKernelSettings(scalar: scalar) {
                var bulk = [UInt16](repeating: 0, count: values.count)
                values.withUnsafeBufferPointer { s in
                    bulk.withUnsafeMutableBufferPointer { HalfPrecision.f32ToF16(s.baseAddress!, into: $0.baseAddress!, count: values.count) }
                }
                for (i, v) in values.enumerated() {
                    let expected = Float16(v)
                    for got in [bulk[i], HalfPrecision.f32ToF16(v)] {
                        if v.isNaN {
                            XCTAssertTrue(Float16(bitPattern: got).isNaN, "\(v)")
                        } else {
                            XCTAssertEqual(got, expected.bitPattern, "\(v) (\(v.bitPattern)) scalar=\(scalar)")
                        }
                    }
                }
            }
        }
    }

    func testBF16RoundTripAndRounding() {
        var rng = SplitMix64(seed: 0xBF)
        var values: [Float] = [0, -0, 1, .infinity, -.infinity, .nan, Float.greatestFiniteMagnitude,
                               Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000), Float.leastNonzeroMagnitude]
        for _ in 0..<5000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        var bits = [UInt16](repeating: 0, count: values.count)
        var back = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { s in
            bits.withUnsafeMutableBufferPointer { HalfPrecision.f32ToBF16(s.baseAddress!, into: $0.baseAddress!, count: values.count) }
        }
        bits.withUnsafeBufferPointer { s in
            back.withUnsafeMutableBufferPointer { HalfPrecision.bf16ToF32(s.baseAddress!, into: $0.baseAddress!, count: values.count) }
        }
        for (i, v) in values.enumerated() {
            XCTAssertEqual(back[i].bitPattern, UInt32(bits[i]) << 16)   // widening is the 16-bit shift
            if v.isNaN { XCTAssertTrue(back[i].isNaN); continue }
            // Nearest of the two bf16 neighbours (ties to even), decided in Double.
            let low = v.bitPattern >> 16
            let candidates = [low, low + 1].filter { $0 <= 0xffff }
            let distance = { (c: UInt32) -> Double in
                let f = Float(bitPattern: c << 16)
                return f.isNaN ? .infinity : abs(Double(f) - Double(v))
            }
            var best = candidates[0]
            for c in candidates.dropFirst() {
                let (dc, db) = (distance(c), distance(best))
                if dc < db || (dc == db && c & 1 == 0) { best = c }
            }
            if abs(v) >= Float(bitPattern: 0x7f7f_8000) { best = (v.bitPattern >> 16) & 0x8000 | 0x7f80 }  // beyond the largest bf16 + half ulp: inf
            XCTAssertEqual(UInt32(bits[i]), best, "\(v)")
        }
    }
}
