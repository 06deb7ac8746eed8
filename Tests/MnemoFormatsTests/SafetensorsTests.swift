import Foundation
import XCTest
import MnemoTensor
@testable import MnemoFormats

/// safetensors files checked against `safetensors` + torch (format_goldens.json), and malformed
/// headers checked for typed, one-line errors.
final class SafetensorsTests: XCTestCase {
    private var temp: TempDirectory!

    override func setUpWithError() throws { temp = try TempDirectory() }

    private func goldens(_ file: String) throws -> [[String: Any]] {
        let all = try XCTUnwrap(Fixture.goldens["safetensors"] as? [String: Any])
        return try XCTUnwrap(all[file] as? [[String: Any]], file)
    }

    private func check(_ source: TensorSource, against expected: [[String: Any]]) throws {
        for tensor in expected {
            let name = try XCTUnwrap(tensor["name"] as? String)
            let info = try XCTUnwrap(source.tensorInfos[name], name)
            XCTAssertEqual(info.shape, tensor["shape"] as? [Int], name)
            if tensor["values"] != nil {
                let matrix = try source.matrix(name)
                XCTAssertEqual(matrix.cols, info.shape.last ?? 1, name)
                XCTAssertEqual(matrix.rows * matrix.cols, info.elementCount, name)
                XCTAssertEqual(dequantizeAll(matrix), jsonFloats(tensor["values"]), name)  // exact
            } else {
                XCTAssertNil(info.dtype, name)
                let error = assertThrows(SafetensorsError.self) { _ = try source.matrix(name) }
                assertMessage(error, contains: [name, info.typeName, "supported"])
            }
        }
    }

