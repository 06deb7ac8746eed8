import Foundation
import MnemoTensor

// `SplitMix64` (MnemoTensor) seeds every test so each run is reproducible.
extension SplitMix64 {
    /// Uniform in [-scale, scale).
    mutating func float(_ scale: Float = 1) -> Float { uniform(scale) }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float(scale) } }
}

/// Unit roundoff of f32 (2^-24): the relative error of one correctly rounded operation.
let unitRoundoff = Double(Float.ulpOfOne) / 2

/// Row/column counts from the task brief: odd sizes around the SIMD widths (8, 16, 32).
let oddSizes = [1, 3, 7, 31, 32, 33, 64, 65, 127, 257, 1000]
/// Q8_0 column counts (whole blocks of 32).
let q8Columns = [32, 64, 96, 160, 288, 1024]

/// Owns the bytes of a test matrix.
final class MatrixStorage: @unchecked Sendable {
    // @unchecked Sendable: written once in `makeMatrix`, read-only afterwards.
    let bytes: UnsafeMutableRawPointer
    init(count: Int) {
        // +1 byte so the matrix can be placed at an odd address (unaligned loads).
        bytes = UnsafeMutableRawPointer.allocate(byteCount: count + 1, alignment: 64)
    }
    deinit { bytes.deallocate() }
}

/// A random `rows × cols` matrix of `dtype`, stored at an odd (unaligned) address when
/// `misaligned`. F16 values include subnormals and Q8_0 scales vary per block.
func makeMatrix(_ dtype: DType, rows: Int, cols: Int, rng: inout SplitMix64,
                misaligned: Bool = true) -> WeightMatrix {
    let rowBytes = dtype.byteCount(elements: cols)!
    let storage = MatrixStorage(count: rowBytes * rows)
    let p = storage.bytes + (misaligned ? 1 : 0)
    for r in 0..<rows {
        let row = p + r * rowBytes
        switch dtype {
        case .f32:
            for i in 0..<cols { row.storeBytes(of: rng.float(), toByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<cols {
                // Mostly normal values, some subnormal ones (|v| < 2^-14).
                let v: Float = rng.next() % 16 == 0 ? rng.float(6e-5) : rng.float(2)
                row.storeBytes(of: Float16(v).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .bf16:
            for i in 0..<cols {
                row.storeBytes(of: UInt16(rng.float(3).bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
            }
        case .q8_0:
            for b in 0..<(cols / 32) {
                let block = row + 34 * b
                let d = Float16(abs(rng.float(0.05)) + 1e-4)
                block.storeBytes(of: d.bitPattern, toByteOffset: 0, as: UInt16.self)
                for j in 0..<32 {
                    // -128...127: ggml's quantizer stays in ±127, but -128 is a valid stored value.
                    let q = Int8(truncatingIfNeeded: Int(rng.next() % 256) - 128)
                    block.storeBytes(of: q, toByteOffset: 2 + j, as: Int8.self)
                }
            }
        }
    }
    return WeightMatrix(dtype: dtype, rows: rows, cols: cols, base: UnsafeRawPointer(p), owner: storage)
}

extension WeightMatrix {
    /// Row `r` dequantized by the reference path, as Doubles.
    func referenceRow(_ r: Int) -> [Double] {
        var row = [Float](repeating: 0, count: cols)
        row.withUnsafeMutableBufferPointer { referenceDequantizeRow(r, into: $0.baseAddress!) }
        return row.map(Double.init)
    }

    /// Exact (Double) `W·x` and `Σ|w_i x_i|` per row, from the reference dequantization.
    func exactMatvec(_ x: [Float]) -> (values: [Double], magnitudes: [Double]) {
        var values = [Double](), magnitudes = [Double]()
        for r in 0..<rows {
            let w = referenceRow(r)
            var s = 0.0, m = 0.0
            for i in 0..<cols {
                s += w[i] * Double(x[i])
                m += abs(w[i] * Double(x[i]))
            }
            values.append(s)
            magnitudes.append(m)
        }
        return (values, magnitudes)
    }

    /// Fast `matvec` as an array.
    func matvecArray(_ x: [Float], threads: Int? = nil) -> [Float] {
        var y = [Float](repeating: .nan, count: rows)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let threads {
                    matvec(xp.baseAddress!, into: yp.baseAddress!, threads: threads)
                } else {
                    matvec(xp.baseAddress!, into: yp.baseAddress!)
                }
            }
        }
        return y
    }
}

/// Runs `body` with process-wide kernel settings changed, restoring them afterwards.
func withKernelSettings(threads: Int? = nil, parallelThresholdBytes: Int? = nil,
                        q8Mode: Q8MatvecMode? = nil, scalar: Bool = false, _ body: () throws -> Void) rethrows {
    let savedThreads = Threading.threadCount
    let savedThreshold = WeightMatrix.parallelMatvecThresholdBytes
    let savedMode = WeightMatrix.q8MatvecMode
    defer {
        Threading.threadCount = savedThreads
        WeightMatrix.parallelMatvecThresholdBytes = savedThreshold
        WeightMatrix.q8MatvecMode = savedMode
        Kernels.forceScalarKernels(false)
    }
    if let threads { Threading.threadCount = threads }
    if let parallelThresholdBytes { WeightMatrix.parallelMatvecThresholdBytes = parallelThresholdBytes }
    if let q8Mode { WeightMatrix.q8MatvecMode = q8Mode }
    Kernels.forceScalarKernels(scalar)
    try body()
}
