/// The storage type of a weight tensor.
///
/// Activations are always `Float` (f32); weights may be stored in any of these types and are
/// read in place from a memory-mapped file. Quantized types are stored in blocks along the
/// innermost (column) dimension.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32
    case f16
    case bf16
    /// GGML Q8_0: blocks of 32 values, each an f16 scale `d` followed by 32 `Int8` quants;
    /// value = d * q. 34 bytes per block.
    case q8_0

    /// Elements per storage block (1 for plain types).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0: return 32
        }
    }

    /// Bytes per storage block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        }
    }

    /// Bytes needed for `elements` values, or `nil` when `elements` is not a whole number of
    /// blocks or the size overflows.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