    func testMixedFileMatchesTorch() throws {
        let file = try SafetensorsFile(url: Fixture.url("formats/mixed.safetensors"))
        let expected = try goldens("mixed.safetensors")
        XCTAssertEqual(Set(file.tensorInfos.keys), Set(expected.compactMap { $0["name"] as? String }))
        try check(file, against: expected)
        XCTAssertEqual(file.tensorInfos["w.f32"]?.dtype, .f32)
        XCTAssertEqual(file.tensorInfos["w.f16"]?.dtype, .f16)
        XCTAssertEqual(file.tensorInfos["w.bf16"]?.dtype, .bf16)
        XCTAssertEqual(file.tensorInfos["w.i64"]?.typeName, "I64")
        let cube = try file.matrix("w.cube")
        XCTAssertEqual([cube.rows, cube.cols], [6, 4])
        let vector = try file.matrix("w.vector")
        XCTAssertEqual([vector.rows, vector.cols], [1, 7])
        let i64 = try file.rawPointer(for: "w.i64")
        XCTAssertEqual((0..<3).map { Int64(littleEndian: i64.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }, [1, -2, 3])
    }

    func testShardedFolderMatchesTorch() throws {
        let sharded = try ShardedSafetensors(folder: Fixture.url("formats/sharded"))
        XCTAssertEqual(Set(sharded.tensorInfos.keys), ["a.weight", "b.weight", "c.weight"])
        XCTAssertEqual(sharded.shards.count, 2)
        try check(sharded, against: goldens("sharded/model-00001-of-00002.safetensors"))
        try check(sharded, against: goldens("sharded/model-00002-of-00002.safetensors"))
        XCTAssertEqual(try sharded.shard(for: "c.weight").url.lastPathComponent, "model-00002-of-00002.safetensors")
        let error = assertThrows(SafetensorsError.self) { _ = try sharded.matrix("d.weight") }
        assertMessage(error, contains: ["sharded", "no tensor named 'd.weight'"])
    }

    func testSingleFileFolderWithoutIndex() throws {
        try FileManager.default.copyItem(at: Fixture.url("formats/mixed.safetensors"),
                                         to: temp.url.appendingPathComponent("model.safetensors"))
        let folder = try ShardedSafetensors(folder: temp.url)
        XCTAssertEqual(folder.tensorInfos.count, 6)
        let empty = try TempDirectory()
        let error = assertThrows(SafetensorsError.self) { _ = try ShardedSafetensors(folder: empty.url) }
        assertMessage(error, contains: [empty.url.path, "model.safetensors.index.json"])
    }

    func testBadIndex() throws {
        try temp.write(Array("{\"weight_map\": {\"x\": \"../evil.safetensors\"}}".utf8), name: "model.safetensors.index.json")
        let error = assertThrows(SafetensorsError.self) { _ = try ShardedSafetensors(folder: temp.url) }
        assertMessage(error, contains: ["model.safetensors.index.json", "weight_map['x']", "../evil.safetensors"])

        try temp.write(Array("[1, 2]".utf8), name: "model.safetensors.index.json")
        let error2 = assertThrows(SafetensorsError.self) { _ = try ShardedSafetensors(folder: temp.url) }
        assertMessage(error2, contains: ["weight_map"])

        try FileManager.default.copyItem(at: Fixture.url("formats/mixed.safetensors"), to: temp.url.appendingPathComponent("s.safetensors"))
        try temp.write(Array("{\"weight_map\": {\"w.f32\": \"s.safetensors\", \"ghost\": \"s.safetensors\"}}".utf8), name: "model.safetensors.index.json")
        let error3 = assertThrows(SafetensorsError.self) { _ = try ShardedSafetensors(folder: temp.url) }
        assertMessage(error3, contains: ["'ghost'", "s.safetensors", "no such tensor"])

        try temp.write(Array("{\"weight_map\": {\"w.f32\": \"absent.safetensors\"}}".utf8), name: "model.safetensors.index.json")
        let error4 = assertThrows(MappedFileError.self) { _ = try ShardedSafetensors(folder: temp.url) }
        assertMessage(error4, contains: ["absent.safetensors", "not found"])
    }

    /// A safetensors file with header `json` followed by `dataBytes` zero bytes.
    private func make(_ json: String, dataBytes: Int = 64) throws -> URL {
        var bytes = [UInt8](repeating: 0, count: 8)
        let header = Array(json.utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        return try temp.write(bytes + header + [UInt8](repeating: 0, count: dataBytes), name: "bad.safetensors")
    }

    private func expectError(_ json: String, dataBytes: Int = 64, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        let error = assertThrows(SafetensorsError.self, file: file, line: line) {
            _ = try SafetensorsFile(url: make(json, dataBytes: dataBytes))
        }
        assertMessage(error, contains: ["bad.safetensors"] + fragments, file: file, line: line)
    }

    func testMalformedHeaders() {
        expectError("this is not json", ["not a JSON object", "does not parse"])
        expectError("[1, 2, 3]", ["expected an object"])
        expectError(#"{"a": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}"#, ["'a'", "unknown dtype \"F33\"", "F32"])
        expectError(#"{"a": {"dtype": 5, "shape": [2], "data_offsets": [0, 8]}}"#, ["'a'", "dtype"])
        expectError(#"{"a": {"dtype": "F32", "data_offsets": [0, 8]}}"#, ["'a'", "\"shape\""])
        expectError(#"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, ["'a'", "\"shape\""])
        expectError(#"{"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}"#, ["'a'", "\"shape\""])
        expectError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}"#, ["'a'", "\"data_offsets\""])
        expectError(#"{"a": "F32"}"#, ["'a'", "expected an object"])
    }

    func testOffsetsOutOfFileUnorderedOrOverlapping() {
        expectError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [64, 72]}}"#, ["'a'", "[64, 72]", "64 data bytes"])
        expectError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, ["'a'", "[8, 0]", "ordered"])
        expectError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}"#, ["'a'", "[-8, 0]"])
        expectError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}"#, ["'a'", "F32 [2]", "needs 8 bytes", "span 12"])
        expectError(#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, ["'a'"])
        expectError(#"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F16", "shape": [4], "data_offsets": [8, 16]}}"#,
                    ["overlaps"])
    }

    func testAbsurdHeaderLength() throws {
        var bytes = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: (UInt64(1) << 63).littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        let url = try temp.write(bytes + Array("{}".utf8), name: "bad.safetensors")
        let error = assertThrows(SafetensorsError.self) { _ = try SafetensorsFile(url: url) }
        assertMessage(error, contains: ["bad.safetensors", "header length 9223372036854775808", "2 bytes"])
    }

    func testMetadataOnlyAndEmptyTensor() throws {
        let file = try SafetensorsFile(url: make(#"{"__metadata__": {"format": "pt"}, "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}}"#, dataBytes: 0))
        XCTAssertEqual(file.tensorInfos["e"]?.shape, [0, 3])
        XCTAssertNil(file.tensorInfos["__metadata__"])
        let error = assertThrows(SafetensorsError.self) { _ = try file.rawPointer(for: "x") }
        assertMessage(error, contains: ["bad.safetensors", "no tensor named 'x'"])
    }
}
