import Foundation

/// Everything that can go wrong while loading a tokenizer or reading text for it.
///
/// Each case names the file (or key) involved, what was found and what was expected, so that
/// `"\(error)"` is one line a user can act on.
public enum TokenizerError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The file is not valid JSON (truncated, or malformed).
    case invalidJSON(file: String, reason: String)
    /// A required key is missing.
    case missingKey(file: String, key: String)
    /// A key holds a value of the wrong type or an unsupported value.
    case invalidValue(file: String, key: String, found: String, expected: String)
    /// A model / normalizer / pre-tokenizer / decoder / post-processor type this module does not implement.
    case unsupported(file: String, key: String, found: String, supported: String)
    /// A merge names a token that is not in the vocabulary.
    case unknownMergeToken(file: String, index: Int, token: String)
    /// A binary file ended before a field could be read.
    case truncated(file: String, offset: Int, needed: Int, available: Int, field: String)
    /// A text file holds bytes that are not UTF-8.
    case invalidUTF8(file: String, offset: Int)
    /// A model path from which no tokenizer could be found.
    case noTokenizerFound(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read file: \(reason)"
        case let .invalidJSON(file, reason):
            return "\(file): invalid JSON: \(reason)"
        case let .missingKey(file, key):
            return "\(file): missing key '\(key)'"
        case let .invalidValue(file, key, found, expected):
            return "\(file): key '\(key)': found \(found), expected \(expected)"
        case let .unsupported(file, key, found, supported):
            return "\(file): key '\(key)': unsupported value '\(found)' (supported: \(supported))"
        case let .unknownMergeToken(file, index, token):
            return "\(file): merges[\(index)]: token '\(token)' is not in the vocabulary"
        case let .truncated(file, offset, needed, available, field):
            return "\(file): truncated at byte offset \(offset) reading \(field): needed \(needed) bytes, \(available) remain"
        case let .invalidUTF8(file, offset):
            return "\(file): invalid UTF-8 at byte offset \(offset)"
        case let .noTokenizerFound(path, reason):
            return "\(path): no tokenizer found (\(reason)); pass --tokenizer PATH"
        }
    }

    public var errorDescription: String? { description }
}
