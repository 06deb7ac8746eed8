import Foundation
import XCTest
import MnemoModels
import MnemoTensor
@testable import MnemoEngine

/// Shared helpers of the memory snapshot tests.
enum PersistenceSupport {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models").standardized

    /// A fresh empty temporary directory, removed at the end of the test.
    static func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-persist-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    static func load(_ path: String) throws -> LanguageModel {
        try LanguageModel.load(from: models.appendingPathComponent(path))
    }

    /// Seeded token ids in `1 ..< vocabularySize`.
    static func document(_ model: LanguageModel, count: Int, seed: UInt64 = 11) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in 1 + Int(rng.next() % UInt64(model.config.vocabularySize - 1)) }
    }

    /// A copy of the Hugging Face fixture `base` (config.json + model.safetensors) whose checkpoint
    /// also holds `memory_cell.memory`, `count × hiddenSize` seeded f32 values (RMT memory tokens),
    /// written in `folder`. The transformer weights are the fixture's, byte for byte.
    static func modelWithMemoryCell(base: String, count: Int, in folder: URL, seed: UInt64 = 5) throws -> URL {
        let source = models.appendingPathComponent(base)
        let target = folder.appendingPathComponent("\(base)-rmt")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: target.appendingPathComponent("config.json"))
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        let hidden = try XCTUnwrap(config["hidden_size"] as? Int)
        let original = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        let headerLength = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: original.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
        let data = original.subdata(in: 8 + headerLength ..< original.count)
        var rng = SplitMix64(seed: seed)
        let values = (0..<(count * hidden)).map { _ in Float(Double(rng.next() % 2001) / 1000 - 1) * 0.5 }
        let extra = values.withUnsafeBytes { Data($0) }
        header["memory_cell.memory"] = ["dtype": "F32", "shape": [count, hidden], "data_offsets": [data.count, data.count + extra.count]]
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        file.append(extra)
        try file.write(to: target.appendingPathComponent("model.safetensors"))
        return target
    }

    /// Largest |a - b| over two equally long arrays (fails when the lengths differ).
    static func maxDifference(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(a.count, b.count, "lengths", file: file, line: line)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Every regular file below `root`, as relative paths, sorted.
    static func files(under root: URL) throws -> [String] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: root.path))
        var out: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }
}
