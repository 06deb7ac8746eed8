import Foundation
import XCTest
import MnemoTensor
@testable import MnemoFormats

/// llama2.c checkpoints: Karpathy's stories260K in both formats, and a tiny unshared-classifier
/// model written by llama2.c's own export.py (goldens from PyTorch, format_goldens.json).
final class Llama2cTests: XCTestCase {
    private var temp: TempDirectory!

    override func setUpWithError() throws { temp = try TempDirectory() }

    func testStories260KHeaders() throws {
        let legacy = try Llama2cCheckpoint(url: Fixture.url("models/stories260K/stories260K.bin"))
        let v1 = try Llama2cCheckpoint(url: Fixture.url("models/stories260K/stories260K_v1.bin"))
        for (checkpoint, version) in [(legacy, Llama2cVersion.legacy), (v1, .v1)] {
            let h = checkpoint.header
            XCTAssertEqual([h.dim, h.hiddenDim, h.layerCount, h.headCount, h.kvHeadCount, h.vocabSize, h.seqLen],
                           [64, 172, 5, 8, 4, 512, 512])
            XCTAssertTrue(h.sharedClassifier)
            XCTAssertEqual(h.version, version)
            XCTAssertEqual(h.headDim, 8)
            XCTAssertNil(checkpoint.tensorInfos["lm_head.weight"])
            XCTAssertEqual(checkpoint.tensorInfos.count, 2 + 9 * 5)
            XCTAssertEqual(checkpoint.tensorInfos["model.layers.4.self_attn.k_proj.weight"]?.shape, [32, 64])
            XCTAssertEqual(checkpoint.tensorInfos["model.layers.0.mlp.down_proj.weight"]?.shape, [64, 172])
            XCTAssertEqual(checkpoint.tensorInfos["model.layers.0.mlp.gate_proj.weight"]?.shape, [172, 64])
            XCTAssertEqual(checkpoint.tensorInfos["model.embed_tokens.weight"]?.shape, [512, 64])
        }
        // Both files hold the same weights: compare every tensor byte for byte.
        XCTAssertEqual(Set(legacy.tensorInfos.keys), Set(v1.tensorInfos.keys))
        for (name, info) in legacy.tensorInfos {
            let other = try XCTUnwrap(v1.tensorInfos[name])
            XCTAssertEqual(info.shape, other.shape, name)
            XCTAssertEqual(info.byteCount, other.byteCount, name)
            let a = try legacy.rawPointer(for: name), b = try v1.rawPointer(for: name)
            XCTAssertEqual(memcmp(a, b, info.byteCount), 0, name)
            let m = try legacy.matrix(name), n = try v1.matrix(name)
            XCTAssertEqual(dequantizeAll(m), dequantizeAll(n), name)
        }
        // Spot-check the first weight of the legacy file: right after the 28-byte header.
        XCTAssertEqual(legacy.tensorInfos["model.embed_tokens.weight"]?.offset, 28)
        XCTAssertEqual(v1.tensorInfos["model.layers.0.input_layernorm.weight"]?.offset, 256)
    }

    func testTinyUnsharedModelMatchesExportPy() throws {
        let golden = try XCTUnwrap(Fixture.goldens["llama2c"] as? [String: Any])
        let header = try XCTUnwrap(golden["header"] as? [String: Any])
        let tensors = try XCTUnwrap(golden["tensors"] as? [String: [String: Any]])
        for file in ["llama2c_tiny_legacy.bin", "llama2c_tiny_v1.bin"] {
            let checkpoint = try Llama2cCheckpoint(url: Fixture.url("formats/\(file)"))
            let h = checkpoint.header
            XCTAssertEqual([h.dim, h.hiddenDim, h.layerCount, h.headCount, h.kvHeadCount, h.vocabSize, h.seqLen],
                           ["dim", "hiddenDim", "layerCount", "headCount", "kvHeadCount", "vocabSize", "seqLen"].map { header[$0] as? Int ?? -1 },
                           file)
            XCTAssertFalse(h.sharedClassifier, file)
            XCTAssertEqual(Set(checkpoint.tensorInfos.keys), Set(tensors.keys), file)
            for (name, expected) in tensors {
                XCTAssertEqual(checkpoint.tensorInfos[name]?.shape, expected["shape"] as? [Int], "\(file) \(name)")
                XCTAssertEqual(dequantizeAll(try checkpoint.matrix(name)), jsonFloats(expected["values"]), "\(file) \(name)")
            }
        }
    }

    private func expectError(_ bytes: [UInt8], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        let error = assertThrows(Llama2cError.self, file: file, line: line) {
            _ = try Llama2cCheckpoint(url: temp.write(bytes, name: "bad.bin"))
        }
        assertMessage(error, contains: ["bad.bin"] + fragments, file: file, line: line)
    }

    private func putI32(_ bytes: inout [UInt8], _ offset: Int, _ value: Int32) {
        withUnsafeBytes(of: value.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }

    func testSizeMismatch() throws {
        let legacy = try Fixture.bytes("formats/llama2c_tiny_legacy.bin")
        expectError(legacy + [0, 0, 0, 0], ["is 19936 bytes", "implies 19932 bytes"])
        let v1 = try Fixture.bytes("formats/llama2c_tiny_v1.bin")
        expectError(Array(v1.dropLast(4)), ["is 20028 bytes", "implies 20032 bytes"])
        // A legacy file must keep the freq_cis block run.c skips (8 x 2 x 2 floats here).
        expectError(Array(legacy.dropLast(128)), ["is 19804 bytes", "implies 19932 bytes"])
    }

    func testBadHeaders() throws {
        let v1 = try Fixture.bytes("formats/llama2c_tiny_v1.bin")
        var bytes = v1
        putI32(&bytes, 4, 2)
        expectError(bytes, ["version 2", "not supported", "quantized"])
        bytes = v1
        putI32(&bytes, 8 + 3 * 4, 0)
        expectError(bytes, ["n_heads = 0", "positive"])
        bytes = v1
        putI32(&bytes, 8 + 3 * 4, 3)
        expectError(bytes, ["n_heads = 3", "divisor of dim 16"])
        bytes = v1
        putI32(&bytes, 8 + 4 * 4, 3)
        expectError(bytes, ["n_kv_heads = 3", "divisor of n_heads 4"])
        bytes = v1
        bytes[36] = 7
        expectError(bytes, ["shared_classifier = 7", "0 or 1"])
        var legacy = try Fixture.bytes("formats/llama2c_tiny_legacy.bin")
        putI32(&legacy, 8, Int32.max)
        expectError(legacy, ["n_layers = 2147483647"])
        putI32(&legacy, 8, -1)
        expectError(legacy, ["n_layers = -1", "positive"])
        let missing = try Llama2cCheckpoint(url: Fixture.url("formats/llama2c_tiny_v1.bin"))
        let error = assertThrows(Llama2cError.self) { _ = try missing.matrix("model.layers.9.mlp.up_proj.weight") }
        assertMessage(error, contains: ["llama2c_tiny_v1.bin", "'model.layers.9.mlp.up_proj.weight'"])
    }
}
