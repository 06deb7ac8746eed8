import XCTest
@testable import MnemoEngine

/// Reading recall data files (`RecallExample.load`): the committed evaluation sets, and every
/// error case with its one-line message.
final class RecallDataTests: XCTestCase {
    static let recall = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/recall").standardized

    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("recall-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ text: String, _ name: String = "data.jsonl") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    private func assertError(_ text: String, _ expected: RecallDataError.Type = RecallDataError.self,
                             contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(text)
        XCTAssertThrowsError(try RecallExample.load(from: url), file: file, line: line) { error in
            guard let error = error as? RecallDataError else { return XCTFail("\(error)", file: file, line: line) }
            let message = "\(error)"
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            XCTAssertTrue(message.hasPrefix(url.path), message, file: file, line: line)
            for fragment in fragments { XCTAssertTrue(message.contains(fragment), "\(message) lacks \(fragment)", file: file, line: line) }
        }
    }

    /// The committed sets are what issue #6 asks for: prompts 16× the trained context (256), the
    /// queried pair at least 8 windows (2048 tokens) before the query, two-token answers.
    func testCommittedEvaluationSetsHaveTheIssueShape() throws {
        for name in ["eval.jsonl", "eval-rmt.jsonl"] {
            let examples = try RecallExample.load(from: Self.recall.appendingPathComponent(name))
            XCTAssertEqual(examples.count, 100, name)
            for e in examples {
                XCTAssertEqual(e.document.count + e.query.count, 16 * 256, "\(name) \(e.id)")
                XCTAssertEqual(e.query.count, 2)
                XCTAssertEqual(e.answer.count, 2)
                let distance = try XCTUnwrap(e.distance)
                XCTAssertGreaterThanOrEqual(distance, 8 * 256)
                // The pair `K d d` sits `distance` tokens before the query and its key is the query's.
                let start = e.document.count - distance
                XCTAssertEqual(e.document[start], e.query[1], "\(name) \(e.id)")
                XCTAssertEqual(Array(e.document[start + 1 ... start + 2]), e.answer, "\(name) \(e.id)")
                XCTAssertEqual(e.document.filter { $0 == e.query[1] }.count, 1, "the key occurs once")
            }
        }
    }

    func testReadsJSONLinesAndJSONArrays() throws {
        let lines = try write("""
            {"id": 0, "document": [1, 40], "query": [3, 14], "answer": [4, 5], "distance": 9}

            {"id": "b", "document": [], "query": [3], "answer": [7]}
            """)
        let a = try RecallExample.load(from: lines)
        XCTAssertEqual(a, [RecallExample(id: "0", document: [1, 40], query: [3, 14], answer: [4, 5], distance: 9),
                           RecallExample(id: "b", document: [], query: [3], answer: [7])])
        let array = try write(#"  [{"id": 0, "document": [1, 40], "query": [3, 14], "answer": [4, 5], "distance": 9}]"#, "a.json")
        XCTAssertEqual(try RecallExample.load(from: array), [a[0]])
    }

    func testEveryErrorNamesFileLineAndKey() throws {
        try assertError("", contains: ["no recall examples"])
        try assertError("\n  \n", contains: ["no recall examples"])
        try assertError(#"{"id": 0, "document": [1], "query": [], "answer": [4]}"# + "\n{nope", contains: [":2:", "not a JSON object"])
        try assertError("[1, 2]", contains: [":1:", "found a number"])
        try assertError(#"{"id": 0, "document": [1], "query": []}"#, contains: [":1:", #"required key "answer""#])
        try assertError(#"{"id": 0, "document": [1], "query": [], "answer": [4], "anser": 1}"#, contains: [#"unknown key "anser""#, "known: id"])
        try assertError(#"{"id": 0, "document": [1, "x"], "query": [], "answer": [4]}"#, contains: ["document[1]", #"found "x""#, "token id"])
        try assertError(#"{"id": 0, "document": [1, -3], "query": [], "answer": [4]}"#, contains: ["document[1]", "found -3"])
        try assertError(#"{"id": 0, "document": [1, 2.5], "query": [], "answer": [4]}"#, contains: ["document[1]", "found 2.5"])
        try assertError(#"{"id": 0, "document": [1, true], "query": [], "answer": [4]}"#, contains: ["document[1]", "found a boolean"])
        try assertError(#"{"id": 0, "document": 5, "query": [], "answer": [4]}"#, contains: ["document", "found a number", "array of token ids"])
        try assertError(#"{"id": 0, "document": [1], "query": [], "answer": []}"#, contains: ["answer", "at least one token"])
        try assertError(#"{"id": 0, "document": [], "query": [], "answer": [4]}"#, contains: ["document", "at least one token in document or query"])
        try assertError(#"{"id": [0], "document": [1], "query": [], "answer": [4]}"#, contains: ["id", "integer or a string"])
        try assertError(#"{"id": 0, "document": [1], "query": [], "answer": [4], "distance": -1}"#, contains: ["distance", "found -1"])
        XCTAssertThrowsError(try RecallExample.load(from: folder.appendingPathComponent("absent.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("absent.jsonl: cannot read"), "\(error)")
        }
    }
}
