import Foundation
import XCTest
@testable import MnemoFormats

final class MappedFileTests: XCTestCase {
    func testMapsBytesAndEmptyFile() throws {
        let temp = try TempDirectory()
        let url = try temp.write([1, 2, 3, 250] as [UInt8])
        let file = try MappedFile(url: url)
        XCTAssertEqual(file.count, 4)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: file.base, count: file.count)), [1, 2, 3, 250])
        let empty = try MappedFile(url: temp.write([UInt8](), name: "empty.bin"))
        XCTAssertEqual(empty.count, 0)
    }

    func testMissingUnreadableAndDirectory() throws {
        let temp = try TempDirectory()
        let missing = assertThrows(MappedFileError.self) { _ = try MappedFile(url: temp.url.appendingPathComponent("nope.bin")) }
        XCTAssertEqual(missing, .notFound(path: temp.url.appendingPathComponent("nope.bin").path))
        assertMessage(missing, contains: ["nope.bin", "not found"])
        let directory = assertThrows(MappedFileError.self) { _ = try MappedFile(url: temp.url) }
        assertMessage(directory, contains: [temp.url.path, "regular file"])
        let locked = try temp.write([1] as [UInt8], name: "locked.bin")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked.path)
        if getuid() != 0 {   // root can read anything
            let error = assertThrows(MappedFileError.self) { _ = try MappedFile(url: locked) }
            assertMessage(error, contains: ["locked.bin", "cannot read"])
        }
    }

    func testByteReaderLittleEndianAndOverruns() throws {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x80, 0x3F, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62, 0x63]
        try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(base: raw.baseAddress!, count: raw.count)
            XCTAssertEqual(try reader.readUInt32(), 0x0403_0201)
            XCTAssertEqual(try reader.readFloat32(), 1.0)
            XCTAssertEqual(try reader.readInt8(), -1)
            XCTAssertEqual(try reader.readString64(), "abc")
            XCTAssertEqual(reader.remaining, 0)
            XCTAssertThrowsError(try reader.readUInt8("tail")) { error in
                XCTAssertEqual(error as? ByteReaderOverrun, ByteReaderOverrun(offset: 20, needed: 1, available: 0, what: "tail"))
            }
            reader.offset = 0
            XCTAssertThrowsError(try reader.readBytes(UInt64.max, "huge")) { error in
                assertMessage(error, contains: ["offset 0", "huge", "18446744073709551615", "20 remain"])
            }
            XCTAssertThrowsError(try reader.skip(21, "skip"))
            XCTAssertEqual(reader.offset, 0)   // a failed read does not move the cursor
            reader.offset = 17
            XCTAssertThrowsError(try reader.readUInt64("u64"))
        }
    }
}
