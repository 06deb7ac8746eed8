import Foundation
import MnemoTokenizers

/// Reading user-supplied text files (prompts, documents to score).
public enum TextFile {
    /// The contents of `url` as a string, validated as UTF-8 by `MnemoTokenizers.readUTF8Text(url:)`.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - allowEmpty: when false an empty file throws `GenerationError.emptyFile`.
    /// - Throws: `TokenizerError.unreadable`, `TokenizerError.invalidUTF8` (with the byte offset of
    ///   the first bad byte) or `GenerationError.emptyFile`, each naming the file.
    public static func read(_ url: URL, allowEmpty: Bool = true) throws -> String {
        let text = try readUTF8Text(url: url)
        if text.isEmpty, !allowEmpty { throw GenerationError.emptyFile(path: url.path) }
        return text
    }
}
