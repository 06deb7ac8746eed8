import Foundation
import XCTest
@testable import MnemoTokenizers

/// swift-transformers' multilingual conformance set: 83 inputs (diacritics, Cyrillic, CJK, Hangul, RTL,
/// Indic, Thai, emoji/ZWJ, code with tabs) with the ids, token strings and decoded texts that Hugging
/// Face `transformers` 4.57.1 produced for GPT-2 and TinyLlama (= Llama 2 tokenizer).
final class MultilingualConformanceTests: XCTestCase {
    func inputs() throws -> [String: String] {
        let list = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/multilingual_inputs.json") as? [[String: Any]])
        var map: [String: String] = [:]
        for item in list { map[try XCTUnwrap(item["id"] as? String)] = try XCTUnwrap(item["text"] as? String) }
        return map
    }

    func check(_ tokenizer: Tokenizer, baseline: String) throws {
        let texts = try inputs()
        XCTAssertEqual(texts.count, 83)
        let root = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/\(baseline)") as? [String: Any])
        let entries = try XCTUnwrap(root["entries"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 83)
        for entry in entries {
            let id = try XCTUnwrap(entry["id"] as? String)
            let text = try XCTUnwrap(texts[id], id)
            let expected = try XCTUnwrap(entry["input_ids"] as? [Int])
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids, expected, id)
            if let tokens = entry["tokens"] as? [String] {
                XCTAssertEqual(ids.map { tokenizer.tokenString($0) ?? "?" }, tokens, id)
            }
            if let withSpecial = entry["decoded_with_special"] as? String {
                XCTAssertEqual(tokenizer.decode(expected, skipSpecialTokens: false), withSpecial, id)
            }
            if let skipSpecial = entry["decoded_skip_special"] as? String {
                XCTAssertEqual(tokenizer.decode(expected, skipSpecialTokens: true), skipSpecial, id)
            }
        }
    }

    func testGPT2() throws { try check(try Fixtures.gpt2, baseline: "gpt2_multilingual_baseline.json") }

    func testLlama2() throws { try check(try Fixtures.llama2, baseline: "tinyllama_multilingual_baseline.json") }

    /// One French paragraph: `bpe_tokens`, `token_ids` (with BOS) and `decoded_text` (with special tokens).
    func testLlamaEncodedParagraph() throws {
        let d = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/llama_encoded.json") as? [String: Any])
        let t = try Fixtures.llama2
        let text = try XCTUnwrap(d["text"] as? String)
        let ids = t.encode(text)
        XCTAssertEqual(ids, try XCTUnwrap(d["token_ids"] as? [Int]))
        XCTAssertEqual(ids.dropFirst().map { t.tokenString($0) ?? "?" }, try XCTUnwrap(d["bpe_tokens"] as? [String]))
        XCTAssertEqual(t.decode(ids, skipSpecialTokens: false), try XCTUnwrap(d["decoded_text"] as? String))
        XCTAssertEqual(t.decode(ids), text)
    }

    /// Same paragraph for GPT-2: `token_ids`, `bpe_tokens`, `decoded_text`.
    func testGPT2EncodedParagraph() throws {
        let d = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/gpt2_encoded_tokens.json") as? [String: Any])
        let t = try Fixtures.gpt2
        let text = try XCTUnwrap(d["text"] as? String)
        let ids = t.encode(text)
        XCTAssertEqual(ids, try XCTUnwrap(d["token_ids"] as? [Int]))
        XCTAssertEqual(ids.map { t.tokenString($0) ?? "?" }, try XCTUnwrap(d["bpe_tokens"] as? [String]))
        XCTAssertEqual(t.decode(ids), try XCTUnwrap(d["decoded_text"] as? String))
    }
}
