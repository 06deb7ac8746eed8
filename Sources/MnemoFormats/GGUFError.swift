import Foundation

/// Why a GGUF file was rejected. Each description is one line naming the file and the offending
/// key, tensor, offset or value, and what was expected.
public enum GGUFError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case truncated(file: String, ByteReaderOverrun)
    case badMagic(file: String, found: [UInt8])
    case bigEndian(file: String, rawVersion: UInt32)
    case unsupportedVersion(file: String, version: UInt32)
    case countTooLarge(file: String, what: String, count: UInt64, maximum: Int)
    case unknownValueType(file: String, key: String, typeID: UInt32, offset: Int)
    case invalidBool(file: String, key: String, value: UInt8, offset: Int)
    case nestingTooDeep(file: String, key: String, depth: Int)
    case duplicateKey(file: String, key: String)
    case badAlignment(file: String, value: String)
    case duplicateTensor(file: String, name: String)
    case tooManyDimensions(file: String, tensor: String, dimensions: UInt32, maximum: Int)
    case invalidShape(file: String, tensor: String, ne: [UInt64])
    case unknownTensorType(file: String, tensor: String, typeID: UInt32)
    case rowNotBlockMultiple(file: String, tensor: String, typeName: String, rowLength: Int, blockElements: Int)
    case misalignedTensor(file: String, tensor: String, offset: UInt64, alignment: Int)
    case tensorOutOfBounds(file: String, tensor: String, offset: UInt64, byteCount: Int, available: Int)
    case overlappingTensors(file: String, first: String, second: String, offset: Int)
    case missingTensor(file: String, name: String)
    case unsupportedType(file: String, tensor: String, typeName: String)

    public var description: String {
        switch self {
        case .truncated(let file, let overrun):
            return "\(file): GGUF \(overrun)"
        case .badMagic(let file, let found):
            let text = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "\(file): not a GGUF file: expected magic bytes 47 47 55 46 (\"GGUF\"), found [\(text)]"
        case .bigEndian(let file, let raw):
            return "\(file): big-endian GGUF (version field reads \(raw) little-endian, \(raw.byteSwapped) big-endian); only little-endian GGUF is supported"
        case .unsupportedVersion(let file, let version):
            let hint = version == 1 ? " (GGUF v1 used 32-bit lengths; re-convert the model with a current llama.cpp)" : ""
            return "\(file): unsupported GGUF version \(version), expected 2 or 3\(hint)"
        case .countTooLarge(let file, let what, let count, let maximum):
            return "\(file): \(what) is \(count), but the remaining bytes can hold at most \(maximum)"
        case .unknownValueType(let file, let key, let typeID, let offset):
            return "\(file): metadata key '\(key)': unknown value type \(typeID) at offset \(offset), expected 0...12"
        case .invalidBool(let file, let key, let value, let offset):
            return "\(file): metadata key '\(key)': bool byte \(value) at offset \(offset), expected 0 or 1"
        case .nestingTooDeep(let file, let key, let depth):
            return "\(file): metadata key '\(key)': arrays nested \(depth) deep, expected at most \(GGUFFile.maximumArrayNesting)"
        case .duplicateKey(let file, let key):
            return "\(file): metadata key '\(key)' appears more than once"
        case .badAlignment(let file, let value):
            return "\(file): general.alignment is \(value), expected a UINT32 power of two"
        case .duplicateTensor(let file, let name):
            return "\(file): tensor '\(name)' appears more than once"
        case .tooManyDimensions(let file, let tensor, let dimensions, let maximum):
            return "\(file): tensor '\(tensor)' has \(dimensions) dimensions, expected at most \(maximum)"
        case .invalidShape(let file, let tensor, let ne):
            return "\(file): tensor '\(tensor)' has ne \(ne): element count overflows or is out of range"
        case .unknownTensorType(let file, let tensor, let typeID):
            return "\(file): tensor '\(tensor)' has unknown ggml type id \(typeID)"
        case .rowNotBlockMultiple(let file, let tensor, let typeName, let rowLength, let block):
            return "\(file): tensor '\(tensor)' of type \(typeName) has rows of \(rowLength) elements, expected a multiple of the block size \(block)"
        case .misalignedTensor(let file, let tensor, let offset, let alignment):
            return "\(file): tensor '\(tensor)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let file, let tensor, let offset, let byteCount, let available):
            return "\(file): tensor '\(tensor)' data at offset \(offset) needs \(byteCount) bytes, but only \(available) bytes of data follow the header"
        case .overlappingTensors(let file, let first, let second, let offset):
            return "\(file): tensor '\(second)' starts at data offset \(offset), inside tensor '\(first)'"
        case .missingTensor(let file, let name):
            return "\(file): no tensor named '\(name)'"
        case .unsupportedType(let file, let tensor, let typeName):
            return "\(file): tensor '\(tensor)' has type \(typeName); supported: F32, F16, BF16, Q8_0"
        }
    }

    public var errorDescription: String? { description }
}
