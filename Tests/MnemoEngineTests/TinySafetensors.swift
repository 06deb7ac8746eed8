import Foundation
import MnemoFormats
import XCTest

/// A temporary folder removed when the test ends.
enum TestFolder {
    static func make(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Reads every tensor of a safetensors file as f32 and writes F32 safetensors files (test checkpoints).
enum TinySafetensors {
    typealias Tensor = (name: String, shape: [Int], values: [Float])

    static func tensors(of url: URL) throws -> [Tensor] {
        let file = try SafetensorsFile(url: url)
        return try file.tensorInfos.keys.sorted().map { name in
            let m = try file.matrix(name)
            var values = [Float](repeating: 0, count: m.rows * m.cols)
            values.withUnsafeMutableBufferPointer { m.dequantizeRows(0, m.rows, into: $0.baseAddress!) }
            return (name, file.tensorInfos[name]!.shape, values)
        }
    }

    static func write(_ tensors: [Tensor], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var data = Data()
        for t in tensors {
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [data.count, data.count + 4 * t.values.count]]
            t.values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(data)
        try out.write(to: url)
    }
}
