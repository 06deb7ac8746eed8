import Foundation
import XCTest
@testable import MnemoFormats
import MnemoTensor

/// Fixture locations and helpers shared by the MnemoFormats tests.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    static func bytes(_ relative: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(relative))) }

    /// `Fixtures/formats/format_goldens.json`, written by Fixtures/scripts/make_format_goldens.py.
    /// Tests fail (missing keys) rather than crash if it cannot be read.
    static var goldens: [String: Any] {
        guard let data = try? Data(contentsOf: url("formats/format_goldens.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }
}

/// A scratch directory removed when the test case ends.
final class TempDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` and returns its URL.
    @discardableResult
    func write(_ bytes: some Collection<UInt8>, name: String = "file.bin") throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }
}

/// Runs `body`, asserts it throws an `E`, and returns that error (nil, with a failure, otherwise).
@discardableResult
func assertThrows<E: Error>(_ errorType: E.Type, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () throws -> Void) -> E? {
    do {
        try body()
        XCTFail("expected \(E.self) to be thrown, nothing was", file: file, line: line)
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected \(E.self), got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

/// Asserts `"\(error)"` is one line containing every fragment.
func assertMessage(_ error: (any Error)?, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    guard let error else { return XCTFail("no error", file: file, line: line) }
    let message = "\(error)"
    XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
    XCTAssertEqual(error.localizedDescription, message, "localizedDescription differs", file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(message.contains(fragment), "message \"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
    }
}

/// Dequantizes every row of `matrix` into one flat array.
func dequantizeAll(_ matrix: WeightMatrix) -> [Float] {
    var result = [Float](repeating: .nan, count: matrix.rows * matrix.cols)
    result.withUnsafeMutableBufferPointer { buffer in
        for r in 0..<matrix.rows { matrix.dequantizeRow(r, into: buffer.baseAddress! + r * matrix.cols) }
    }
    return result
}

/// Parses a JSON number that the golden script may have written as a string (64-bit integers).
func jsonDouble(_ value: Any?) -> Double? {
    if let s = value as? String { return Double(s) }
    return (value as? NSNumber)?.doubleValue
}

/// Float values of a JSON array.
func jsonFloats(_ value: Any?) -> [Float] {
    ((value as? [Any]) ?? []).compactMap { jsonDouble($0).map(Float.init) }
}
