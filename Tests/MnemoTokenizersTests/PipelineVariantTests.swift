import Foundation
import XCTest
@testable import MnemoTokenizers

/// GPT-2 and Llama 2 tokenizer.json with components overridden (Metaspace pre-tokenizer/decoder with
/// prepend_scheme first/always and split, Llama-3/Qwen2-style Split + ByteLevel with ignore_merges and
/// prefix space, NFC, added tokens with lstrip/rstrip/single_word, Template/Roberta post-processors), on texts that
/// contain special-token strings, against Hugging Face `tokenizers` (goldens/hf_variants.json).
/// Decoding is compared on the ids without added tokens (see the generator script for why).
final class PipelineVariantTests: XCTestCase {
    func jsonValue(_ any: Any) throws -> JSONValue {
        let data = try JSONSerialization.data(withJSONObject: any, options: [.fragmentsAllowed])
        return try JSONParser.parse([UInt8](data))
    }

    func testVariantsMatchHF() throws {
        let root = try XCTUnwrap(try Fixtures.json("tokenizers/goldens/hf_variants.json") as? [String: Any])
        let variants = try XCTUnwrap(root["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.count, 7)
        let bases = ["gpt2": "tokenizers/gpt2/tokenizer.json", "llama2": "tokenizers/llama2/tokenizer.json"]
        var parsedBases: [String: JSONObject] = [:]
        for (k, path) in bases { parsedBases[k] = try JSONReader.parse(try Fixtures.data(path), file: path) }
        for v in variants {
            let name = try XCTUnwrap(v["name"] as? String)
            var json = try XCTUnwrap(parsedBases[try XCTUnwrap(v["base"] as? String)])
            for (key, value) in try XCTUnwrap(v["overrides"] as? [String: Any]) { json.set(key, try jsonValue(value)) }
            guard case .object(var model)? = json["model"] else { return XCTFail("model") }
            for (key, value) in try XCTUnwrap(v["model_overrides"] as? [String: Any]) { model.set(key, try jsonValue(value)) }
            json.set("model", .object(model))
            if let extra = v["extra_added_tokens"] as? [Any], case .array(let added)? = json["added_tokens"] {
                json.set("added_tokens", .array(added + (try extra.map { try jsonValue($0) })))
            }
            let tokenizer = try HFTokenizerLoader.build(json, file: name, config: nil, configFile: "none")
            let cases = try XCTUnwrap(v["cases"] as? [[String: Any]])
            XCTAssertGreaterThan(cases.count, 10)
            for c in cases {
                let text = try XCTUnwrap(c["text"] as? String)
                let ids = try XCTUnwrap(c["ids"] as? [Int])
                XCTAssertEqual(tokenizer.encode(text), ids, "\(name): \(text.debugDescription)")
                let plain = try XCTUnwrap(c["plain_ids"] as? [Int])
                XCTAssertEqual(tokenizer.decode(plain), try XCTUnwrap(c["decoded_plain"] as? String), "\(name): decode \(text.debugDescription)")
            }
        }
    }
}
