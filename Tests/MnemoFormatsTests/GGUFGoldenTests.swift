import Foundation
import XCTest
import MnemoTensor
@testable import MnemoFormats

/// GGUF files checked against what the `gguf` Python package's GGUFReader read from them
/// (Fixtures/formats/format_goldens.json, made by Fixtures/scripts/make_format_goldens.py).
final class GGUFGoldenTests: XCTestCase {
    private func golden(_ name: String) throws -> [String: Any] {
        let all = try XCTUnwrap(Fixture.goldens["gguf"] as? [String: Any], "goldens missing")
        return try XCTUnwrap(all[name] as? [String: Any], "no golden for \(name)")
    }

    /// Compares one decoded value with its golden JSON description.
    private func check(_ value: GGUFValue?, _ expected: [String: Any], key: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let value else { return XCTFail("\(key): missing", file: file, line: line) }
        let type = expected["type"] as? String ?? "?"
        XCTAssertEqual(value.typeName, type, "\(key): type", file: file, line: line)
        switch value {
        case .string(let s):
            XCTAssertEqual(s, expected["value"] as? String, "\(key)", file: file, line: line)
        case .bool(let b):
            XCTAssertEqual(b, expected["value"] as? Bool, "\(key)", file: file, line: line)
        case .float32(let f):
            XCTAssertEqual(f, jsonDouble(expected["value"]).map(Float.init), "\(key)", file: file, line: line)
        case .float64(let d):
            XCTAssertEqual(d, jsonDouble(expected["value"]), "\(key)", file: file, line: line)
        case .uint64(let u):
            XCTAssertEqual(String(u), expected["value"] as? String, "\(key)", file: file, line: line)
        case .int64(let i):
            XCTAssertEqual(String(i), expected["value"] as? String, "\(key)", file: file, line: line)
        case .array(let elements):
            XCTAssertEqual(elements.count, expected["count"] as? Int, "\(key): count", file: file, line: line)
            if let all = expected["elements"] as? [[String: Any]] {
                XCTAssertEqual(all.count, elements.count, "\(key): element count", file: file, line: line)
                for (index, pair) in zip(elements, all).enumerated() {
                    check(pair.0, pair.1, key: "\(key)[\(index)]", file: file, line: line)
                }
            }
            if let sample = expected["sample"] as? [[Any]] {
                XCTAssertGreaterThan(sample.count, 20)
                for pair in sample {
                    guard let index = pair.first as? Int, let description = pair.last as? [String: Any],
                          index < elements.count else { XCTFail("\(key): bad sample \(pair)"); continue }
                    check(elements[index], description, key: "\(key)[\(index)]", file: file, line: line)
                }
            }
        default:
            XCTAssertEqual(value.intValue, expected["value"] as? Int, "\(key)", file: file, line: line)
        }
    }

