import Foundation
import MnemoFormats
import XCTest
@testable import MnemoTokenizers

/// GGUF files whose tokenizer metadata is missing or wrong throw `TokenizerError` naming the key.
final class GGUFTokenizerErrorTests: XCTestCase {
    enum Value {
        case string(String), strings([String]), floats([Float]), ints([Int32]), uint32(UInt32), bool(Bool)
    }

    /// Writes a GGUF v3 file with no tensors and the given metadata (GGUF spec, ggml/docs/gguf.md).
    func writeGGUF(_ kv: [(String, Value)]) throws -> URL {
        var b: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += Array(s.utf8) }
        u32(3); u64(0); u64(UInt64(kv.count))
        for (key, value) in kv {
            str(key)
            switch value {
            case .string(let s): u32(8); str(s)
            case .strings(let a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
            case .floats(let a): u32(9); u32(6); u64(UInt64(a.count)); a.forEach { u32($0.bitPattern) }
            case .ints(let a): u32(9); u32(5); u64(UInt64(a.count)); a.forEach { u32(UInt32(bitPattern: $0)) }
            case .uint32(let v): u32(4); u32(v)
            case .bool(let v): u32(7); b.append(v ? 1 : 0)
            }
        }
        while b.count % 32 != 0 { b.append(0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-tok-\(UUID().uuidString).gguf")
        try Data(b).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func expectError(_ url: URL, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Tokenizer.load(from: url)
            XCTFail("no error", file: file, line: line)
        } catch let e as TokenizerError {
            let m = "\(e)"
            XCTAssertTrue(m.contains(url.path), m, file: file, line: line)
            for p in parts { XCTAssertTrue(m.contains(p), "'\(m)' lacks '\(p)'", file: file, line: line) }
        } catch {
            XCTFail("unexpected \(type(of: error)): \(error)", file: file, line: line)
        }
    }

    let spmTokens = ["<unk>", "<s>", "</s>", "\u{2581}", "a", "b", "\u{2581}a", "ab"]

    func testMissingAndWrongKeys() throws {
        expectError(try writeGGUF([("general.architecture", .string("llama"))]), ["missing key 'tokenizer.ggml.model'"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("bert")), ("tokenizer.ggml.tokens", .strings(spmTokens))]),
                    ["tokenizer.ggml.model", "bert", "llama, gpt2"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .uint32(3))]), ["tokenizer.ggml.model", "expected a string"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("llama"))]), ["missing key 'tokenizer.ggml.tokens'"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(spmTokens)),
                                   ("tokenizer.ggml.scores", .floats([0, 1]))]),
                    ["tokenizer.ggml.scores", "2 entries", "8 floats"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(spmTokens)),
                                   ("tokenizer.ggml.bos_token_id", .uint32(99))]),
                    ["tokenizer.ggml.bos_token_id", "0..<8"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(spmTokens))]),
                    ["missing key 'tokenizer.ggml.merges'"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(spmTokens)),
                                   ("tokenizer.ggml.merges", .strings(["a b"])), ("tokenizer.ggml.pre", .string("falcon"))]),
                    ["tokenizer.ggml.pre", "falcon"])
        expectError(try writeGGUF([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(spmTokens)),
                                   ("tokenizer.ggml.merges", .strings(["a b"]))]),
                    ["tokenizer.ggml.tokens", "no token for byte"])
    }

    /// A minimal SPM vocabulary loads and merges by score (sanity, not a golden: see LlamaCppVocabTests).
    func testMinimalSPMLoads() throws {
        let url = try writeGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(spmTokens)),
                                 ("tokenizer.ggml.scores", .floats([0, 0, 0, -1, -2, -2, -0.5, -3])),
                                 ("tokenizer.ggml.token_type", .ints([2, 3, 3, 1, 1, 1, 1, 1])),
                                 ("tokenizer.ggml.add_bos_token", .bool(false))])
        let t = try Tokenizer.load(from: url)
        XCTAssertEqual(t.vocabularySize, 8)
        XCTAssertEqual(t.encode("a ab"), [6, 6, 5])   // "▁a▁ab": "▁a" (score -0.5) beats "ab" (-3)
        XCTAssertEqual(t.decode([6, 6, 5]), "a ab")
    }
}
