import Foundation
import XCTest
@testable import MnemoModels

/// Bad input: each error case reached, its one-line message checked.
final class ErrorTests: XCTestCase {
    private let llamaJSON = """
    {"model_type": "llama", "vocab_size": 37, "hidden_size": 32, "num_hidden_layers": 2,
     "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48,
     "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0}
    """

    private func config(_ json: String) throws -> ModelConfig {
        try HFConfig.decode(Data(json.utf8), file: "config.json").modelConfig(file: "config.json")
    }

    private func assertThrows(_ expected: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected error \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual("\(error)", expected, file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), file: file, line: line)
        }
    }

    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testValidConfigParses() throws {
        let c = try config(llamaJSON)
        XCTAssertEqual(c.architecture, .llama)
        XCTAssertEqual(c.headDim, 8)
        XCTAssertEqual(c.kvHeadCount, 2)
        XCTAssertEqual(c.rope?.pairing, .halves)
        XCTAssertEqual(c.rope?.scaling, RoPEScaling.none)
    }

    func testBothRopeSpellingsParse() throws {
        let classic = llamaJSON.replacingOccurrences(of: "\"rope_theta\": 10000.0", with:
            "\"rope_theta\": 500000.0, \"torch_dtype\": \"float32\", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}")
        let v5 = llamaJSON.replacingOccurrences(of: "\"rope_theta\": 10000.0", with:
            "\"dtype\": \"float32\", \"rope_parameters\": {\"rope_type\": \"linear\", \"rope_theta\": 500000.0, \"factor\": 2.0}")
        for json in [classic, v5] {
            let c = try config(json)
            XCTAssertEqual(c.rope?.theta, 500000)
            XCTAssertEqual(c.rope?.scaling, .linear(factor: 2))
            XCTAssertEqual(try HFConfig.decode(Data(json.utf8), file: "c").declaredDType, "float32")
        }
    }

    /// `generation_config.json` bos/eos (int or list) take precedence over config.json's.
    func testGenerationConfigOverridesTokenIDs() throws {
        let hf = try HFConfig.decode(Data(llamaJSON.replacingOccurrences(of: "\"rms_norm_eps\"", with: "\"eos_token_id\": 2, \"bos_token_id\": 1, \"rms_norm_eps\"").utf8), file: "c")
        XCTAssertEqual(try hf.modelConfig(file: "c").eosTokenIDs, [2])
        let generation = try HFGenerationConfig.decode(Data("{\"bos_token_id\": 5, \"eos_token_id\": [7, 9]}".utf8), file: "g")
        let c = try hf.modelConfig(file: "c", generation: generation)
        XCTAssertEqual(c.bosTokenID, 5)
        XCTAssertEqual(c.eosTokenIDs, [7, 9])
        let gpt2 = try LanguageModel.load(from: fixtureURL("models/gpt2/model-f32.gguf"))
        XCTAssertEqual(gpt2.config.bosTokenID, 383)
        XCTAssertEqual(gpt2.config.eosTokenIDs, [383])
    }

    func testUnknownModelType() {
        assertThrows("config.json: unknown model_type \"bert\" (supported: llama, mistral, qwen2, gpt2)") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"llama\"", with: "\"bert\""))
        }
    }

    func testWrongConfigKeyType() {
        assertThrows("config.json: invalid value for \"hidden_size\": \"32\", expected Int") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"hidden_size\": 32", with: "\"hidden_size\": \"32\""))
        }
        assertThrows("config.json: invalid value for \"rope_scaling.factor\": \"two\", expected Double") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"rope_theta\": 10000.0",
                                                           with: "\"rope_scaling\": {\"type\": \"linear\", \"factor\": \"two\"}"))
        }
        assertThrows("config.json: invalid value for \"rope_scaling.rope_type\": \"longrope\", expected default, linear, dynamic, yarn or llama3") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"rope_theta\": 10000.0",
                                                           with: "\"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 2}"))
        }
        assertThrows("config.json: invalid value for \"num_key_value_heads\": 3, expected a divisor of num_attention_heads (4)") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"num_key_value_heads\": 2", with: "\"num_key_value_heads\": 3"))
        }
        assertThrows("config.json: invalid value for \"use_sliding_window\": true, expected false (Qwen2 per-layer sliding windows are not supported)") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"llama\"", with: "\"qwen2\"")
                .replacingOccurrences(of: "\"rope_theta\"", with: "\"use_sliding_window\": true, \"rope_theta\""))
        }
        assertThrows("config.json: missing required key \"intermediate_size\"") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"intermediate_size\": 48,", with: ""))
        }
        assertThrows("config.json: invalid value for \"(document)\": not valid JSON, expected a JSON object") {
            _ = try config("{\"model_type\": ")
        }
        assertThrows("config.json: invalid value for \"(document)\": [], expected Dictionary<String, Any>") {
            _ = try config("[]")
        }
    }

    /// A `partial_rotary_factor` outside (0, 1] used to trap converting `head_dim * factor` to Int.
    func testPartialRotaryFactorOutOfRange() throws {
        for (value, shown) in [("1e300", "1e+300"), ("0", "0.0"), ("-0.5", "-0.5"), ("1.5", "1.5")] {
            assertThrows("config.json: invalid value for \"partial_rotary_factor\": \(shown), expected a number in (0, 1]") {
                _ = try config(llamaJSON.replacingOccurrences(of: "\"rope_theta\"", with: "\"partial_rotary_factor\": \(value), \"rope_theta\""))
            }
        }
        assertThrows("config.json: invalid value for \"rope_scaling.partial_rotary_factor\": 1e+300, expected a number in (0, 1]") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"rope_theta\": 10000.0", with:
                "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0, \"partial_rotary_factor\": 1e300}"))
        }
        let half = try config(llamaJSON.replacingOccurrences(of: "\"rope_theta\"", with: "\"partial_rotary_factor\": 0.5, \"rope_theta\""))
        XCTAssertEqual(half.rope?.dimension, 4)
    }

    /// Huge dimensions used to pass validation and then trap multiplying widths (or allocate absurdly).
    func testHugeDimensionsAreRejected() throws {
        assertThrows("config.json: invalid value for \"num_attention_heads\": 4611686018427387904, expected at most 16777216") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": 4611686018427387904, \"head_dim\": 4"))
        }
        assertThrows("config.json: invalid value for \"head_dim\": 9223372036854775807, expected at most 16777216") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": 4, \"head_dim\": 9223372036854775807"))
        }
        assertThrows("config.json: invalid value for \"vocab_size\": 16777217, expected at most 16777216") {
            _ = try config(llamaJSON.replacingOccurrences(of: "\"vocab_size\": 37", with: "\"vocab_size\": 16777217"))
        }
        // Every dimension within bounds, but one layer's KV cache at full context does not fit in Int.
        let big = llamaJSON.replacingOccurrences(of: "\"num_attention_heads\": 4, \"num_key_value_heads\": 2", with:
            "\"num_attention_heads\": 16777216, \"num_key_value_heads\": 16777216, \"head_dim\": 16777216")
            .replacingOccurrences(of: "\"max_position_embeddings\": 64", with: "\"max_position_embeddings\": 16777216")
        assertThrows("config.json: invalid value for \"max_position_embeddings\": 16777216, expected a size whose product 16777216 × 281474976710656 fits in Int") {
            _ = try config(big)
        }
        // GPT-2's default n_inner = 4 * n_embd is computed before validation.
        let gpt2 = """
        {"model_type": "gpt2", "vocab_size": 37, "n_embd": 4611686018427387904, "n_head": 1, "n_layer": 1, "n_positions": 8}
        """
        assertThrows("config.json: invalid value for \"n_embd\": 4611686018427387904, expected a size whose product 4 × 4611686018427387904 fits in Int") {
            _ = try config(gpt2)
        }
        assertThrows("config.json: invalid value for \"n_embd\": 16777220, expected at most 16777216") {
            _ = try config(gpt2.replacingOccurrences(of: "4611686018427387904", with: "16777220"))
        }
    }

    func testMissingUnexpectedAndMisshapedTensorsAreAllReported() throws {
        let c = TinyModels.llamaConfig()
        let source = TinyModels.llamaSource(c)
        source.remove("model.layers.1.mlp.up_proj.weight")
        source.add("model.layers.0.self_attn.q_proj.weight", [32, 16], [Float](repeating: 0, count: 512))
        source.add("model.layers.0.self_attn.extra.weight", [2], [0, 0])
        assertThrows("/m: 3 weight problem(s): model.layers.0.self_attn.q_proj.weight: expected [32, 32], found [32, 16]; "
                     + "model.layers.1.mlp.up_proj.weight: missing (expected shape [48, 32]); "
                     + "model.layers.0.self_attn.extra.weight: unexpected tensor (not used by the architecture)") {
            _ = try LanguageModel.make(config: c, source: source, naming: .huggingFace(gpt2Prefix: ""), url: URL(fileURLWithPath: "/m"))
        }
    }

    func testUntiedModelWithoutLMHeadFails() {
        let c = TinyModels.llamaConfig()
        let source = TinyModels.llamaSource(c)
        source.remove("lm_head.weight")
        assertThrows("/m: 1 weight problem(s): lm_head.weight: missing (expected shape [37, 32])") {
            _ = try LanguageModel.make(config: c, source: source, naming: .huggingFace(gpt2Prefix: ""), url: URL(fileURLWithPath: "/m"))
        }
    }

    func testForwardRejectsBadTokensAndPositions() throws {
        let c = TinyModels.llamaConfig()
        let model = try LanguageModel.make(config: c, source: TinyModels.llamaSource(c), naming: .huggingFace(gpt2Prefix: ""), url: URL(fileURLWithPath: "/m"))
        let cache = model.makeCache()
        assertThrows("token id 37 is out of range 0..<37") { _ = try model.forward([1, 37], cache: cache, allLogits: false) }
        assertThrows("token id -1 is out of range 0..<37") { _ = try model.forward([-1], cache: cache, allLogits: false) }
        XCTAssertEqual(cache.count, 0, "a rejected call leaves the cache untouched")
        XCTAssertEqual(try model.forward([], cache: cache, allLogits: true), [])
        let other = TinyModels.llamaConfig(heads: 4, kvHeads: 4)
        let wide = try LanguageModel.make(config: other, source: TinyModels.llamaSource(other), naming: .huggingFace(gpt2Prefix: ""), url: URL(fileURLWithPath: "/w"))
        assertThrows("KV cache has 2 layers x 16 wide, model needs 2 x 32: use model.makeCache()") {
            _ = try wide.forward([1], cache: cache, allLogits: false)
        }
        let g = TinyModels.gpt2Config()
        let gpt2 = try LanguageModel.make(config: g, source: TinyModels.gpt2Source(g), naming: .huggingFace(gpt2Prefix: "transformer."), url: URL(fileURLWithPath: "/g"))
        assertThrows("position 32 is beyond the model's 32 learned positions") {
            _ = try gpt2.forward([Int](repeating: 1, count: 33), cache: gpt2.makeCache(), allLogits: false)
        }
    }

    func testLoadFolderErrors() throws {
        let folder = try temporaryFolder()
        assertThrows("\(folder.path): not a loadable model: no config.json") { _ = try LanguageModel.load(from: folder) }
        try Data(llamaJSON.replacingOccurrences(of: "\"llama\"", with: "\"t5\"").utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        let configPath = folder.appendingPathComponent("config.json").path
        assertThrows("\(configPath): unknown model_type \"t5\" (supported: llama, mistral, qwen2, gpt2)") {
            _ = try LanguageModel.load(from: folder)
        }
        try Data(llamaJSON.utf8).write(to: folder.appendingPathComponent("config.json"))
        assertThrows("\(folder.path): not a loadable model: no model.safetensors or model.safetensors.index.json") {
            _ = try LanguageModel.load(from: folder)
        }
        let missing = folder.appendingPathComponent("nope.gguf")
        assertThrows("\(missing.path): not a loadable model: no such file or directory") { _ = try LanguageModel.load(from: missing) }
    }
}
