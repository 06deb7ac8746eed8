import XCTest
import MnemoModels
@testable import MnemoEngine

/// Issue #6: the models trained with memory (`Fixtures/scripts/train_recall.py`) give in Mnemo the
/// per-token answer log-probabilities (within 1e-3) and greedy answers that the script's own
/// PyTorch implementation of the mechanisms (`recall_model.py`, float64, written from
/// Docs/Memory.md) measured, on the first examples of the committed evaluation sets. The full sets
/// (accuracy within 2 points) are CLI runs recorded in Docs/Memory.md.
final class RecallReproductionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    struct Reference: Decodable {
        struct Result: Decodable {
            var id: Int
            var answer: [Int]
            var predicted: [Int]
            var logprobs: [Double]
            var correct: Bool
        }
        var model: String
        var plan: String
        var data: String
        var examples: Int
        var accuracy: Double
        var results: [Result]
    }

    /// Reads `count` examples of the reference's set through its model and plan and compares.
    /// - Returns: the largest |Δ log-prob| seen.
    @discardableResult
    private func reproduce(_ name: String, count: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Fixtures/recall/\(name)"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let model = try LanguageModel.load(from: Self.root.appendingPathComponent(reference.model))
        let plan = try MemoryPlan.load(from: Self.root.appendingPathComponent(reference.plan))
        let reader = try MemoryModel(model: model, plan: plan)
        let examples = try RecallExample.load(from: Self.root.appendingPathComponent(reference.data))
        XCTAssertGreaterThanOrEqual(reference.results.count, count, file: file, line: line)
        var worst = 0.0
        for (example, expected) in zip(examples.prefix(count), reference.results) {
            XCTAssertEqual(example.id, "\(expected.id)", file: file, line: line)
            XCTAssertEqual(example.answer, expected.answer, file: file, line: line)
            let result = try RecallEvaluation.evaluate(example, model: reader)
            XCTAssertEqual(result.predicted, expected.predicted, "\(name) example \(example.id)", file: file, line: line)
            XCTAssertEqual(result.correct, expected.correct, file: file, line: line)
            XCTAssertEqual(result.logprobs.count, expected.logprobs.count, file: file, line: line)
            for (a, b) in zip(result.logprobs, expected.logprobs) { worst = max(worst, abs(a - b)) }
        }
        XCTAssertLessThanOrEqual(worst, 1e-3, "\(name): largest |Δ log-prob| = \(worst)", file: file, line: line)
        return worst
    }

    /// Memorizing Transformers: XL window 128 + gated kNN memory on layer 1 (gate biases from the
    /// checkpoint's `knn_gate_bias`), keys at the window edge.
    func testGatedKNNModelReproducesPyTorch() throws {
        try reproduce("reference-knn-gate.json", count: 1)
    }

    /// RMT: 16 memory tokens from `memory_cell.memory`, 128-token segments.
    func testRMTModelReproducesPyTorch() throws {
        try reproduce("reference-rmt.json", count: 2)
    }

    /// The base model (plain attention) with Unlimiformer retrieval from layer 1 and with the XL
    /// window alone. (kNN memory in joint softmax shares the gated model's search path; its full run
    /// is in Docs/Memory.md, kept out of the suite for time: about 7 s an example in debug builds.)
    func testBaseModelWithRetrievalAndWindowReproducesPyTorch() throws {
        try reproduce("reference-base-retrieval.json", count: 1)
        try reproduce("reference-base-xl.json", count: 1)
    }
}
