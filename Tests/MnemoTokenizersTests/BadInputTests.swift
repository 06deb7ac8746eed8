import Foundation
import XCTest
@testable import MnemoTokenizers

/// Every kind of invalid input throws a `TokenizerError` whose one-line message names the file and key
/// or offset; nothing crashes.
final class BadInputTests: XCTestCase {
    /// A small but complete byte-level tokenizer.json.
    static let tiny = #"""
    {"version":"1.0","added_tokens":[{"id":6,"content":"<|end|>","special":true,"normalized":false}],
     "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
     "post_processor":null,"decoder":{"type":"ByteLevel"},
     "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"Ġab":4,"c":5},"merges":["a b",["Ġ","ab"]]}}
    """#

    func expectError(_ body: () throws -> Void, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("no error thrown", file: file, line: line)
        } catch let error as TokenizerError {
            let message = "\(error)"
            XCTAssertFalse(message.contains("\n"), "message must be one line: \(message)", file: file, line: line)
            for p in parts { XCTAssertTrue(message.contains(p), "'\(message)' lacks '\(p)'", file: file, line: line) }
        } catch {
            XCTFail("unexpected error type \(type(of: error)): \(error)", file: file, line: line)
        }
    }

    func load(_ json: String) throws -> Tokenizer {
        try HFTokenizerLoader.load(data: Data(json.utf8), file: "tok.json")
    }

    func testByteLevelVocabularyMissingBytes() throws {
        // Not all 256 bytes present, so loading must fail with a clear message.
        expectError({ _ = try self.load(Self.tiny) }, contains: ["tok.json", "model.vocab", "byte"])
    }

    func testMalformedAndUnsupported() throws {
        expectError({ _ = try self.load("{\"model\": ") }, contains: ["tok.json", "invalid JSON", "offset 10"])
        expectError({ _ = try self.load("[1, 2]") }, contains: ["tok.json", "top level"])
        expectError({ _ = try self.load("{}") }, contains: ["tok.json", "missing key 'model'"])
        expectError({ _ = try self.load(#"{"model":{"type":"WordPiece","vocab":{}}}"#) },
                    contains: ["tok.json", "model.type", "WordPiece"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":{"a":0}}}"#) },
                    contains: ["tok.json", "missing key 'model.merges'"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":[],"merges":[]}}"#) },
                    contains: ["tok.json", "model.vocab", "an array"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":{"a":"x"},"merges":[]}}"#) },
                    contains: ["tok.json", "model.vocab.a"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a q"]}}"#) },
                    contains: ["tok.json", "merges[0]", "'q'"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}"#) },
                    contains: ["tok.json", "merges[0]", "'ab'"])
        expectError({ _ = try self.load(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}}"#) },
                    contains: ["tok.json", "merges[0]", "two tokens"])
        expectError({ _ = try self.load(#"{"normalizer":{"type":"BertNormalizer"},"model":{"type":"BPE","vocab":{},"merges":[]}}"#) },
                    contains: ["tok.json", "normalizer.type", "BertNormalizer"])
        expectError({ _ = try self.load(#"{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\d+"},"behavior":"Isolated"},"model":{"type":"BPE","vocab":{},"merges":[]}}"#) },
                    contains: ["tok.json", "pre_tokenizer.pattern.Regex"])
        expectError({ _ = try self.load(#"{"decoder":{"type":"WordPiece"},"model":{"type":"BPE","vocab":{},"merges":[]}}"#) },
                    contains: ["tok.json", "decoder.type", "WordPiece"])
    }

    /// Ids far beyond the token count (which would size `pieces`/`special` at gigabytes) throw a
    /// one-line error naming the key and the id; ids near the count still load.
    func testSparseHugeIDsThrow() throws {
        func json(vocabB: Int = 1, added: String = "") -> String {
            #"{"added_tokens":[\#(added)],"model":{"type":"BPE","vocab":{"a":0,"b":\#(vocabB),"ab":2},"merges":["a b"]}}"#
        }
        XCTAssertEqual(try load(json()).encode("ab", addSpecialTokens: false), [2])
        // Sparse but bounded ids are accepted (limit: 2 x tokens + 1024).
        XCTAssertEqual(try load(json(added: #"{"id":1000,"content":"<x>","special":true}"#)).encode("ab<x>", addSpecialTokens: false), [2, 1000])
        expectError({ _ = try self.load(json(added: #"{"id":0,"content":"<s>"},{"id":2147483646,"content":"<big>","special":true}"#)) },
                    contains: ["tok.json", "added_tokens[1].id", "2147483646"])
        expectError({ _ = try self.load(json(vocabB: 2147483646)) }, contains: ["tok.json", "model.vocab.b", "2147483646"])
        expectError({ _ = try self.load(json(added: #"{"id":1033,"content":"<x>"}"#)) }, contains: ["tok.json", "added_tokens[0].id", "1033"])
    }

    /// A real tokenizer.json cut at a sample of offsets always throws (the cut object never closes).
    func testTruncatedTokenizerJSON() throws {
        let data = try Fixtures.data("tokenizers/llama2/tokenizer.json")
        let lastBrace = try XCTUnwrap(data.lastIndex(of: UInt8(ascii: "}")))
        var offsets = Array(stride(from: 0, to: 4096, by: 7))
        offsets += stride(from: 4096, to: lastBrace, by: max(1, lastBrace / 16))
        offsets += [lastBrace - 1, lastBrace]
        for cut in offsets {
            expectError({ _ = try HFTokenizerLoader.load(data: data.prefix(cut), file: "tokenizer.json") },
                        contains: ["tokenizer.json", "invalid JSON"])
        }
    }

    /// The whole small tokenizer cut at every byte offset throws.
    func testTruncatedTinyJSONAtEveryOffset() throws {
        let data = Data(Self.tiny.utf8)
        let lastBrace = try XCTUnwrap(data.lastIndex(of: UInt8(ascii: "}")))
        for cut in 0...lastBrace {
            expectError({ _ = try HFTokenizerLoader.load(data: data.prefix(cut), file: "tok.json") }, contains: ["tok.json", "invalid JSON"])
        }
    }

    /// tok512.bin cut at every offset: each cut throws when the expected vocabulary size is known, and
    /// every cut inside a token record throws even without it.
    func testTruncatedTokenizerBin() throws {
        let data = try Fixtures.data("models/stories260K/tok512.bin")
        let file = "tok512.bin"
        var sawTruncated = false
        for cut in 0..<data.count {
            do {
                _ = try Tokenizer(llama2cData: data.prefix(cut), file: file, vocabularySize: 512)
                XCTFail("cut at \(cut) did not throw")
            } catch let e as TokenizerError {
                XCTAssertTrue("\(e)".hasPrefix(file), "\(e)")
                if case .truncated = e { sawTruncated = true }
            }
        }
        XCTAssertTrue(sawTruncated)
        XCTAssertEqual(try Tokenizer(llama2cData: data, file: file, vocabularySize: 512).vocabularySize, 512)
        expectError({ _ = try Tokenizer(llama2cData: data.prefix(9), file: file) },
                    contains: [file, "truncated at byte offset 8", "length of token 0"])
        expectError({ _ = try Tokenizer(llama2cData: data, file: file, vocabularySize: 500) }, contains: [file, "token count", "512", "500"])
        var bad = data
        bad[8] = 0xFF; bad[9] = 0xFF; bad[10] = 0xFF; bad[11] = 0x7F
        expectError({ _ = try Tokenizer(llama2cData: bad, file: file) }, contains: [file, "length of token 0", "max_token_length"])
    }

    func testInvalidUTF8Text() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-utf8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("doc.txt")
        for (bytes, offset) in [([0x61, 0x62, 0x63, 0xC3, 0x28], 3), ([0xFF], 0), ([0x61, 0xE2, 0x82], 1),
                                ([0xED, 0xA0, 0x80], 0), ([0x61, 0x62, 0xC0, 0xAF], 2), ([0xF4, 0x90, 0x80, 0x80], 0)] as [([UInt8], Int)] {
            try Data(bytes).write(to: url)
            expectError({ _ = try readUTF8Text(url: url) }, contains: [url.path, "invalid UTF-8 at byte offset \(offset)"])
        }
        // Valid text is returned exactly: BOM and CRLF kept.
        let exact: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a\r\nb é 🦙\n".utf8)
        try Data(exact).write(to: url)
        XCTAssertEqual(Array(try readUTF8Text(url: url).utf8), exact)
        expectError({ _ = try readUTF8Text(url: dir.appendingPathComponent("missing.txt")) }, contains: ["missing.txt", "cannot read"])
    }

    func testNoTokenizerForModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model.bin")
        try Data(repeating: 1, count: 64).write(to: model)
        expectError({ _ = try Tokenizer.load(forModelAt: model) }, contains: [model.path, "no tokenizer found", "--tokenizer"])
        try Data(repeating: 1, count: 8).write(to: dir.appendingPathComponent("tok1.bin"))
        try Data(repeating: 1, count: 8).write(to: dir.appendingPathComponent("tok2.bin"))
        expectError({ _ = try Tokenizer.load(forModelAt: model) }, contains: ["several candidates", "tok1.bin", "tok2.bin"])
        expectError({ _ = try Tokenizer.load(from: dir) }, contains: [dir.path, "no tokenizer.json"])
        expectError({ _ = try Tokenizer.load(from: dir.appendingPathComponent("nothing.json")) }, contains: ["nothing.json", "no such file"])
    }
}
