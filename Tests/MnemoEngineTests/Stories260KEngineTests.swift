import XCTest
import MnemoModels
import MnemoTokenizers
@testable import MnemoEngine

/// The engine over a real model and tokenizer: stories260K (llama2.c checkpoint + tok512.bin).
final class Stories260KEngineTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models/stories260K").standardized

    private func session() throws -> MnemoSession {
        try MnemoSession.load(model: Self.folder.appendingPathComponent("stories260K.bin"))
    }

    /// The streamed text deltas of a generation concatenate to the tokenizer's full decode of the
    /// generated ids (no token's text is lost, doubled or cut inside a UTF-8 character).
    func testStreamedTextEqualsFullDecode() async throws {
        let session = try session()
        var options = SamplingOptions(temperature: 1, seed: 2024, maxTokens: 120)
        options.stopAtEndOfSequence = false
        var ids: [Int] = []
        var text = ""
        var finished: GenerationStats?
        for try await event in session.stream(prompt: "Once upon a time", options: options) {
            switch event {
            case .token(let token):
                ids.append(token.id)
                text += token.text
                XCTAssertLessThanOrEqual(token.logprob, 0)
            case .text(let tail): text += tail
            case .finished(let stats): finished = stats
            }
        }
        XCTAssertEqual(ids.count, 120)
        XCTAssertEqual(finished?.generatedTokens, 120)
        XCTAssertEqual(finished?.stopReason, .maxTokens)
        let promptIDs = session.encode("Once upon a time")
        let full = session.tokenizer.decode(promptIDs + ids)
        let prompt = session.tokenizer.decode(promptIDs)
        XCTAssertTrue(full.hasPrefix(prompt))
        XCTAssertEqual(text, String(full.dropFirst(prompt.count)))
    }

    /// Scoring (one batched pass, all logits) agrees with token-by-token decoding through the KV
    /// cache, whose last-token logits are log-softmaxed one step at a time.
    func testBatchedScoreEqualsIncrementalDecode() throws {
        let session = try session()
        let tokens = session.encode("Lily saw a big red ball in the park. She was happy.")
        let result = try session.score(tokens: tokens)
        let model = session.model
        let cache = model.makeCache()
        var logits = try model.forward([tokens[0]], cache: cache, allLogits: false)
        for i in 1 ..< tokens.count {
            let expected = LogSoftmax.logProbability(of: tokens[i], logits: logits, count: logits.count)
            XCTAssertEqual(try XCTUnwrap(result.logprobs[i]), expected, accuracy: 1e-4, "token \(i)")
            logits = try model.forward([tokens[i]], cache: cache, allLogits: false)
        }
        XCTAssertEqual(result.perplexity, Foundation.exp(result.nll), accuracy: 1e-12)
    }

    /// Greedy generation from BOS reproduces llama2.c's published greedy sample.
    func testGreedyFromBOSMatchesLlama2cSample() throws {
        let session = try session()
        let generator = try session.makeGenerator(options: SamplingOptions(temperature: 0, maxTokens: 40))
        try generator.prefill(generator.promptTokens(for: ""))
        var text = ""
        while let token = try generator.step() { text += token.text }
        text += generator.finish()
        XCTAssertTrue(text.drop { $0 == " " }.hasPrefix("Once upon a time, there was a little girl named Lily. She loved to play outside"), text)
    }
}
