import Foundation

/// Why a llama2.c checkpoint was rejected. Each description is one line naming the file and the
/// offending header field or size, and what was expected.
public enum Llama2cError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case truncated(file: String, ByteReaderOverrun)
    case invalidHeader(file: String, field: String, value: Int, expected: String)
    case unsupportedVersion(file: String, version: Int)
    case sizeMismatch(file: String, expected: Int, found: Int)
    case missingTensor(file: String, name: String)

    public var description: String {
        switch self {
        case .truncated(let file, let overrun):
            return "\(file): llama2.c checkpoint \(overrun)"
        case .invalidHeader(let file, let field, let value, let expected):
            return "\(file): llama2.c header field \(field) = \(value), expected \(expected)"
        case .unsupportedVersion(let file, let version):
            let hint = version == 2 ? " (version 2 is llama2.c's int8 group-quantized export)" : ""
            return "\(file): llama2.c checkpoint version \(version) is not supported, expected 1 or the legacy headerless-magic format\(hint)"
        case .sizeMismatch(let file, let expected, let found):
            return "\(file): llama2.c file is \(found) bytes, but its header implies \(expected) bytes"
        case .missingTensor(let file, let name):
            return "\(file): no tensor named '\(name)'"
        }
    }

    public var errorDescription: String? { description }
}
