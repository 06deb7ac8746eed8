/// A read-only 2-D weight matrix of `rows × cols`, row-major, stored as `dtype` somewhere in
/// memory (usually a memory-mapped model file kept alive by `owner`).
///
/// The convention is the Hugging Face `nn.Linear` one: `rows` = output features, `cols` = input
/// features, `y = W x`.
public struct WeightMatrix: @unchecked Sendable {
    // @unchecked Sendable: the storage is immutable after load (read-only mmap or an owned,
    // never-mutated buffer), so concurrent reads are safe.
    public let dtype: DType
    public let rows: Int
    public let cols: Int
    public let base: UnsafeRawPointer
    /// Keeps the storage alive (a mapped file or an owned buffer).
    public let owner: AnyObject?

    /// Bytes of one stored row.
    public var rowBytes: Int { (cols / dtype.blockElements) * dtype.blockBytes }

    public init(dtype: DType, rows: Int, cols: Int, base: UnsafeRawPointer, owner: AnyObject?) {
        precondition(rows >= 0 && cols >= 0 && cols % dtype.blockElements == 0,
                     "WeightMatrix: cols must be a whole number of \(dtype) blocks")
        self.dtype = dtype
        self.rows = rows
        self.cols = cols
        self.base = base
        self.owner = owner
    }

    /// Dequantizes row `r` into `out[0..<cols]`.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows)
        let p = base + r * rowBytes
        switch dtype {
        case .f32:
            out.update(from: p.assumingMemoryBound(to: Float.self), count: cols)
        case .f16:
            let h = p.assumingMemoryBound(to: UInt16.self)
            for i in 0..<cols { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: h[i]))) }
        case .bf16:
            let h = p.assumingMemoryBound(to: UInt16.self)
            for i in 0..<cols { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: h[i])) << 16) }
        case .q8_0:
            for b in 0..<(cols / 32) {
                let block = p + b * 34
                let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                for i in 0..<32 { out[b * 32 + i] = d * Float(q[i]) }
            }
        }
    }

    /// `y[0..<rows] = W · x[0..<cols]`. Reference implementation; MnemoTensor's optimized kernels
    /// replace it behind the same signature.
    public func matvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let row = UnsafeMutablePointer<Float>.allocate(capacity: max(cols, 1))
        defer { row.deallocate() }
        for r in 0..<rows {
            dequantizeRow(r, into: row)
            var s: Float = 0
            for i in 0..<cols { s += row[i] * x[i] }
            y[r] = s
        }
    }

    /// `Y[t, :] = W · X[t, :]` for `t` in `0..<count`; `X` is `count × cols`, `Y` is `count × rows`,
    /// both row-major.
    public func matmul(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        for t in 0..<count { matvec(x + t * cols, into: y + t * rows) }
    }
}