    private func checkFile(_ name: String) throws -> GGUFFile {
        let expected = try golden(name)
        let gguf = try GGUFFile(url: Fixture.url("formats/\(name)"))
        XCTAssertEqual(Int(gguf.version), expected["version"] as? Int)
        XCTAssertEqual(gguf.alignment, expected["alignment"] as? Int)
        XCTAssertEqual(gguf.dataOffset, expected["dataOffset"] as? Int)

        let metadata = try XCTUnwrap(expected["metadata"] as? [[String: Any]])
        XCTAssertEqual(gguf.metadataKeys, metadata.compactMap { $0["key"] as? String })
        XCTAssertEqual(gguf.metadata.count, metadata.count)
        for entry in metadata {
            let key = entry["key"] as? String ?? ""
            check(gguf.metadata[key], entry, key: key)
        }

        let tensors = try XCTUnwrap(expected["tensors"] as? [[String: Any]])
        XCTAssertEqual(gguf.tensorNames, tensors.compactMap { $0["name"] as? String })
        for tensor in tensors {
            let name = tensor["name"] as? String ?? ""
            let info = try XCTUnwrap(gguf.tensorInfos[name], name)
            XCTAssertEqual(info.typeName, tensor["type"] as? String, name)
            XCTAssertEqual(info.shape, tensor["shape"] as? [Int], name)
            XCTAssertEqual(info.offset, tensor["offset"] as? Int, name)
            XCTAssertEqual(info.byteCount, tensor["byteCount"] as? Int, name)
            XCTAssertEqual(gguf.tensorTypes[name]?.name, info.typeName)
            XCTAssertEqual(try gguf.rawPointer(for: name), gguf.file.base + info.offset)
            if let rows = tensor["rows"] as? [[Any]] {
                let matrix = try gguf.matrix(name)
                XCTAssertEqual(matrix.dtype, info.dtype)
                XCTAssertEqual(matrix.cols, info.shape.last ?? 1, name)
                XCTAssertEqual(matrix.rows * matrix.cols, info.elementCount, name)
                var row = [Float](repeating: .nan, count: matrix.cols)
                for (r, expectedRow) in rows.enumerated() {
                    row.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0.baseAddress!) }
                    // Exact: both sides decode the same stored bits.
                    XCTAssertEqual(row, jsonFloats(expectedRow), "\(name) row \(r)")
                }
            } else {
                XCTAssertNil(info.dtype, name)
                let error = assertThrows(GGUFError.self) { _ = try gguf.matrix(name) }
                assertMessage(error, contains: [name, info.typeName, "supported"])
            }
        }
        return gguf
    }

    func testSyntheticV3MatchesGGUFReader() throws {
        let gguf = try checkFile("synthetic_v3.gguf")
        XCTAssertEqual(gguf.tensorInfos["t.q8_0"]?.dtype, .q8_0)
        XCTAssertEqual(gguf.tensorInfos["t.bf16"]?.dtype, .bf16)
        XCTAssertEqual(gguf.tensorInfos["t.q4_0"]?.dtype, nil)
        // 1-D is 1 x n, 3-D folds the outer dimensions into rows.
        let vector = try gguf.matrix("t.vector")
        XCTAssertEqual([vector.rows, vector.cols], [1, 5])
        let cube = try gguf.matrix("t.cube")
        XCTAssertEqual([cube.rows, cube.cols], [6, 4])
        XCTAssertEqual(gguf.tensorInfos["t.cube"]?.shape, [2, 3, 4])
        // Nested arrays keep their structure (GGUFReader flattens them; golden is what was written).
        XCTAssertEqual(gguf.metadata["test.nested"]?.arrayValue?.map { $0.intArray ?? [] }, [[1, 2], [3], [4, 5, 6]])
        XCTAssertEqual(gguf.metadata["test.nested_strings"]?.arrayValue?.map { $0.stringArray ?? [] }, [["x", "yz"], ["w"]])
    }

    func testSyntheticV2WithAlignment64MatchesGGUFReader() throws {
        let gguf = try checkFile("synthetic_v2.gguf")
        XCTAssertEqual(gguf.version, 2)
        XCTAssertEqual(gguf.alignment, 64)
        XCTAssertEqual(gguf.dataOffset % 64, 0)
    }

    func testTinyRandomLlamaMatchesGGUFReader() throws {
        let gguf = try checkFile("llama-2-tiny-random.gguf")
        XCTAssertEqual(gguf.metadata["general.architecture"]?.stringValue, "llama")
        XCTAssertEqual(gguf.metadata["llama.embedding_length"]?.intValue, 8)
        XCTAssertEqual(gguf.metadata["tokenizer.ggml.tokens"]?.stringArray?.count, 32000)
        XCTAssertEqual(gguf.metadata["tokenizer.ggml.scores"]?.floatArray?.count, 32000)
        XCTAssertEqual(gguf.metadata["tokenizer.ggml.token_type"]?.intArray?.count, 32000)
        XCTAssertEqual(gguf.tensorInfos["token_embd.weight"]?.shape, [32000, 8])
    }

    func testAccessors() {
        XCTAssertEqual(GGUFValue.uint64(UInt64.max).intValue, nil)
        XCTAssertEqual(GGUFValue.int16(-5).intValue, -5)
        XCTAssertEqual(GGUFValue.float32(0.5).doubleValue, 0.5)
        XCTAssertEqual(GGUFValue.uint8(3).doubleValue, 3)
        XCTAssertNil(GGUFValue.string("x").doubleValue)
        XCTAssertEqual(GGUFValue.bool(true).boolValue, true)
        XCTAssertNil(GGUFValue.int32(1).boolValue)
        XCTAssertEqual(GGUFValue.array([.int32(1), .uint8(2)]).intArray, [1, 2])
        XCTAssertEqual(GGUFValue.array([.int32(1), .float32(2.5)]).floatArray, [1, 2.5])
        XCTAssertNil(GGUFValue.array([.int32(1), .string("a")]).stringArray)
        XCTAssertNil(GGUFValue.array([.bool(true)]).intArray)
        XCTAssertNil(GGUFValue.string("a").arrayValue)
    }

    func testGGMLTypeTable() {
        // Sizes from llama.cpp gguf-py/gguf/constants.py GGML_QUANT_SIZES.
        let expected: [(UInt32, String, Int, Int)] = [
            (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
            (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 40),
            (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176),
            (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292), (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74),
            (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50), (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110),
            (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136), (24, "I8", 1, 1), (25, "I16", 1, 2),
            (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8), (29, "IQ1_M", 256, 56),
            (30, "BF16", 1, 2), (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17),
        ]
        for (id, name, block, bytes) in expected {
            let type = GGMLType.withID(id)
            XCTAssertEqual(type?.name, name)
            XCTAssertEqual(type?.blockElements, block, name)
            XCTAssertEqual(type?.blockBytes, bytes, name)
        }
        XCTAssertNil(GGMLType.withID(4))
        XCTAssertNil(GGMLType.withID(31))
        XCTAssertEqual(GGMLType.byID.values.filter { $0.dtype != nil }.map(\.name).sorted(), ["BF16", "F16", "F32", "Q8_0"])
        XCTAssertEqual(GGMLType.withID(8)?.rowBytes(elements: 64), 68)
        XCTAssertNil(GGMLType.withID(8)?.rowBytes(elements: 48))
    }
}
