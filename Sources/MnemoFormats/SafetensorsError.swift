import Foundation

/// Why a safetensors file or sharded index was rejected. Each description is one line naming the
/// file and the offending tensor, key or value, and what was expected.
public enum SafetensorsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case truncated(file: String, ByteReaderOverrun)
    case headerTooLarge(file: String, headerBytes: UInt64, available: Int)
    case invalidJSON(file: String, detail: String)
    case invalidEntry(file: String, tensor: String, detail: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    case invalidOffsets(file: String, tensor: String, begin: Int, end: Int, dataBytes: Int)
    case byteCountMismatch(file: String, tensor: String, dtype: String, shape: [Int], expected: Int, found: Int)
    case overlappingTensors(file: String, first: String, second: String)
    case missingTensor(file: String, name: String)
    case unsupportedType(file: String, tensor: String, typeName: String)
    case invalidIndex(file: String, detail: String)
    case tensorNotInShard(index: String, tensor: String, shard: String)

    public var description: String {
        switch self {
        case .truncated(let file, let overrun):
            return "\(file): safetensors \(overrun)"
        case .headerTooLarge(let file, let bytes, let available):
            return "\(file): safetensors header length \(bytes) exceeds the \(available) bytes that follow it"
        case .invalidJSON(let file, let detail):
            return "\(file): safetensors header is not a JSON object: \(detail)"
        case .invalidEntry(let file, let tensor, let detail):
            return "\(file): tensor '\(tensor)': \(detail)"
        case .unknownDType(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)' has unknown dtype \"\(dtype)\", expected one of \(SafetensorsFile.elementSizes.keys.sorted().joined(separator: ", "))"
        case .invalidOffsets(let file, let tensor, let begin, let end, let dataBytes):
            return "\(file): tensor '\(tensor)' data_offsets [\(begin), \(end)] are not an ordered range within the \(dataBytes) data bytes"
        case .byteCountMismatch(let file, let tensor, let dtype, let shape, let expected, let found):
            return "\(file): tensor '\(tensor)' (\(dtype) \(shape)) needs \(expected) bytes, data_offsets span \(found)"
        case .overlappingTensors(let file, let first, let second):
            return "\(file): tensor '\(second)' overlaps tensor '\(first)'"
        case .missingTensor(let file, let name):
            return "\(file): no tensor named '\(name)'"
        case .unsupportedType(let file, let tensor, let typeName):
            return "\(file): tensor '\(tensor)' has dtype \(typeName); supported: F32, F16, BF16"
        case .invalidIndex(let file, let detail):
            return "\(file): \(detail)"
        case .tensorNotInShard(let index, let tensor, let shard):
            return "\(index): weight_map puts '\(tensor)' in \(shard), which has no such tensor"
        }
    }

    public var errorDescription: String? { description }
}
