import Foundation
import XCTest

/// Bad model folders reach the user as one line naming the file and the offending key or tensor,
/// with a non-zero exit status (issue #2: unknown `model_type`, missing tensor, shape mismatch).
final class CLIModelErrorTests: XCTestCase {
    /// A copy of the llama-tied fixture's config with `edit` applied, next to its real weights.
    private func modelFolder(editing edit: (String) -> String) throws -> URL {
        let source = CLIRunner.fixture("models/llama-tied")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-cli-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        let edited = edit(config)
        XCTAssertNotEqual(edited, config, "the edit must change the config")
        try edited.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        for name in ["model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            let file = source.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: file)
            }
        }
        return dir
    }

    private func assertOneLineError(_ arguments: [String], mentions needles: [String],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLIRunner.run(arguments)
        XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("mnemo: error: "), result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, "one line: \(result.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(result.stderr.contains(needle), "\(result.stderr) should mention \(needle)", file: file, line: line)
        }
    }

    func testUnknownModelTypeNamesTheTypeAndFile() throws {
        let dir = try modelFolder { $0.replacingOccurrences(of: "\"model_type\": \"llama\"", with: "\"model_type\": \"bert\"") }
        try assertOneLineError(["inspect", dir.path], mentions: ["bert", "config.json"])
        try assertOneLineError(["generate", "--model", dir.path, "--prompt", "Alice"], mentions: ["bert"])
    }

    func testMissingTensorIsNamed() throws {
        // Three layers declared, two stored: layer 2's tensors are missing.
        let dir = try modelFolder { $0.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 3") }
        try assertOneLineError(["score", "--model", dir.path, "--text", "Alice was"],
                               mentions: ["model.safetensors", "model.layers.2.self_attn.q_proj.weight"])
    }

    func testShapeMismatchNamesTensorAndShapes() throws {
        let dir = try modelFolder { $0.replacingOccurrences(of: "\"intermediate_size\": 128", with: "\"intermediate_size\": 96") }
        try assertOneLineError(["inspect", dir.path],
                               mentions: ["model.layers.0.mlp.gate_proj.weight: expected [96, 64], found [128, 64]"])
    }
}
