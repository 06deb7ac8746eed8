import ArgumentParser
import Foundation
import Mnemo

/// `mnemo eval`: evaluations of a model with memory.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model with memory on a task.",
        subcommands: [EvalRecall.self]
    )
}

/// `mnemo eval recall`: associative recall far beyond the window (issue #6).
struct EvalRecall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Accuracy of answering a query about a long document read through a memory plan.",
        discussion: """
            --data is JSON Lines, one example per line: {"id": 0, "document": [ids], "query": [ids],
            "answer": [ids], "distance": n} (token ids; Fixtures/scripts/train_recall.py writes such
            sets). Each example is read on a fresh memory state: the document, then the query; each
            answer token is scored (log-probability) and the greedy choice recorded while the
            expected token is fed back. An example is correct when every greedy choice equals the
            answer, i.e. when greedy decoding produces the answer. Progress goes to standard error.
            """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "Memory plan JSON file (Docs/MemoryPlan.md).")
    var plan: String

    @Option(help: "Recall examples: JSON Lines (or a JSON array) of {id, document, query, answer[, distance]}.")
    var data: String

    @Option(help: "Evaluate only the first N examples.")
    var limit: Int?

    @Flag(help: #"Print {"examples": n, "correct": c, "accuracy": a, "meanLogProb": x, "results": [...]}."#)
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be >= 1, got \(limit)") }
        guard FileManager.default.fileExists(atPath: plan) else { throw ValidationError("--plan \(plan): no such file") }
        guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data \(data): no such file") }
    }

    func run() async throws {
        let memoryPlan = try MemoryPlan.load(from: URL(fileURLWithPath: plan))
        var examples = try RecallExample.load(from: URL(fileURLWithPath: data))
        if let limit { examples = Array(examples.prefix(limit)) }
        let session = try model.loadSession()
        // FAISS searches run on OpenMP threads; keep them to --threads too (idle OpenMP workers spin).
        if let threads = model.threads { FaissIndex.setThreadCount(threads) }
        let reader = try MemoryModel(model: session.model, plan: memoryPlan)
        let start = Date()
        var correct = 0
        let report = try RecallEvaluation.evaluate(examples, model: reader) { done, result in
            if result.correct { correct += 1 }
            if done % 10 == 0 || done == examples.count {
                Console.log(String(format: "recall: %d/%d examples, %d correct (%.1f s)", done, examples.count, correct,
                                   Date().timeIntervalSince(start)))
            }
        }
        if json {
            Console.line(JSONText.object([
                ("model", JSONText.string(model.model)),
                ("plan", JSONText.string(plan)),
                ("data", JSONText.string(data)),
                ("examples", "\(report.results.count)"),
                ("correct", "\(report.correctCount)"),
                ("accuracy", JSONText.number(report.accuracy)),
                ("meanLogProb", JSONText.number(report.meanLogProb)),
                ("results", JSONText.array(report.results.map { r in
                    JSONText.object([
                        ("id", JSONText.string(r.id)),
                        ("answer", JSONText.array(r.answer.map { "\($0)" })),
                        ("predicted", JSONText.array(r.predicted.map { "\($0)" })),
                        ("logprobs", JSONText.array(r.logprobs.map { JSONText.number($0) })),
                        ("correct", r.correct ? "true" : "false"),
                    ])
                })),
            ]))
            return
        }
        let text = { (ids: [Int]) in visiblePiece(session.tokenizer.decode(ids, skipSpecialTokens: false)) }
        Console.line("model: \(model.model)  plan: \(plan)  data: \(data)")
        Console.line(pad("id", 6, right: true) + "  " + pad("distance", 8, right: true) + "  " + pad("answer", 12)
                     + "  " + pad("predicted", 12) + "  " + pad("logprob", 10, right: true) + "  correct")
        for (example, r) in zip(examples, report.results) {
            Console.line(pad(r.id, 6, right: true) + "  " + pad(example.distance.map { "\($0)" } ?? "-", 8, right: true)
                         + "  " + pad(text(r.answer), 12) + "  " + pad(text(r.predicted), 12) + "  "
                         + pad(String(format: "%.4f", r.logprobs.reduce(0, +)), 10, right: true) + "  " + (r.correct ? "yes" : "no"))
        }
        Console.line(String(format: "examples: %d  correct: %d  accuracy: %.1f%%  mean answer-token log-prob: %.4f",
                            report.results.count, report.correctCount, 100 * report.accuracy, report.meanLogProb))
    }
}
