import Foundation
import XCTest
@testable import MnemoFormats

/// Malformed GGUF files: each must throw a `GGUFError` whose one-line message names the problem.
final class GGUFCorruptionTests: XCTestCase {
    private var temp: TempDirectory!
    private var v3: [UInt8] = []

    override func setUpWithError() throws {
        temp = try TempDirectory()
        v3 = try Fixture.bytes("formats/synthetic_v3.gguf")
    }

    private func load(_ bytes: [UInt8]) throws -> GGUFFile {
        try GGUFFile(url: temp.write(bytes, name: "bad.gguf"))
    }

    private func expectError(_ bytes: [UInt8], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        let error = assertThrows(GGUFError.self, file: file, line: line) { _ = try load(bytes) }
        assertMessage(error, contains: ["bad.gguf"] + fragments, file: file, line: line)
    }

    private func putU32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }

    private func putU64(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { for i in 0..<8 { bytes[offset + i] = $0[i] } }
    }

    /// Offset of the first byte after the length-prefixed string `text` (a key or tensor name).
    private func after(_ text: String, in bytes: [UInt8]) throws -> Int {
        var needle = [UInt8](repeating: 0, count: 8)
        putU64(&needle, 0, UInt64(text.utf8.count))
        needle += Array(text.utf8)
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<(start + needle.count)]) == needle {
            return start + needle.count
        }
        throw XCTSkip("'\(text)' not found in fixture")
    }

    /// Offset of the `offset` field of 2-D tensor `name`'s info.
    private func tensorOffsetField(_ name: String) throws -> Int { try after(name, in: v3) + 4 + 16 + 4 }

    func testBadMagic() {
        var bytes = v3
        bytes[3] = 0x47
        expectError(bytes, ["not a GGUF file", "47 47 55 47"])
        expectError(Array("{\"not\": \"gguf\"}".utf8), ["not a GGUF file"])
    }

    func testVersionOneAndFutureVersionsRejected() {
        var bytes = v3
        putU32(&bytes, 4, 1)
        expectError(bytes, ["unsupported GGUF version 1", "expected 2 or 3", "v1"])
        putU32(&bytes, 4, 4)
        expectError(bytes, ["unsupported GGUF version 4"])
    }

    func testBigEndianRejected() throws {
        let error = assertThrows(GGUFError.self) { _ = try GGUFFile(url: Fixture.url("formats/synthetic_be.gguf")) }
        assertMessage(error, contains: ["synthetic_be.gguf", "big-endian"])
    }

    func testAbsurdStringLength() {
        var bytes = v3
        putU64(&bytes, 24, 1 << 63)   // length of the first metadata key
        expectError(bytes, ["truncated", "metadata key #0", "needs 9223372036854775808 bytes"])
        putU64(&bytes, 24, UInt64.max)
        expectError(bytes, ["truncated", "needs 18446744073709551615 bytes"])
    }

    func testAbsurdCounts() {
        var bytes = v3
        putU64(&bytes, 16, 1 << 62)
        expectError(bytes, ["metadata key/value count is 4611686018427387904", "at most"])
        bytes = v3
        putU64(&bytes, 8, UInt64.max)
        expectError(bytes, ["tensor count is 18446744073709551615"])
    }

    func testAbsurdArrayLength() throws {
        var bytes = v3
        let field = try after("test.strings", in: bytes) + 4 + 4  // value type, element type
        putU64(&bytes, field, 1 << 60)
        expectError(bytes, ["array length of 'test.strings'", "1152921504606846976"])
    }

    func testUnknownValueType() throws {
        var bytes = v3
        putU32(&bytes, try after("test.u8", in: bytes), 13)
        expectError(bytes, ["'test.u8'", "unknown value type 13"])
        bytes = v3
        putU32(&bytes, try after("test.strings", in: bytes) + 4, 99)
        expectError(bytes, ["'test.strings'", "unknown value type 99"])
    }

    func testInvalidBool() throws {
        var bytes = v3
        bytes[try after("test.bool_true", in: bytes) + 4] = 2
        expectError(bytes, ["'test.bool_true'", "bool byte 2", "expected 0 or 1"])
    }

    func testDuplicateKey() throws {
        var bytes = v3
        let start = try after("test.i8", in: bytes) - 7
        bytes[start + 5] = UInt8(ascii: "u")   // "test.i8" -> "test.u8"
        expectError(bytes, ["'test.u8' appears more than once"])
    }

    func testBadAlignment() throws {
        var bytes = try Fixture.bytes("formats/synthetic_v2.gguf")
        putU32(&bytes, try after("general.alignment", in: bytes) + 4, 48)
        expectError(bytes, ["general.alignment is UINT32 48", "power of two"])
    }

    func testTensorOffsetPastEndOfFile() throws {
        var bytes = v3
        putU64(&bytes, try tensorOffsetField("t.f32"), 1 << 40)
        expectError(bytes, ["'t.f32'", "offset 1099511627776", "needs 48 bytes"])
        putU64(&bytes, try tensorOffsetField("t.f32"), UInt64.max - 31)
        expectError(bytes, ["'t.f32'", "needs 48 bytes"])
    }

    func testMisalignedTensorOffset() throws {
        var bytes = v3
        putU64(&bytes, try tensorOffsetField("t.f16"), 68)
        expectError(bytes, ["'t.f16'", "offset 68", "alignment 32"])
    }

    func testOverlappingTensors() throws {
        var bytes = v3
        putU64(&bytes, try tensorOffsetField("t.f16"), 32)   // t.f32 occupies [0, 48)
        expectError(bytes, ["'t.f16'", "inside tensor 't.f32'"])
    }

    func testUnknownTensorType() throws {
        var bytes = v3
        putU32(&bytes, try tensorOffsetField("t.f32") - 4, 4)   // Q4_2, removed from ggml
        expectError(bytes, ["'t.f32'", "unknown ggml type id 4"])
    }

    func testRowNotWholeBlocks() throws {
        var bytes = v3
        putU64(&bytes, try after("t.q8_0", in: bytes) + 4, 48)   // ne[0] = 48, not a multiple of 32
        expectError(bytes, ["'t.q8_0'", "Q8_0", "48 elements", "block size 32"])
    }

    func testTooManyDimensionsAndOverflowingShape() throws {
        var bytes = v3
        putU32(&bytes, try after("t.f32", in: bytes), 5)
        expectError(bytes, ["'t.f32'", "5 dimensions", "at most 4"])
        bytes = v3
        let ne = try after("t.f32", in: bytes) + 4
        putU64(&bytes, ne, 1 << 40)
        putU64(&bytes, ne + 8, 1 << 40)
        expectError(bytes, ["'t.f32'", "overflows"])
    }

    func testDuplicateTensorName() throws {
        var bytes = v3
        let first = try after("t.f32", in: bytes) - 5   // rename "t.f32" to "t.f16"
        bytes[first + 3] = UInt8(ascii: "1")
        bytes[first + 4] = UInt8(ascii: "6")
        expectError(bytes, ["tensor 't.f16' appears more than once"])
    }

    func testMissingTensorAndMissingFile() throws {
        let gguf = try GGUFFile(url: Fixture.url("formats/synthetic_v3.gguf"))
        let error = assertThrows(GGUFError.self) { _ = try gguf.matrix("nope") }
        assertMessage(error, contains: ["synthetic_v3.gguf", "no tensor named 'nope'"])
        let error2 = assertThrows(GGUFError.self) { _ = try gguf.rawPointer(for: "nope") }
        assertMessage(error2, contains: ["'nope'"])
        let missing = assertThrows(MappedFileError.self) { _ = try GGUFFile(url: temp.url.appendingPathComponent("absent.gguf")) }
        assertMessage(missing, contains: ["absent.gguf", "not found"])
    }

    func testEmptyTensorListIsValid() throws {
        // A metadata-only GGUF (like llama.cpp's vocab files): header up to the tensor infos.
        var bytes = Array("GGUF".utf8)
        bytes += [3, 0, 0, 0] + [UInt8](repeating: 0, count: 8)   // version 3, 0 tensors
        bytes += [1] + [UInt8](repeating: 0, count: 7)               // 1 key/value
        var key = [UInt8](repeating: 0, count: 8); putU64(&key, 0, 1)
        bytes += key + [UInt8(ascii: "k")] + [8, 0, 0, 0]            // key "k", type STRING
        var value = [UInt8](repeating: 0, count: 8); putU64(&value, 0, 2)
        bytes += value + Array("hi".utf8)
        let gguf = try load(bytes)
        XCTAssertEqual(gguf.metadata["k"], .string("hi"))
        XCTAssertTrue(gguf.tensorInfos.isEmpty)
    }
}
