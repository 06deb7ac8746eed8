import Foundation
import MnemoFormats
import XCTest
@testable import MnemoModels

/// PEFT LoRA adapters merged at load against peft's own unmerged forward
/// (`Fixtures/scripts/make_lora_goldens.py`), and every bad adapter rejected with a typed one-line error.
final class LoRATests: XCTestCase {
    struct Golden: Decodable {
        var prompts: [[Int]]
        var logits: [[[Double]]]
        var base_logits: [[[Double]]]
        var lora_pairs: Int
        var scale: Double
    }

    private func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: fixtureURL("models/\(name)/lora_golden.json")))
    }

    /// Largest |Δ| between the model's logits and rows of a golden, over all prompts.
    private func worst(_ model: LanguageModel, _ prompts: [[Int]], _ expected: [[[Double]]]) throws -> Double {
        var worst = 0.0
        for (p, prompt) in prompts.enumerated() {
            let logits = try model.forward(prompt, cache: model.makeCache(), allLogits: true)
            let rows = Array(expected[p].joined())
            XCTAssertEqual(logits.count, rows.count)
            worst = zip(logits, rows).reduce(worst) { max($0, abs(Double($1.0) - $1.1)) }
        }
        return worst
    }

    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A folder with `files` copied from `Fixtures/models/<name>/` (each `(file, from folder)`).
    private func folder(_ files: [(String, String)]) throws -> URL {
        let dir = try temporaryFolder()
        for (file, from) in files {
            try FileManager.default.copyItem(at: fixtureURL("models/\(from)/\(file)"), to: dir.appendingPathComponent(file))
        }
        return dir
    }

    private func model(_ name: String, adapterFrom adapter: String? = nil) throws -> URL {
        try folder(["config.json", "model.safetensors"].map { ($0, name) }
                   + ["adapter_config.json", "adapter_model.safetensors"].map { ($0, adapter ?? name) })
    }

    private func editConfig(_ dir: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = dir.appendingPathComponent("adapter_config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    private func message(_ dir: URL) -> String {
        do {
            _ = try LanguageModel.load(from: dir)
            return "loaded"
        } catch {
            XCTAssertFalse("\(error)".contains("\n"))
            return "\(error)"
        }
    }

    /// The merged model's logits equal peft's unmerged forward (Qwen2: all seven linear modules with q/k/v
    /// biases and GQA; GPT-2: Conv1D weights, fan_in_fan_out, rsLoRA scaling).
    func testMergedAdapterMatchesPeft() throws {
        for name in ["lora-qwen2", "lora-gpt2"] {
            let g = try golden(name)
            let model = try LanguageModel.load(from: fixtureURL("models/\(name)"))
            let source = try XCTUnwrap(model.source as? LoRAMergedSource)
            XCTAssertEqual(source.mergedNames.count, g.lora_pairs)
            XCTAssertEqual(source.config.scale, g.scale, accuracy: 1e-12)
            let merged = try worst(model, g.prompts, g.logits)
            print("LoRA \(name): max |Δ logit| vs peft = \(merged)")
            XCTAssertLessThanOrEqual(merged, 1e-4, "\(name): largest |Δ logit| vs peft = \(merged)")
            // Not vacuous: without the adapter the logits are far from the golden ...
            let plain = try LanguageModel.load(from: fixtureURL("models/\(name == "lora-gpt2" ? "gpt2" : "qwen2")"))
            XCTAssertGreaterThan(try worst(plain, g.prompts, g.logits), 0.1)
            // ... and equal peft's base model.
            XCTAssertLessThanOrEqual(try worst(plain, g.prompts, g.base_logits), 1e-4)
        }
    }

    /// PEFT sets fan_in_fan_out by module type (true for Conv1D, false for nn.Linear) whatever the config
    /// says; so does the merge.
    func testFanInFanOutFollowsModuleType() throws {
        for (name, flag) in [("lora-gpt2", false), ("lora-qwen2", true)] {
            let g = try golden(name)
            let dir = try model(name)
            try editConfig(dir) { $0["fan_in_fan_out"] = flag }
            let model = try LanguageModel.load(from: dir)
            XCTAssertLessThanOrEqual(try worst(model, g.prompts, g.logits), 1e-4, name)
        }
    }

    /// Bad configurations: one typed error naming the file and key.
    func testBadAdapterConfigs() throws {
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("r = 0", { $0["r"] = 0 }, "invalid value for \"r\": 0, expected a positive integer rank"),
            ("r = 2.5", { $0["r"] = 2.5 }, "invalid value for \"r\": 2.5, expected a positive integer rank"),
            ("r missing", { $0["r"] = nil }, "invalid value for \"r\": null, expected a positive integer rank"),
            ("alpha string", { $0["lora_alpha"] = "8" }, "invalid value for \"lora_alpha\": \"8\", expected a finite number"),
            ("rslora", { $0["use_rslora"] = "yes" }, "invalid value for \"use_rslora\": \"yes\", expected true or false"),
            ("IA3", { $0["peft_type"] = "IA3" }, "invalid value for \"peft_type\": \"IA3\", expected \"LORA\""),
            ("DoRA", { $0["use_dora"] = true }, "unsupported LoRA option \"use_dora\": true (DoRA rescales each column by a learned magnitude; merge it with peft and save the model)"),
            ("bias", { $0["bias"] = "all" }, "unsupported LoRA option \"bias\": \"all\" (trained biases are not LoRA factors)"),
            ("rank pattern", { $0["rank_pattern"] = ["q_proj": 8] }, "unsupported LoRA option \"rank_pattern\": {\"q_proj\": 8}"),
            ("modules_to_save", { $0["modules_to_save"] = ["lm_head"] }, "unsupported LoRA option \"modules_to_save\": [\"lm_head\"]"),
            ("aLoRA", { $0["alora_invocation_tokens"] = [5, 6] }, "unsupported LoRA option \"alora_invocation_tokens\": [5, 6]"),
        ]
        for (what, edit, expected) in cases {
            let dir = try model("lora-qwen2")
            try editConfig(dir, edit)
            let text = message(dir)
            XCTAssertTrue(text.hasPrefix(dir.appendingPathComponent("adapter_config.json").path + ": "), "\(what): \(text)")
            XCTAssertTrue(text.contains(expected), "\(what): \(text)")
        }
        let dir = try model("lora-qwen2")
        try Data("[1, 2]".utf8).write(to: dir.appendingPathComponent("adapter_config.json"))
        XCTAssertTrue(message(dir).contains("invalid value for \"(document)\": not a JSON object"), message(dir))
    }

    /// Missing files: config without weights (or with a pickle only), weights without config.
    func testMissingAdapterFiles() throws {
        var dir = try folder([("config.json", "qwen2"), ("model.safetensors", "qwen2"), ("adapter_config.json", "lora-qwen2")])
        XCTAssertEqual(message(dir), "\(dir.path): LoRA adapter needs adapter_model.safetensors: adapter_config.json is there but adapter_model.safetensors is missing")
        try Data([0x80, 0x02]).write(to: dir.appendingPathComponent("adapter_model.bin"))
        XCTAssertTrue(message(dir).contains("only adapter_model.bin (a PyTorch pickle) is there"), message(dir))
        dir = try folder([("config.json", "qwen2"), ("model.safetensors", "qwen2"), ("adapter_model.safetensors", "lora-qwen2")])
        XCTAssertEqual(message(dir), "\(dir.path): LoRA adapter needs adapter_config.json: adapter_model.safetensors is there but adapter_config.json is missing or unreadable")
    }

    /// Adapters that do not fit the model: unknown targets, shapes, a rank disagreeing with the factors.
    func testAdapterThatDoesNotFitTheModel() throws {
        // A GPT-2 adapter on a Qwen2 model.
        var dir = try model("qwen2", adapterFrom: "lora-gpt2")
        let file = dir.appendingPathComponent("adapter_model.safetensors").path
        XCTAssertEqual(message(dir), "\(file): tensor base_model.model.transformer.h.0.attn.c_attn.lora_A.weight: its target transformer.h.0.attn.c_attn.weight is not a weight of the model")
        // A Qwen2 adapter (o_proj 64 -> 64) on Llama-GQA (o_proj 128 -> 64).
        dir = try model("llama-gqa", adapterFrom: "lora-qwen2")
        XCTAssertEqual(message(dir), "\(dir.appendingPathComponent("adapter_model.safetensors").path): tensor base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight: expected [4, 128], found [4, 64]")
        // The config's rank disagrees with the factors.
        dir = try model("lora-qwen2")
        try editConfig(dir) { $0["r"] = 8 }
        XCTAssertEqual(message(dir), "\(dir.appendingPathComponent("adapter_model.safetensors").path): tensor base_model.model.model.layers.0.mlp.down_proj.lora_A.weight: expected [8, 128], found [4, 128]")
    }

    /// Renaming tensors inside the adapter file (same length): an orphan factor, a tensor that is not a
    /// LoRA factor, and an RMT memory present in both files.
    func testAdapterTensorNames() throws {
        func renamed(_ from: String, _ to: String, model base: String = "qwen2") throws -> URL {
            let dir = try model(base, adapterFrom: "lora-qwen2")
            let url = dir.appendingPathComponent("adapter_model.safetensors")
            var data = try Data(contentsOf: url)
            XCTAssertNotNil(data.range(of: Data(from.utf8)), from)
            while let range = data.range(of: Data(from.utf8)) { data.replaceSubrange(range, with: Data(to.utf8)) }
            try data.write(to: url)
            return dir
        }
        var dir = try renamed("layers.1.self_attn.q_proj.lora_B", "layers.1.self_attn.q_prox.lora_B")
        let file = dir.appendingPathComponent("adapter_model.safetensors").path
        XCTAssertEqual(message(dir), "\(file): tensor base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight has no partner base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight")
        dir = try renamed("layers.1.self_attn.q_proj.lora_B.weight", "layers.1.self_attn.q_proj.lora_B.wei_ht")
        XCTAssertTrue(message(dir).hasSuffix("tensor base_model.model.model.layers.1.self_attn.q_proj.lora_B.wei_ht: not a LoRA factor (<module>.lora_A.weight / .lora_B.weight) or an auxiliary tensor"), message(dir))
        dir = try renamed("layers.1.self_attn.q_proj.lora_", "layers.1.self_attn.q_norm.lora_")
        XCTAssertTrue(message(dir).contains("its target model.layers.1.self_attn.q_norm.weight is not a weight of the model"), message(dir))
        // memory_cell.memory in both the model (rmt-gpt2) and the adapter.
        dir = try model("rmt-gpt2", adapterFrom: "lora-gpt2")
        XCTAssertEqual(message(dir), "\(dir.appendingPathComponent("adapter_model.safetensors").path): tensor memory_cell.memory is also in the model's weights; keep one copy")
    }

    /// A truncated adapter file (a dense sample of cuts: every 29th byte of the header region, then 32
    /// evenly spaced ones and the last byte): every cut throws the safetensors reader's typed error.
    func testTruncatedAdapterThrows() throws {
        let data = try Data(contentsOf: fixtureURL("models/lora-qwen2/adapter_model.safetensors"))
        let dir = try model("lora-qwen2")
        let cuts = Array(stride(from: 0, to: 4096, by: 29)) + Array(stride(from: 4096, to: data.count, by: data.count / 32)) + [data.count - 1]
        for cut in cuts {
            try data.prefix(cut).write(to: dir.appendingPathComponent("adapter_model.safetensors"))
            XCTAssertThrowsError(try LanguageModel.load(from: dir), "cut at \(cut)") { error in
                XCTAssertTrue(error is SafetensorsError, "cut at \(cut): \(type(of: error)) \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    /// Auxiliary tensors saved with the adapter (an RMT memory) are readable; the base model has none.
    func testAuxiliaryTensorFromAdapter() throws {
        let model = try LanguageModel.load(from: fixtureURL("models/lora-gpt2"))
        XCTAssertEqual(model.auxiliaryTensorNames, ["memory_cell.memory"])
        let memory = try model.auxiliaryTensor("memory_cell.memory")
        XCTAssertEqual(memory.shape, [2, model.config.hiddenSize])
        XCTAssertTrue(memory.values.contains { $0 != 0 })
        XCTAssertEqual(try LanguageModel.load(from: fixtureURL("models/gpt2")).auxiliaryTensorNames, [])
        XCTAssertEqual(try LanguageModel.load(from: fixtureURL("models/lora-qwen2")).auxiliaryTensorNames, [])
    }
}
