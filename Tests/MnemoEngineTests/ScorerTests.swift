import XCTest
@testable import MnemoEngine

final class ScorerTests: XCTestCase {
    // Hand-derived: log(e^1 + e^2 + e^3) = 3 + log(1 + e^-1 + e^-2) = 3.40760596444438.
    private let lse123 = 3.40760596444438013

    func testLogSoftmaxMatchesHandComputation() {
        XCTAssertEqual(LogSoftmax.logProbability(of: 2, logits: [1, 2, 3], count: 3), 3 - lse123, accuracy: 1e-12)
        XCTAssertEqual(LogSoftmax.logProbability(of: 0, logits: [1, 2, 3], count: 3), 1 - lse123, accuracy: 1e-12)
        XCTAssertEqual(LogSoftmax.logProbability(of: 1, logits: [9, 9, 0, 0, 0], offset: 2, count: 3),
                       -Foundation.log(3.0), accuracy: 1e-12)
        // Stable for large logits.
        XCTAssertEqual(LogSoftmax.logProbability(of: 0, logits: [1000, 1000], count: 2), -Foundation.log(2.0), accuracy: 1e-12)
    }

    func testScoreUsesOneBatchedForwardAndHandComputedLogSoftmax() throws {
        let model = FakeModel(table: [[1, 2, 3], [0, 0, 0], [3, 2, 1]], contextLength: 16)
        let result = try Scorer(model: model).score(tokens: [0, 2, 1, 0])
        XCTAssertEqual(result.tokens, [0, 2, 1, 0])
        XCTAssertEqual(result.logprobs.count, 4)
        XCTAssertNil(result.logprobs[0])
        XCTAssertEqual(try XCTUnwrap(result.logprobs[1]), 3 - lse123, accuracy: 1e-12)   // row of 0 = [1,2,3], token 2
        XCTAssertEqual(try XCTUnwrap(result.logprobs[2]), 2 - lse123, accuracy: 1e-12)   // row of 2 = [3,2,1], token 1
        XCTAssertEqual(try XCTUnwrap(result.logprobs[3]), -Foundation.log(3.0), accuracy: 1e-12) // row of 1 uniform
        let nll = -((3 - lse123) + (2 - lse123) - Foundation.log(3.0)) / 3
        XCTAssertEqual(result.nll, nll, accuracy: 1e-12)
        XCTAssertEqual(result.perplexity, Foundation.exp(nll), accuracy: 1e-12)
        XCTAssertEqual(model.calls.batchSizes, [4])
    }

    func testLongSequenceIsScoredInStridedWindows() throws {
        // Markov model: a token's probability depends only on its predecessor, so the windowed
        // scores must equal the full-context ones, each token scored once.
        let table: [[Float]] = [[0.5, -1, 2], [1, 1, 0], [-2, 0.25, 3]]
        let model = FakeModel(table: table, contextLength: 4)
        let tokens = [0, 1, 2, 2, 0, 1, 1, 0, 2]
        let result = try Scorer(model: model, stride: 2).score(tokens: tokens)
        XCTAssertNil(result.logprobs[0])
        for i in 1 ..< tokens.count {
            let expected = LogSoftmax.logProbability(of: tokens[i], logits: table[tokens[i - 1]], count: 3)
            XCTAssertEqual(try XCTUnwrap(result.logprobs[i]), expected, accuracy: 1e-12, "token \(i)")
        }
        // Windows [0,4) then ends 6, 8, 9: four passes of at most 4 tokens on fresh states.
        XCTAssertEqual(model.calls.batchSizes, [4, 4, 4, 4])
        XCTAssertEqual(result.nll, -result.logprobs.compactMap { $0 }.reduce(0, +) / 8, accuracy: 1e-12)
    }

    func testScoreRejectsBadInput() throws {
        let model = FakeModel(table: [[0, 0], [0, 0]], contextLength: 4)
        let scorer = try Scorer(model: model)
        XCTAssertThrowsError(try scorer.score(tokens: [1])) { error in
            XCTAssertEqual(error as? GenerationError, .notEnoughTokensToScore(count: 1))
        }
        XCTAssertThrowsError(try scorer.score(tokens: [0, 5])) { error in
            XCTAssertEqual("\(error)", "token id 5 is outside the vocabulary 0..<2")
        }
        XCTAssertThrowsError(try Scorer(model: model, stride: 9)) { error in
            XCTAssertEqual("\(error)", "stride must be in 1..<4 (less than the context length 4), got 9")
        }
    }

    func testStrideEqualToTheContextIsRejected() throws {
        // Regression: stride == context made the second window empty (begin == end) and trapped
        // in LogSoftmax on texts of at least 2 x context tokens.
        let model = FakeModel(table: [[0, 1], [1, 0]], contextLength: 4)
        XCTAssertThrowsError(try Scorer(model: model, stride: 4).score(tokens: [0, 1, 0, 1, 0, 1, 0, 1, 0])) { error in
            XCTAssertEqual(error as? GenerationError,
                           .invalidOption(name: "stride", value: "4", expected: "in 1..<4 (less than the context length 4)"))
        }
        // The largest valid stride still scores every token but the first, once.
        let result = try Scorer(model: model, stride: 3).score(tokens: [0, 1, 0, 1, 0, 1, 0, 1, 0])
        XCTAssertNil(result.logprobs[0])
        XCTAssertEqual(result.logprobs.compactMap { $0 }.count, 8)
    }

    func testContextOfOneTokenIsAClearError() {
        // Regression: with context 1 the default stride max(1, 1 / 2) == 1 equalled the context and trapped.
        let model = FakeModel(table: [[0, 1], [1, 0]], contextLength: 1)
        XCTAssertThrowsError(try Scorer(model: model).score(tokens: [0, 1, 0])) { error in
            XCTAssertEqual(error as? GenerationError, .contextTooShortToScore(contextLength: 1))
            XCTAssertEqual("\(error)", "the model's context length 1 is too short to score windows: it must be at least 2")
        }
    }
}
