import Foundation
import XCTest
@testable import MnemoTokenizers

/// Auto-detection of tokenizer files, tokenizer_config.json handling, merges given as pairs, and the
/// GGUF vocabularies against the transformers multilingual baselines.
final class LoadingTests: XCTestCase {
    func testFolderAndConfig() throws {
        let folder = Fixtures.url("tokenizers/llama2")
        let t = try Tokenizer.load(from: folder)
        XCTAssertEqual(t.bosTokenID, 1)
        XCTAssertEqual(t.eosTokenIDs, [2])
        XCTAssertEqual(t.vocabularySize, 32000)
        XCTAssertEqual(t.encode("Hello world"), [1, 15043, 3186])
        XCTAssertEqual(try Tokenizer.load(forModelAt: folder).encode("Hello world"), [1, 15043, 3186])
        XCTAssertEqual(try Tokenizer.load(forModelAt: folder.appendingPathComponent("tokenizer_config.json")).vocabularySize, 32000)
        let gguf = Fixtures.url("tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")
        XCTAssertEqual(try Tokenizer.load(forModelAt: gguf).encode("Hello world"), [1, 15043, 3186])
    }

    /// `add_bos_token` / `add_eos_token` override the post-processor (transformers LlamaTokenizerFast);
    /// bos/eos given as strings or AddedToken dicts; `chat_template` kept as text (string or named list).
    func testTokenizerConfig() throws {
        let json = try Fixtures.data("tokenizers/llama2/tokenizer.json")
        func load(_ config: String) throws -> Tokenizer {
            try HFTokenizerLoader.load(data: json, file: "tokenizer.json", configData: Data(config.utf8))
        }
        let both = try load(#"{"add_bos_token": true, "add_eos_token": true, "bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": "{{ messages }}"}"#)
        XCTAssertEqual(both.encode("Hello world"), [1, 15043, 3186, 2])
        XCTAssertEqual(both.chatTemplate, "{{ messages }}")
        let none = try load(#"{"add_bos_token": false, "eos_token": "</s>"}"#)
        XCTAssertEqual(none.encode("Hello world"), [15043, 3186])
        XCTAssertEqual(none.encode("Hello world", addSpecialTokens: false), [15043, 3186])
        let named = try load(#"{"chat_template": [{"name": "tool_use", "template": "A"}, {"name": "default", "template": "B"}]}"#)
        XCTAssertEqual(named.chatTemplate, "B")
        XCTAssertEqual(named.encode("Hello world"), [1, 15043, 3186], "no add_* keys: the template post-processor applies")
        XCTAssertThrowsError(try load(#"{"add_bos_token": "yes"}"#)) { error in
            XCTAssertTrue("\(error)".contains("add_bos_token"), "\(error)")
        }
        XCTAssertThrowsError(try load(#"{"eos_token": {"text": "</s>"}}"#)) { error in
            XCTAssertTrue("\(error)".contains("eos_token.content"), "\(error)")
        }
    }

    /// Merges written as `["a", "b"]` pairs give the same tokenizer as `"a b"` strings.
    func testMergesAsPairs() throws {
        let path = "tokenizers/gpt2/tokenizer.json"
        var root = try JSONReader.parse(try Fixtures.data(path), file: path)
        guard case .object(var model)? = root["model"], case .array(let merges)? = model["merges"] else { return XCTFail("merges") }
        model.set("merges", .array(merges.map { m -> JSONValue in
            guard case .string(let s) = m else { return m }
            let parts = s.split(separator: " ", omittingEmptySubsequences: false).map { JSONValue.string(String($0)) }
            return .array(parts)
        }))
        root.set("model", .object(model))
        let pairs = try HFTokenizerLoader.build(root, file: path, config: nil, configFile: "")
        let strings = try Fixtures.gpt2
        let text = try readUTF8Text(url: Fixtures.url("tokenizers/swift-transformers-tests/multilingual_inputs.json"))
        XCTAssertEqual(pairs.encode(text), strings.encode(text))
        XCTAssertGreaterThan(pairs.encode(text).count, 3000)
    }

    /// The GGUF vocabularies (llama.cpp algorithms) on the 83 multilingual inputs give transformers' ids.
    func testGGUFOnMultilingualBaselines() throws {
        let inputs = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/multilingual_inputs.json") as? [[String: Any]])
        var texts: [String: String] = [:]
        for i in inputs { texts[try XCTUnwrap(i["id"] as? String)] = try XCTUnwrap(i["text"] as? String) }
        for (gguf, baseline) in [("ggml-vocab-llama-spm.gguf", "tinyllama_multilingual_baseline.json"),
                                 ("ggml-vocab-gpt-2.gguf", "gpt2_multilingual_baseline.json")] {
            let t = try Tokenizer.load(from: Fixtures.url("tokenizers/llama.cpp-vocab/\(gguf)"))
            let root = try XCTUnwrap(try Fixtures.json("tokenizers/swift-transformers-tests/\(baseline)") as? [String: Any])
            for e in try XCTUnwrap(root["entries"] as? [[String: Any]]) {
                let id = try XCTUnwrap(e["id"] as? String)
                let expected = try XCTUnwrap(e["input_ids"] as? [Int])
                XCTAssertEqual(t.encode(try XCTUnwrap(texts[id])), expected, "\(gguf): \(id)")
                XCTAssertEqual(t.decode(expected), try XCTUnwrap(e["decoded_skip_special"] as? String), "\(gguf): decode \(id)")
            }
        }
    }
}

/// Decoding cut characters as HF `tokenizers` 0.23.3 does (values checked with its Python API):
/// byte-fallback runs that are not valid UTF-8 give one U+FFFD per byte token; byte-level gives one per
/// maximal invalid subsequence.
final class InvalidUTF8DecodeTests: XCTestCase {
    func testCutCharacters() throws {
        let llama = try Fixtures.llama2
        XCTAssertEqual(llama.decode([233, 154]), "\u{FFFD}\u{FFFD}")
        XCTAssertEqual(llama.decode([15043, 233, 154, 3186]), "Hello\u{FFFD}\u{FFFD} world")
        XCTAssertEqual(llama.decode([15043, 233, 3186, 154]), "Hello\u{FFFD} world\u{FFFD}")
        let gpt2 = try Fixtures.gpt2
        XCTAssertEqual(gpt2.decode([33768]), "\u{FFFD}")
        XCTAssertEqual(gpt2.decode([15496, 33768, 995]), "Hello\u{FFFD} world")
        // Streaming holds the cut character back instead.
        var stream = llama.makeStreamingDecoder()
        XCTAssertEqual(stream.append(15043), "Hello")
        XCTAssertEqual(stream.append(233), "")
        XCTAssertEqual(stream.append(154), "")
        XCTAssertEqual(llama.tokenString(168), "<0xA5>")
        XCTAssertEqual(stream.append(168), "\u{65E5}")   // E6 97 A5
        XCTAssertEqual(stream.append(233), "")
        XCTAssertEqual(stream.append(3186), "\u{FFFD} world")   // a cut character followed by text is invalid
    }
}
