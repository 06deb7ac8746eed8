import Foundation

/// Why a document given to `mnemo summarize` cannot be read as text.
///
/// Every case names the file and what was expected, so `"\(error)"` is one clear line.
public enum DocumentError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Nothing exists at the path.
    case fileNotFound(file: String)
    /// The path exists but is a directory (or otherwise not a regular file).
    case notAFile(file: String)
    /// The file exists but could not be read.
    case unreadable(file: String, reason: String)
    /// The file has 0 bytes.
    case empty(file: String)
    /// The file holds only whitespace (`afterBoilerplateRemoval`: only once the Project Gutenberg
    /// header and footer were dropped).
    case whitespaceOnly(file: String, afterBoilerplateRemoval: Bool)
    /// The first 8 KB contain NUL bytes or too many control characters.
    case binary(file: String, reason: String)
    /// The file starts with a UTF-16 or UTF-32 byte-order mark.
    case unsupportedEncoding(file: String, found: String)
    /// The bytes are not well-formed UTF-8; `offset` is the first bad byte.
    case invalidUTF8(file: String, offset: Int)

    public var description: String {
        switch self {
        case let .fileNotFound(file):
            return "\(file): file not found (expected a UTF-8 plain-text or Markdown document)"
        case let .notAFile(file):
            return "\(file): not a regular file (expected a UTF-8 plain-text or Markdown document)"
        case let .unreadable(file, reason):
            return "\(file): cannot be read (\(reason))"
        case let .empty(file):
            return "\(file): the file is empty (0 bytes); expected some text"
        case let .whitespaceOnly(file, afterBoilerplateRemoval):
            return afterBoilerplateRemoval
                ? "\(file): no text left after removing the Project Gutenberg header and footer (use --keep-boilerplate to keep them)"
                : "\(file): the file contains only whitespace; expected some text"
        case let .binary(file, reason):
            return "\(file): looks binary (\(reason)); expected UTF-8 plain text or Markdown"
        case let .unsupportedEncoding(file, found):
            return "\(file): encoded as \(found); expected UTF-8 (convert it, e.g. with iconv -t UTF-8)"
        case let .invalidUTF8(file, offset):
            return "\(file): invalid UTF-8 at byte offset \(offset); expected UTF-8 text (convert it, e.g. with iconv -t UTF-8)"
        }
    }

    public var errorDescription: String? { description }
}
