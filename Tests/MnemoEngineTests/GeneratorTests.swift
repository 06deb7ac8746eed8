import XCTest
@testable import MnemoEngine

final class GeneratorTests: XCTestCase {
    private let codec = ByteCodec()
    private func scripted(_ text: String, contextLength: Int = 1024, delay: TimeInterval = 0) -> FakeModel {
        FakeModel(script: text.utf8.map { Int($0) }, vocabularySize: 258, eos: ByteCodec.eos,
                  contextLength: contextLength, delay: delay)
    }

    private func run(_ generator: Generator, prompt: [Int]) throws -> [GeneratedToken] {
        try generator.prefill(prompt)
        var out: [GeneratedToken] = []
        while let token = try generator.step() { out.append(token) }
        return out
    }

    func testStopsAtEndOfSequenceWithoutEmittingIt() throws {
        let model = scripted("hi!")
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 100))
        let tokens = try run(generator, prompt: [ByteCodec.bos])
        XCTAssertEqual(tokens.map(\.text).joined(), "hi!")
        XCTAssertEqual(generator.stats.stopReason, .endOfSequence)
        XCTAssertEqual(generator.stats.generatedTokens, 3)
        XCTAssertEqual(generator.stats.promptTokens, 1)
        XCTAssertEqual(generator.tokens, [ByteCodec.bos] + "hi!".utf8.map { Int($0) })
        XCTAssertNil(try generator.step(), "stays stopped")
        // logprob = log-softmax of a row with one 10 and 257 zeros.
        let expected: Double = 10 - Foundation.log(Foundation.exp(10.0) + 257)
        XCTAssertEqual(tokens[0].logprob, expected, accuracy: 1e-9)
    }

    func testStopsAtTokenBudgetAfterNMinusOneForwards() throws {
        let model = scripted("abcdefgh")
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 3))
        let tokens = try run(generator, prompt: codec.encode("x", addSpecialTokens: true))
        XCTAssertEqual(tokens.map(\.id), "bcd".utf8.map { Int($0) }, "the row after position p peaks on script[p]; the prompt fills positions 0 and 1")
        XCTAssertEqual(generator.stats.stopReason, .maxTokens)
        XCTAssertEqual(model.calls.batchSizes, [2, 1, 1], "one prefill, then maxTokens - 1 single-token forwards")
    }

    func testStopsWhenContextIsFull() throws {
        let model = scripted(String(repeating: "z", count: 50), contextLength: 4)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 100))
        let tokens = try run(generator, prompt: [ByteCodec.bos])
        XCTAssertEqual(tokens.count, 4, "prompt + 3 fed tokens fill 4 positions; the 4th is sampled from them")
        XCTAssertEqual(generator.stats.stopReason, .contextFull)
        XCTAssertThrowsError(try generator.prefill([1, 2, 3, 4, 5])) { error in
            XCTAssertEqual("\(error)", "prompt has 5 tokens but the model's context holds 4")
        }
    }

    func testStreamsMultiByteTextOnlyAsCompleteCharacters() throws {
        let text = "añ🙂 ok — ü"
        let model = scripted(text)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 100))
        let tokens = try run(generator, prompt: [ByteCodec.bos])
        XCTAssertEqual(tokens.count, text.utf8.count, "one token per byte")
        XCTAssertEqual(tokens.map(\.text).joined(), text)
        XCTAssertFalse(tokens.contains { $0.text.contains("\u{FFFD}") })
        XCTAssertEqual(tokens.filter { $0.text.isEmpty }.count, text.utf8.count - text.count,
                       "continuation bytes emit nothing until their character completes")
        XCTAssertEqual(generator.finish(), "")
    }

    func testBudgetCutInsideACharacterIsFlushedAsText() async throws {
        let model = scripted("🙂")
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 2))
        var events: [GenerationEvent] = []
        for try await event in generator.stream(promptTokens: [ByteCodec.bos]) { events.append(event) }
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events[2], .text("\u{FFFD}"))
    }

    func testStreamEndsWithStats() async throws {
        let model = scripted("Once")
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 10))
        var events: [GenerationEvent] = []
        for try await event in generator.stream(prompt: "") { events.append(event) }
        XCTAssertEqual(events.count, 5)
        let text = events.compactMap { event -> String? in
            if case .token(let token) = event { return token.text } else { return nil }
        }.joined()
        XCTAssertEqual(text, "Once", "an empty prompt starts from BOS")
        guard case .finished(let stats) = events.last else { return XCTFail("last event is not .finished") }
        XCTAssertEqual(stats.promptTokens, 1)
        XCTAssertEqual(stats.generatedTokens, 4)
        XCTAssertEqual(stats.stopReason, .endOfSequence)
        XCTAssertGreaterThanOrEqual(stats.decodeSeconds, 0)
        XCTAssertTrue(generator.tokens.isEmpty, "the stream ran on its own generator")
    }

    func testStreamThrowsModelAndPromptErrors() async throws {
        let model = scripted("abc", contextLength: 2)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions())
        do {
            for try await _ in generator.stream(prompt: "long prompt") {}
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error as? GenerationError, .promptTooLong(tokens: 12, contextLength: 2))
        }
    }

    func testBreakingOutOfTheStreamStopsTheProducer() async throws {
        let model = scripted(String(repeating: "a", count: 100_000), contextLength: 200_000, delay: 0.002)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 100_000))
        var seen = 0
        for try await event in generator.stream(prompt: "") {
            if case .token = event { seen += 1 }
            if seen == 3 { break }
        }
        try await Task.sleep(nanoseconds: 100_000_000)
        let afterBreak = model.calls.count
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(model.calls.count, afterBreak, "no forward passes after the consumer left")
        XCTAssertLessThan(afterBreak, 1000)
    }

    func testCancellingTheConsumerStopsTheProducer() async throws {
        let model = scripted(String(repeating: "b", count: 100_000), contextLength: 200_000, delay: 0.002)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(maxTokens: 100_000))
        let stream = generator.stream(prompt: "")
        let consumer = Task {
            var count = 0
            for try await _ in stream { count += 1 }
            return count
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        consumer.cancel()
        let consumed = try await consumer.value
        XCTAssertLessThan(consumed, 100_000)
        try await Task.sleep(nanoseconds: 100_000_000)
        let afterCancel = model.calls.count
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(model.calls.count, afterCancel)
    }

    func testSeededSamplingGenerationIsReproducible() throws {
        var rng = Xoshiro256StarStar(seed: 5)
        let table = (0 ..< 6).map { _ in (0 ..< 6).map { _ in Float(rng.nextUnitDouble() * 3) } }
        let model = FakeModel(table: table, contextLength: 64)
        struct NoEOS: TokenCodec {
            func encode(_ text: String, addSpecialTokens: Bool) -> [Int] { [0] }
            func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String { "" }
            var bosTokenID: Int? { 0 }
            var eosTokenIDs: [Int] { [] }
            func makeTextStream() -> any TokenTextStream { ByteTextStream() }
        }
        let options = SamplingOptions(temperature: 1, topP: 0.9, seed: 77, maxTokens: 40)
        let a = try run(Generator(model: model, tokenizer: NoEOS(), options: options), prompt: [0]).map(\.id)
        let b = try run(Generator(model: model, tokenizer: NoEOS(), options: options), prompt: [0]).map(\.id)
        XCTAssertEqual(a.count, 40)
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(Set(a).count, 1, "it really sampled")
    }

    func testRejectsBadOptionsAndUnpreparedSteps() throws {
        let model = scripted("a")
        XCTAssertThrowsError(try Generator(model: model, tokenizer: codec, options: SamplingOptions(topP: 1.5)))
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions())
        XCTAssertThrowsError(try generator.step()) { XCTAssertEqual($0 as? GenerationError, .notPrefilled) }
        XCTAssertThrowsError(try generator.prefill([])) { XCTAssertEqual($0 as? GenerationError, .emptyPrompt) }
        XCTAssertThrowsError(try generator.prefill([300])) {
            XCTAssertEqual("\($0)", "token id 300 is outside the vocabulary 0..<258")
        }
    }
}
