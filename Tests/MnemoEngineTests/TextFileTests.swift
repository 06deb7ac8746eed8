import XCTest
@testable import MnemoEngine

final class TextFileTests: XCTestCase {
    private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-\(UUID().uuidString).txt")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testValidUTF8MatchesFoundationOnEveryTruncation() {
        let bytes = Array("añ€🙂 z".utf8)
        for cut in 0 ... bytes.count {
            let prefix = Array(bytes[..<cut])
            let valid = String(validatingCString: prefix.map { CChar(bitPattern: $0) } + [0]) != nil
            XCTAssertEqual(TextFile.firstInvalidUTF8Offset(prefix) == nil, valid, "cut at \(cut)")
        }
    }

    func testRejectsMalformedSequencesAtTheirOffset() {
        XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0x61, 0xFF, 0x61]), 1)
        XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0x61, 0x62, 0xC0, 0x80]), 2, "overlong")
        XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0xED, 0xA0, 0x80]), 0, "surrogate")
        XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0xF4, 0x90, 0x80, 0x80]), 0, "above U+10FFFF")
        XCTAssertEqual(TextFile.firstInvalidUTF8Offset([0x61, 0xE2, 0x82]), 1, "truncated")
        XCTAssertNil(TextFile.firstInvalidUTF8Offset(Array("ok €".utf8)))
    }

    func testReadErrorsNameTheFile() throws {
        let bad = try temporaryFile([0x68, 0x69, 0xC3])
        XCTAssertThrowsError(try TextFile.read(bad)) { error in
            XCTAssertEqual("\(error)", "\(bad.path): invalid UTF-8 at byte offset 2")
        }
        let empty = try temporaryFile([])
        XCTAssertEqual(try TextFile.read(empty), "")
        XCTAssertThrowsError(try TextFile.read(empty, allowEmpty: false)) { error in
            XCTAssertEqual("\(error)", "\(empty.path): file is empty")
        }
        let missing = URL(fileURLWithPath: "/nonexistent/mnemo/prompt.txt")
        XCTAssertThrowsError(try TextFile.read(missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/mnemo/prompt.txt: cannot read"), "\(error)")
        }
        XCTAssertEqual(try TextFile.read(try temporaryFile(Array("héllo".utf8))), "héllo")
    }
}
