import Foundation

/// What a model made of one recall example.
public struct RecallResult: Sendable, Equatable {
    public var id: String
    public var answer: [Int]
    /// The greedy prediction at each answer step, with the expected tokens fed back (teacher forcing).
    /// It equals the answer exactly when greedy decoding would produce the answer: greedy decoding
    /// follows the answer as long as every step's argmax is the answer token.
    public var predicted: [Int]
    /// `log p(answer[i] | document, query, answer[..<i])`, in nats.
    public var logprobs: [Double]
    /// Entries in the memory stores after reading (kNN, retrieval), for a `MemoryModel`.
    public var storedEntries: (knn: Int, retrieval: Int)?
    public var correct: Bool { predicted == answer }

    public init(id: String, answer: [Int], predicted: [Int], logprobs: [Double], storedEntries: (knn: Int, retrieval: Int)? = nil) {
        self.id = id
        self.answer = answer
        self.predicted = predicted
        self.logprobs = logprobs
        self.storedEntries = storedEntries
    }

    public static func == (a: RecallResult, b: RecallResult) -> Bool {
        a.id == b.id && a.answer == b.answer && a.predicted == b.predicted && a.logprobs == b.logprobs
            && a.storedEntries?.knn == b.storedEntries?.knn && a.storedEntries?.retrieval == b.storedEntries?.retrieval
    }
}

/// Accuracy and answer log-probabilities over a recall set.
public struct RecallReport: Sendable, Equatable {
    public var results: [RecallResult]
    public init(results: [RecallResult]) { self.results = results }

    public var correctCount: Int { results.filter(\.correct).count }
    /// Exact-match accuracy of greedy decoding, in [0, 1] (0 for no examples).
    public var accuracy: Double { results.isEmpty ? 0 : Double(correctCount) / Double(results.count) }
    /// Mean log-probability of an answer token (over all answer tokens of all examples).
    public var meanLogProb: Double {
        let all = results.flatMap(\.logprobs)
        return all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count)
    }
}

/// Associative-recall evaluation (issue #6): does the model answer a question about a document it
/// read through its memory?
///
/// For each example a fresh state reads the document (`MemoryState.endDocument()` closes it, which
/// matters for Unlimiformer's chunked encoding), then the query; each answer token is scored and the
/// greedy choice recorded, and the expected token is fed to continue.
/// ```swift
/// let reader = try MemoryModel(model: model, plan: MemoryPlan.load(from: planURL))
/// let report = try RecallEvaluation.evaluate(RecallExample.load(from: dataURL), model: reader)
/// print(report.accuracy, report.meanLogProb)
/// ```
public enum RecallEvaluation {
    /// Evaluates one example on a fresh state of `model`.
    /// - Throws: `RecallDataError.tokenOutOfRange` for an id outside the vocabulary, the model's errors.
    /// - Complexity: one read of `document + query + answer.count - 1` tokens.
    public static func evaluate(_ example: RecallExample, model: any LogitsModel) throws -> RecallResult {
        let V = model.vocabularySize
        for (key, tokens) in [("document", example.document), ("query", example.query), ("answer", example.answer)] {
            if let bad = tokens.first(where: { $0 < 0 || $0 >= V }) {
                throw RecallDataError.tokenOutOfRange(example: example.id, key: key, token: bad, vocabularySize: V)
            }
        }
        let state = model.makeState()
        var logits: [Float] = []
        if !example.document.isEmpty { logits = try model.forward(example.document, state: state, allLogits: false) }
        let memory = state as? MemoryState
        memory?.endDocument()
        if !example.query.isEmpty { logits = try model.forward(example.query, state: state, allLogits: false) }
        var predicted: [Int] = []
        var logprobs: [Double] = []
        for (i, token) in example.answer.enumerated() {
            guard logits.count == V else { throw GenerationError.logitsSizeMismatch(expected: V, found: logits.count) }
            logprobs.append(LogSoftmax.logProbability(of: token, logits: logits, count: V))
            predicted.append(Sampler.argmax(logits))
            if i + 1 < example.answer.count { logits = try model.forward([token], state: state, allLogits: false) }
        }
        return RecallResult(id: example.id, answer: example.answer, predicted: predicted, logprobs: logprobs,
                            storedEntries: memory?.storedEntries)
    }

    /// Evaluates every example; `progress` is called after each one (done count, its result).
    /// - Throws: as `evaluate(_:model:)`.
    public static func evaluate(_ examples: [RecallExample], model: any LogitsModel,
                                progress: ((Int, RecallResult) -> Void)? = nil) throws -> RecallReport {
        var results: [RecallResult] = []
        results.reserveCapacity(examples.count)
        for example in examples {
            results.append(try evaluate(example, model: model))
            progress?(results.count, results[results.count - 1])
        }
        return RecallReport(results: results)
    }
}
