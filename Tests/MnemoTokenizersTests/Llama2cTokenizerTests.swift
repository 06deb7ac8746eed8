import Foundation
import XCTest
@testable import MnemoTokenizers

/// llama2.c `tokenizer.bin` files against run.c's own `encode` / `decode` (goldens made by the C harness in
/// Fixtures/scripts/make_tokenizer_goldens.py).
final class Llama2cTokenizerTests: XCTestCase {
    func testAgainstRunC() throws {
        let root = try XCTUnwrap(try Fixtures.json("tokenizers/goldens/llama2c.json") as? [String: Any])
        let files = try XCTUnwrap(root["tokenizers"] as? [[String: Any]])
        XCTAssertEqual(files.count, 2)
        for f in files {
            let path = try XCTUnwrap(f["file"] as? String)
            let vocab = try XCTUnwrap(f["vocab_size"] as? Int)
            let t = try Tokenizer(llama2cURL: Fixtures.url(path), vocabularySize: vocab)
            XCTAssertEqual(t.vocabularySize, vocab)
            XCTAssertEqual(t.bosTokenID, 1)
            XCTAssertEqual(t.eosTokenIDs, [2])
            let cases = try XCTUnwrap(f["cases"] as? [[String: Any]])
            XCTAssertGreaterThan(cases.count, 5)
            for c in cases {
                let text = try XCTUnwrap(c["text"] as? String)
                let expected = try XCTUnwrap(c["ids_with_bos"] as? [Int])
                let ids = t.encode(text)
                XCTAssertEqual(ids, expected, "\(path): \(text.debugDescription)")
                XCTAssertEqual(t.encode(text, addSpecialTokens: false), Array(expected.dropFirst()), path)
                XCTAssertEqual(t.decode(expected), try XCTUnwrap(c["decoded"] as? String), "\(path): \(text.debugDescription)")
            }
        }
    }

    func testLoadForModelFindsTok512() throws {
        let t = try Tokenizer.load(forModelAt: Fixtures.url("models/stories260K/stories260K.bin"))
        XCTAssertEqual(t.vocabularySize, 512)
        let v1 = try Tokenizer.load(forModelAt: Fixtures.url("models/stories260K/stories260K_v1.bin"))
        XCTAssertEqual(v1.vocabularySize, 512)
        XCTAssertEqual(try Tokenizer.load(from: Fixtures.url("models/stories260K/tok512.bin")).vocabularySize, 512)
    }

    /// Streaming decode of byte-fallback tokens (`<0xXX>` → bytes) never splits a character.
    func testStreamingByteFallback() throws {
        let t = try Tokenizer.load(from: Fixtures.url("models/stories260K/tok512.bin"))
        let text = "Ünïcödé ✓ 日本語 🦙 done"
        let ids = t.encode(text)
        var stream = t.makeStreamingDecoder()
        var out = ""
        var chunks = 0
        for id in ids {
            let s = stream.append(id)
            XCTAssertFalse(s.unicodeScalars.contains("\u{FFFD}"))
            if !s.isEmpty { chunks += 1 }
            out += s
        }
        out += stream.flush()
        XCTAssertEqual(out, text)
        XCTAssertLessThan(chunks, ids.count - 1, "some byte tokens must have been held back")
    }
}
