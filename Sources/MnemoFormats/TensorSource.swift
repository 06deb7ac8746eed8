import MnemoTensor

/// Where one tensor lives in a weight file and how it is stored.
public struct TensorInfo: Sendable, Equatable {
    /// Tensor name as stored in the file (GGUF / safetensors) or mapped to Hugging Face names
    /// (llama2.c).
    public var name: String
    /// Storage type, or `nil` when MnemoTensor cannot read it (see `typeName`).
    public var dtype: DType?
    /// The file's own type name, e.g. "F32", "Q4_K", "I64".
    public var typeName: String
    /// Row-major shape, OUTERMOST first (PyTorch order; for GGUF the reverse of ggml's `ne`).
    public var shape: [Int]
    /// Absolute byte offset of the first element in the file.
    public var offset: Int
    /// Bytes the tensor occupies.
    public var byteCount: Int

    public init(name: String, dtype: DType?, typeName: String, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.typeName = typeName
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Number of elements (product of `shape`; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The 2-D view used by `TensorSource.matrix`: 1-D tensors are `1 x n`, higher ranks fold
    /// all outer dimensions into rows; a scalar is `1 x 1`.
    public var matrixShape: (rows: Int, cols: Int) {
        guard let cols = shape.last else { return (1, 1) }
        return (shape.dropLast().reduce(1, *), cols)
    }
}

/// A file (or set of files) holding named weight tensors that can be read in place.
public protocol TensorSource: AnyObject, Sendable {
    /// Every tensor, by name.
    var tensorInfos: [String: TensorInfo] { get }
    /// Pointer to the first byte of tensor `name`, valid while `self` is alive.
    /// - Throws: the format's error type when `name` is missing.
    func rawPointer(for name: String) throws -> UnsafeRawPointer
    /// A zero-copy 2-D view of tensor `name` (1-D as `1 x n`, outer dimensions folded into rows).
    /// - Throws: the format's error type when `name` is missing or its type is unsupported.
    func matrix(_ name: String) throws -> WeightMatrix
}

extension Array where Element == Int {
    /// Product of the elements, or `nil` on overflow or a negative element.
    func checkedProduct() -> Int? {
        var result = 1
        for value in self {
            guard value >= 0 else { return nil }
            let (product, overflow) = result.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            result = product
        }
        return result
    }
}

/// Ranges `[offset, offset + byteCount)` sorted by offset; returns the first overlapping pair.
func firstOverlap(_ infos: [TensorInfo]) -> (TensorInfo, TensorInfo)? {
    let sorted = infos.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
    guard sorted.count > 1 else { return nil }
    for i in 1..<sorted.count where sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].byteCount {
        return (sorted[i - 1], sorted[i])
    }
    return nil
}
