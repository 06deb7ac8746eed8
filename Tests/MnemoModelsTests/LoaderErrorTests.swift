import Foundation
import MnemoFormats
import XCTest
@testable import MnemoModels

/// Bad model files: each rejected with a typed one-line error, never a crash.
final class LoaderErrorTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A minimal GGUF v3 file with metadata only (string = type 8, uint32 = 4, float32 = 6).
    private func gguf(_ kv: [(String, Any)]) -> Data {
        var d = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        u32(3); u64(0); u64(UInt64(kv.count))
        for (key, value) in kv {
            str(key)
            switch value {
            case let s as String: u32(8); str(s)
            case let i as Int: u32(4); u32(UInt32(i))
            case let f as Float: u32(6); withUnsafeBytes(of: f.bitPattern.littleEndian) { d.append(contentsOf: $0) }
            default: XCTFail("unsupported test value")
            }
        }
        return d
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    func testGGUFUnknownArchitectureAndBadKeyType() throws {
        let dir = try temporaryFolder()
        let bert = dir.appendingPathComponent("bert.gguf")
        try gguf([("general.architecture", "bert")]).write(to: bert)
        XCTAssertEqual(message { _ = try LanguageModel.load(from: bert) },
                       "\(bert.path): unknown model_type \"bert\" (supported: llama, mistral, qwen2, gpt2)")
        let badType = dir.appendingPathComponent("bad.gguf")
        try gguf([("general.architecture", "llama"), ("llama.embedding_length", 64),
                  ("llama.attention.head_count", "four")]).write(to: badType)
        XCTAssertEqual(message { _ = try LanguageModel.load(from: badType) },
                       "\(badType.path): invalid value for \"llama.attention.head_count\": string(\"four\"), expected an integer")
        let missing = dir.appendingPathComponent("missing.gguf")
        try gguf([("general.architecture", "llama"), ("llama.embedding_length", 64), ("llama.attention.head_count", 4)])
            .write(to: missing)
        XCTAssertEqual(message { _ = try LanguageModel.load(from: missing) },
                       "\(missing.path): missing required key \"llama.vocab_size\"")
    }

    /// Renaming one tensor inside a real GGUF (same length) reports the missing and the unexpected name.
    func testGGUFMissingTensorIsReportedByName() throws {
        var data = try Data(contentsOf: fixtureURL("models/llama-tied/model-f32.gguf"))
        let from = Data("blk.1.ffn_up.weight".utf8), to = Data("blk.1.ffn_UP.weight".utf8)
        let range = try XCTUnwrap(data.range(of: from))
        data.replaceSubrange(range, with: to)
        let url = try temporaryFolder().appendingPathComponent("renamed.gguf")
        try data.write(to: url)
        XCTAssertEqual(message { _ = try LanguageModel.load(from: url) },
                       "\(url.path): 2 weight problem(s): blk.1.ffn_up.weight: missing (expected shape [128, 64]); "
                       + "blk.1.ffn_UP.weight: unexpected tensor (not used by the architecture)")
    }

    /// Cutting a real GGUF model at a dense sample of offsets: every cut throws a typed error.
    func testTruncatedGGUFThrows() throws {
        let data = try Data(contentsOf: fixtureURL("models/gpt2/model-q8_0.gguf"))
        let dir = try temporaryFolder()
        var cuts = Array(stride(from: 0, to: min(4096, data.count), by: 61)) + [data.count - 1]
        cuts += stride(from: 4096, to: data.count, by: data.count / 16)
        for cut in cuts {
            let url = dir.appendingPathComponent("cut.gguf")
            try data.prefix(cut).write(to: url)
            do {
                _ = try LanguageModel.load(from: url)
                XCTFail("cut at \(cut) loaded")
            } catch let error as GGUFError {
                XCTAssertFalse("\(error)".contains("\n"))
            } catch {
                // A cut before the 4-byte magic is not recognisable as GGUF and is read as llama2.c.
                XCTAssertTrue(cut < 4 && error is Llama2cError, "cut at \(cut): \(type(of: error)) \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testGGUFSummary() throws {
        let model = try LanguageModel.load(from: fixtureURL("models/qwen2/model-q8_0.gguf"))
        XCTAssertEqual(model.config.architecture, .qwen2)
        XCTAssertEqual(model.config.rope?.pairing, .halves)
        XCTAssertEqual(model.config.rope?.theta, 1_000_000)
        XCTAssertTrue(model.config.attentionBias)
        let s = model.summary
        XCTAssertEqual(s.format, .gguf)
        XCTAssertEqual(s.tensorTypes.values.reduce(0) { $0 + $1.tensorCount }, 26)
        XCTAssertGreaterThan(s.tensorTypes["Q8_0"]?.tensorCount ?? 0, 0)
        XCTAssertGreaterThan(s.tensorTypes["F32"]?.tensorCount ?? 0, 0)
        let llama3 = try LanguageModel.load(from: fixtureURL("models/llama3-rope/model-f32.gguf"))
        XCTAssertEqual(llama3.config.rope?.pairing, .interleaved)
        XCTAssertEqual(llama3.config.rope?.frequencyFactors?.count, 8)
        XCTAssertTrue("\(llama3.summary)".contains("rope_freqs factors"))
        // Same weights, two formats, same parameter count.
        let tied = try LanguageModel.load(from: fixtureURL("models/llama-tied/model-f32.gguf"))
        XCTAssertEqual(tied.parameterCount, 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 512 * 64 + 64)
    }

    /// A config that disagrees with the safetensors weights: every mis-shaped tensor is listed.
    func testSafetensorsShapeMismatchListsEveryTensor() throws {
        let dir = try temporaryFolder()
        let source = fixtureURL("models/llama-tied")
        var config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"intermediate_size\": 128", with: "\"intermediate_size\": 96")
        try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("model.safetensors"),
                                                   withDestinationURL: source.appendingPathComponent("model.safetensors"))
        let text = message { _ = try LanguageModel.load(from: dir) } ?? ""
        XCTAssertTrue(text.hasPrefix(dir.appendingPathComponent("model.safetensors").path + ": 6 weight problem(s): "), text)
        XCTAssertTrue(text.contains("model.layers.0.mlp.gate_proj.weight: expected [96, 64], found [128, 64]"), text)
        XCTAssertTrue(text.contains("model.layers.1.mlp.down_proj.weight: expected [64, 96], found [64, 128]"), text)
        XCTAssertFalse(text.contains("\n"))
    }

    /// A truncated `model.safetensors` in an HF folder: every cut throws the reader's typed error.
    func testTruncatedSafetensorsThrows() throws {
        let source = fixtureURL("models/qwen2")
        let data = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        let dir = try temporaryFolder()
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        let weights = dir.appendingPathComponent("model.safetensors")
        for cut in [0, 7, 8, 100, 1000, data.count / 3, data.count - 4, data.count - 1] {
            try data.prefix(cut).write(to: weights)
            XCTAssertThrowsError(try LanguageModel.load(from: dir), "cut at \(cut)") { error in
                XCTAssertTrue(error is SafetensorsError, "cut at \(cut): \(type(of: error))")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        try data.write(to: weights)
        XCTAssertNoThrow(try LanguageModel.load(from: dir))
    }

    func testPreallocatedCacheMatchesGrowingCache() throws {
        let model = try LanguageModel.load(from: fixtureURL("models/llama-gqa/model-f32.gguf"))
        let big = model.makeCache(capacity: model.config.contextLength)
        XCTAssertEqual(big.capacity, model.config.contextLength)
        let tokens = [1, 5, 9, 200, 17, 44]
        let a = try model.forward(tokens, cache: big, allLogits: true)
        let b = try model.forward(tokens, cache: model.makeCache(), allLogits: true)
        XCTAssertEqual(a, b)
    }
}
