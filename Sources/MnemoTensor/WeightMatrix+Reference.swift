/// Naive per-element reference implementations: the specification the SIMD kernels are tested
/// against (the original skeleton code). Slow; not for production paths.
extension WeightMatrix {
    /// Dequantizes row `r` element by element with Swift's `Float16` (reference).
    public func referenceDequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows)
        let p = base + r * rowBytes
        switch dtype {
        case .f32:
            for i in 0..<cols { out[i] = p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<cols {
                let bits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(Float16(bitPattern: bits))
            }
        case .bf16:
            for i in 0..<cols {
                let bits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .q8_0:
            for b in 0..<(cols / 32) {
                let block = p + b * 34
                let d = Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self))))
                for i in 0..<32 {
                    out[b * 32 + i] = d * Float(block.load(fromByteOffset: 2 + i, as: Int8.self))
                }
            }
        }
    }

    /// `y = W · x`, one row at a time, sequential f32 sum (reference).
    public func referenceMatvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let row = UnsafeMutablePointer<Float>.allocate(capacity: max(cols, 1))
        defer { row.deallocate() }
        for r in 0..<rows {
            referenceDequantizeRow(r, into: row)
            var s: Float = 0
            for i in 0..<cols { s += row[i] * x[i] }
            y[r] = s
        }
    }

    /// `Y[t] = W · X[t]` by repeated `referenceMatvec` (reference).
    public func referenceMatmul(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        for t in 0..<count { referenceMatvec(x + t * cols, into: y + t * rows) }
    }
}
