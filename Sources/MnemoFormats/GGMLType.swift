import MnemoTensor

/// A ggml tensor storage type, as stored in GGUF tensor infos.
///
/// Ids, names and block sizes follow llama.cpp `ggml/include/ggml.h` (`enum ggml_type`) and
/// `gguf-py/gguf/constants.py` (`GGML_QUANT_SIZES`). Every known type has a block size so sizes
/// and bounds are validated even for types MnemoTensor cannot compute with.
public struct GGMLType: Sendable, Hashable, CustomStringConvertible {
    /// The on-disk id (`ggml_type`).
    public let id: UInt32
    /// The llama.cpp name, e.g. "Q4_K".
    public let name: String
    /// Elements per block.
    public let blockElements: Int
    /// Bytes per block.
    public let blockBytes: Int

    public var description: String { name }

    /// The MnemoTensor storage type, for the types it can read (F32, F16, BF16, Q8_0).
    public var dtype: DType? {
        switch id {
        case 0: return .f32
        case 1: return .f16
        case 30: return .bf16
        case 8: return .q8_0
        default: return nil
        }
    }

    /// Bytes for `elements` values along the innermost dimension, or `nil` when `elements` is not
    /// a whole number of blocks.
    public func rowBytes(elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// The type with on-disk id `id`, or `nil` for an unknown or removed id.
    public static func withID(_ id: UInt32) -> GGMLType? { byID[id] }

    private static let qk = 256 // QK_K
    /// (id, name, block elements, block bytes).
    private static let table: [(UInt32, String, Int, Int)] = [
        (0, "F32", 1, 4),
        (1, "F16", 1, 2),
        (2, "Q4_0", 32, 2 + 16),
        (3, "Q4_1", 32, 2 + 2 + 16),
        (6, "Q5_0", 32, 2 + 4 + 16),
        (7, "Q5_1", 32, 2 + 2 + 4 + 16),
        (8, "Q8_0", 32, 2 + 32),
        (9, "Q8_1", 32, 4 + 4 + 32),
        (10, "Q2_K", qk, 2 + 2 + qk / 16 + qk / 4),
        (11, "Q3_K", qk, 2 + qk / 4 + qk / 8 + 12),
        (12, "Q4_K", qk, 2 + 2 + qk / 2 + 12),
        (13, "Q5_K", qk, 2 + 2 + qk / 2 + qk / 8 + 12),
        (14, "Q6_K", qk, 2 + qk / 2 + qk / 4 + qk / 16),
        (15, "Q8_K", qk, 4 + qk + qk / 8),
        (16, "IQ2_XXS", qk, 2 + qk / 4),
        (17, "IQ2_XS", qk, 2 + qk / 4 + qk / 32),
        (18, "IQ3_XXS", qk, 2 + qk / 4 + qk / 8),
        (19, "IQ1_S", qk, 2 + qk / 8 + qk / 16),
        (20, "IQ4_NL", 32, 2 + 16),
        (21, "IQ3_S", qk, 2 + qk / 4 + qk / 8 + qk / 32 + 4),
        (22, "IQ2_S", qk, 2 + qk / 4 + qk / 16),
        (23, "IQ4_XS", qk, 2 + 2 + qk / 2 + qk / 64),
        (24, "I8", 1, 1),
        (25, "I16", 1, 2),
        (26, "I32", 1, 4),
        (27, "I64", 1, 8),
        (28, "F64", 1, 8),
        (29, "IQ1_M", qk, qk / 8 + qk / 16 + qk / 32),
        (30, "BF16", 1, 2),
        (34, "TQ1_0", qk, 2 + 4 * 13),
        (35, "TQ2_0", qk, 2 + 64),
        (39, "MXFP4", 32, 1 + 16),
        (40, "NVFP4", 64, 4 + 32),
        (41, "Q1_0", 128, 2 + 16),
        (42, "Q2_0", 64, 2 + 16),
    ]

    /// All known types, by id.
    public static let byID: [UInt32: GGMLType] = Dictionary(uniqueKeysWithValues: table.map {
        ($0.0, GGMLType(id: $0.0, name: $0.1, blockElements: $0.2, blockBytes: $0.3))
    })
}
