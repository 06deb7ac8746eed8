import Foundation
import XCTest
@testable import MnemoTokenizers

/// Locations of test fixtures (the repository's `Fixtures/` folder) and shared loaded tokenizers.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    static func data(_ path: String) throws -> Data { try Data(contentsOf: url(path)) }

    static func json(_ path: String) throws -> Any { try JSONSerialization.jsonObject(with: try data(path)) }

    /// Tokenizers are immutable; load each once per test process.
    nonisolated(unsafe) private static var cache: [String: Tokenizer] = [:]
    private static let lock = NSLock()

    static func tokenizer(_ path: String) throws -> Tokenizer {
        lock.lock(); defer { lock.unlock() }
        if let t = cache[path] { return t }
        let t = try Tokenizer.load(from: url(path))
        cache[path] = t
        return t
    }

    static var gpt2: Tokenizer { get throws { try tokenizer("tokenizers/gpt2/tokenizer.json") } }
    static var llama2: Tokenizer { get throws { try tokenizer("tokenizers/llama2/tokenizer.json") } }

    /// Splits bytes on a byte separator (no String/grapheme processing, so CRLF stays intact).
    static func split(_ bytes: [UInt8], on separator: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var start = 0
        var i = 0
        while i + separator.count <= bytes.count {
            if Array(bytes[i..<(i + separator.count)]) == separator {
                parts.append(Array(bytes[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { parts.append(Array(bytes[start...])) }
        return parts
    }
}
