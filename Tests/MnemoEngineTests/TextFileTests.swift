import XCTest
@testable import MnemoEngine

final class TextFileTests: XCTestCase {
    private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-\(UUID().uuidString).txt")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
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
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/mnemo/prompt.txt: "), "\(error)")
        }
        XCTAssertEqual(try TextFile.read(try temporaryFile(Array("héllo".utf8))), "héllo")
    }
}
