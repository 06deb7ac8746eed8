import Foundation
import MnemoFormats

extension Tokenizer {
    /// Loads a tokenizer from a Hugging Face folder (its `tokenizer.json` and `tokenizer_config.json`),
    /// a `tokenizer.json`, a `.gguf` file (its embedded vocabulary) or a llama2.c `tokenizer.bin`.
    ///
    /// - Throws: `TokenizerError` (or the GGUF reader's error) naming the file and what is wrong.
    public static func load(from url: URL) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadable(file: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            let json = url.appendingPathComponent("tokenizer.json")
            guard FileManager.default.fileExists(atPath: json.path) else {
                throw TokenizerError.noTokenizerFound(path: url.path, reason: "folder has no tokenizer.json")
            }
            return try HFTokenizerLoader.load(tokenizerJSON: json, config: url.appendingPathComponent("tokenizer_config.json"))
        }
        switch try sniff(url) {
        case .json:
            return try HFTokenizerLoader.load(tokenizerJSON: url,
                                              config: url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json"))
        case .gguf:
            return try Tokenizer(gguf: try GGUFFile(url: url))
        case .other:
            return try Tokenizer(llama2cURL: url)
        }
    }

    /// Finds and loads the tokenizer that belongs to a model: a Hugging Face folder's `tokenizer.json`,
    /// a `.gguf` file's embedded vocabulary, or for a llama2.c checkpoint `.bin` the `tokenizer.bin`
    /// (or the single `tok*.bin`) next to it, checked against the checkpoint's `vocab_size`.
    /// - Throws: `TokenizerError.noTokenizerFound` when none can be found (pass the tokenizer explicitly).
    public static func load(forModelAt url: URL) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadable(file: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue { return try load(from: url) }
        let folder = url.deletingLastPathComponent()
        switch try sniff(url) {
        case .gguf:
            return try load(from: url)
        case .json:
            return try load(from: folder)
        case .other:
            guard url.pathExtension.lowercased() == "bin" else {
                throw TokenizerError.noTokenizerFound(path: url.path, reason: "not a Hugging Face folder, .gguf file or llama2.c checkpoint .bin")
            }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
                throw TokenizerError.unreadable(file: folder.path, reason: (error as NSError).localizedDescription)
            }
            let candidates: [String]
            if names.contains("tokenizer.bin") && url.lastPathComponent != "tokenizer.bin" {
                candidates = ["tokenizer.bin"]
            } else {
                candidates = names.filter { $0.hasPrefix("tok") && $0.hasSuffix(".bin") && $0 != url.lastPathComponent }.sorted()
            }
            guard candidates.count == 1 else {
                let reason = candidates.isEmpty ? "no tokenizer.bin or tok*.bin next to it"
                    : "several candidates next to it: \(candidates.joined(separator: ", "))"
                throw TokenizerError.noTokenizerFound(path: url.path, reason: reason)
            }
            return try Tokenizer(llama2cURL: folder.appendingPathComponent(candidates[0]),
                                 vocabularySize: llama2cVocabularySize(url))
        }
    }

    private enum FileKind { case json, gguf, other }

    private static func sniff(_ url: URL) throws -> FileKind {
        let ext = url.pathExtension.lowercased()
        if ext == "json" { return .json }
        if ext == "gguf" { return .gguf }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw TokenizerError.unreadable(file: url.path, reason: "cannot open")
        }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 4))
        if head == Array("GGUF".utf8) { return .gguf }
        if head.first == UInt8(ascii: "{") { return .json }
        return .other
    }

    /// `vocab_size` from a llama2.c checkpoint header (legacy: 7 int32; v1: magic "ak42", version, 7 int32).
    private static func llama2cVocabularySize(_ url: URL) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 36))
        guard head.count >= 28 else { return nil }
        func int32(_ o: Int) -> Int32 {
            Int32(bitPattern: UInt32(head[o]) | UInt32(head[o + 1]) << 8 | UInt32(head[o + 2]) << 16 | UInt32(head[o + 3]) << 24)
        }
        let isV1 = int32(0) == 0x616B_3432
        guard !isV1 || head.count >= 36 else { return nil }
        let v = Int(int32(isV1 ? 28 : 20)).magnitude
        return v > 0 && v < 1 << 24 ? Int(v) : nil
    }
}
