import Foundation
import XCTest
@testable import MnemoTokenizers

/// Whole novels against Hugging Face `tokenizers` (goldens from Fixtures/scripts/make_tokenizer_goldens.py):
/// Alice (clean, LF) and Moby Dick (UTF-8 BOM + CRLF, read byte-exactly) with GPT-2 and Llama 2.
final class NovelGoldenTests: XCTestCase {
    struct Entry { var novel: String; var tokenizer: String; var idsFile: String; var count: Int }

    func entries() throws -> [Entry] {
        let root = try XCTUnwrap(try Fixtures.json("tokenizers/goldens/novels.json") as? [String: Any])
        return try XCTUnwrap(root["entries"] as? [[String: Any]]).map {
            Entry(novel: try XCTUnwrap($0["novel"] as? String), tokenizer: try XCTUnwrap($0["tokenizer"] as? String),
                  idsFile: try XCTUnwrap($0["ids_file"] as? String), count: try XCTUnwrap($0["count"] as? Int))
        }
    }

    func referenceIDs(_ e: Entry) throws -> [Int] {
        let data = try Fixtures.data("tokenizers/goldens/\(e.idsFile)")
        XCTAssertEqual(data.count, e.count * 2)
        let bytes = [UInt8](data)
        return (0..<e.count).map { i -> Int in Int(bytes[2 * i]) | Int(bytes[2 * i + 1]) << 8 }
    }

    func check(novel: String, tokenizer key: String) throws {
        let e = try XCTUnwrap(try entries().first { $0.novel.contains(novel) && $0.tokenizer.contains(key) })
        let text = try readUTF8Text(url: Fixtures.url(e.novel))
        let tokenizer = try Fixtures.tokenizer(e.tokenizer)
        let expected = try referenceIDs(e)
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        if ids != expected {
            let first = zip(ids, expected).enumerated().first { $1.0 != $1.1 }?.offset ?? min(ids.count, expected.count)
            let lo = max(0, first - 5)
            XCTFail("\(novel)/\(key): \(ids.count) ids vs \(expected.count) expected; first difference at \(first): "
                    + "got \(ids[lo..<min(ids.count, first + 5)]) expected \(expected[lo..<min(expected.count, first + 5)])")
        }
        // Both tokenizers are lossless on these texts: GPT-2 is byte-level; Llama 2 prepends '▁' and maps
        // ' ' to '▁', which its decoder undoes (Replace, then Strip of one leading space); all characters
        // are in the vocabulary or byte-fallback tokens, and the novels contain no "<s>", "</s>", "<unk>".
        XCTAssertEqual(tokenizer.decode(ids), text, "\(novel)/\(key): decode(encode(text)) != text")
    }

    func testAliceGPT2() throws { try check(novel: "alice", tokenizer: "gpt2") }
    func testAliceLlama2() throws { try check(novel: "alice", tokenizer: "llama2") }
    func testMobyDickGPT2() throws { try check(novel: "moby", tokenizer: "gpt2") }
    func testMobyDickLlama2() throws { try check(novel: "moby", tokenizer: "llama2") }

    /// Streaming the Alice ids one at a time gives exactly the full decode, in complete characters.
    func testStreamingDecodeOfAlice() throws {
        for key in ["gpt2", "llama2"] {
            let e = try XCTUnwrap(try entries().first { $0.novel.contains("alice") && $0.tokenizer.contains(key) })
            let tokenizer = try Fixtures.tokenizer(e.tokenizer)
            let ids = Array(try referenceIDs(e).prefix(6000))
            var stream = tokenizer.makeStreamingDecoder()
            var text = ""
            for id in ids {
                let chunk = stream.append(id)
                XCTAssertFalse(chunk.unicodeScalars.contains("\u{FFFD}"), key)
                text += chunk
            }
            text += stream.flush()
            XCTAssertEqual(text, tokenizer.decode(ids), key)
        }
    }
}
