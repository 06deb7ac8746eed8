import Foundation
import Mnemo
import XCTest

/// `mnemo eval recall` end to end: JSON and table output agree with the library and with the
/// PyTorch reference figures; bad input is one line naming the file.
final class CLIEvalRecallTests: XCTestCase {
    private let model = "Fixtures/models/recall-knn"
    private let plan = "Fixtures/recall/plans/recall-knn-gate.json"
    private let data = "Fixtures/recall/eval.jsonl"

    func testJSONReportsAccuracyAndTheReferenceLogProbs() throws {
        let result = try CLIRunner.run(["eval", "recall", "--model", model, "--plan", plan, "--data", data,
                                        "--limit", "1", "--threads", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("recall: 1/1 examples"), result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["model", "plan", "data", "examples", "correct", "accuracy", "meanLogProb", "results"])
        XCTAssertEqual(object["examples"] as? Int, 1)
        let results = try XCTUnwrap(object["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(Set(results[0].keys), ["id", "answer", "predicted", "logprobs", "correct"])

        let referenceData = try Data(contentsOf: CLIRunner.fixture("recall/reference-knn-gate.json"))
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: referenceData) as? [String: Any])
        let expected = try XCTUnwrap((reference["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(results[0]["answer"] as? [Int], expected["answer"] as? [Int])
        XCTAssertEqual(results[0]["predicted"] as? [Int], expected["predicted"] as? [Int])
        let logprobs = try XCTUnwrap(results[0]["logprobs"] as? [Double])
        let expectedLogprobs = try XCTUnwrap(expected["logprobs"] as? [Double])
        XCTAssertEqual(logprobs.count, expectedLogprobs.count)
        for (a, b) in zip(logprobs, expectedLogprobs) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        let correct = (expected["correct"] as? Bool) == true
        XCTAssertEqual(object["correct"] as? Int, correct ? 1 : 0)
        XCTAssertEqual(try XCTUnwrap(object["accuracy"] as? Double), correct ? 1 : 0)
        XCTAssertEqual(try XCTUnwrap(object["meanLogProb"] as? Double), logprobs.reduce(0, +) / Double(logprobs.count), accuracy: 1e-12)
    }

    func testTableShowsAnswersAsTextAndTotals() throws {
        let result = try CLIRunner.run(["eval", "recall", "--model", "Fixtures/models/recall-base", "--plan",
                                        "Fixtures/recall/plans/recall-xl.json", "--data", data, "--limit", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, result.stdout)
        XCTAssertTrue(lines[1].contains("distance") && lines[1].contains("predicted"), lines[1])
        // Example 0's answer, decoded by the recall tokenizer (two digits).
        let first = try XCTUnwrap(RecallExample.load(from: CLIRunner.fixture("recall/eval.jsonl")).first)
        let digits = first.answer.map { String($0 - 4) }.joined()
        XCTAssertTrue(lines[2].contains("  \(digits)  "), lines[2])
        XCTAssertTrue(lines[4].hasPrefix("examples: 2  correct: "), lines[4])
    }

    func testBadDataAndPlanAreOneLineErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recall-bad-\(UUID().uuidString).jsonl")
        try Data(#"{"id": 0, "document": [1], "query": [3, 14], "answer": [99]}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let outOfRange = try CLIRunner.run(["eval", "recall", "--model", model, "--plan", plan, "--data", url.path])
        XCTAssertNotEqual(outOfRange.status, 0)
        XCTAssertEqual(outOfRange.stdout, "")
        XCTAssertEqual(outOfRange.stderr.split(separator: "\n").count, 1, outOfRange.stderr)
        XCTAssertTrue(outOfRange.stderr.contains("recall example 0: answer has token id 99, outside the vocabulary 0..<66"),
                      outOfRange.stderr)

        try Data("{".utf8).write(to: url)
        let broken = try CLIRunner.run(["eval", "recall", "--model", model, "--plan", plan, "--data", url.path])
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.stderr.hasPrefix("mnemo: error: \(url.path):1: not a JSON object"), broken.stderr)

        let missing = try CLIRunner.run(["eval", "recall", "--model", model, "--plan", "Fixtures/plans/absent.json", "--data", data])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--plan Fixtures/plans/absent.json: no such file"), missing.stderr)

        // A plan the model cannot run: a segment longer than its 256-token context.
        let planURL = FileManager.default.temporaryDirectory.appendingPathComponent("recall-plan-\(UUID().uuidString).json")
        try Data(#"{"segmentLength": 512}"#.utf8).write(to: planURL)
        defer { try? FileManager.default.removeItem(at: planURL) }
        let invalid = try CLIRunner.run(["eval", "recall", "--model", model, "--plan", planURL.path, "--data", data])
        XCTAssertNotEqual(invalid.status, 0)
        XCTAssertTrue(invalid.stderr.contains("segmentLength = 512"), invalid.stderr)
    }
}
