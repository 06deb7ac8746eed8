import XCTest
@testable import MnemoEngine

/// `Generator(…, continuing:)` + `prefill(continuing:lastLogits:)`: generation after what a state holds.
final class GeneratorContinuationTests: XCTestCase {
    private let codec = ByteCodec()
    /// Greedy decoding of this model replays `text` by position (see `FakeModel`).
    private func scripted(_ text: String, contextLength: Int = 1024) -> FakeModel {
        FakeModel(script: text.utf8.map { Int($0) }, vocabularySize: 258, eos: ByteCodec.eos, contextLength: contextLength)
    }

    func testContinuesAfterTheStateWithoutResettingIt() throws {
        let model = scripted("abcdefghij")
        let state = model.makeState()
        _ = try model.forward([1, 2, 3, 4], state: state, allLogits: false)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(temperature: 0, maxTokens: 3),
                                      continuing: state)
        try generator.prefill(continuing: [5, 6])
        XCTAssertEqual(state.count, 6, "prompt run after the 4 held positions")
        var ids: [Int] = []
        while let token = try generator.step() { ids.append(token.id) }
        XCTAssertEqual(ids, "fgh".utf8.map { Int($0) }, "positions 6, 7, 8 of the script: the held tokens count")
        XCTAssertEqual(generator.tokens, [5, 6] + ids, "tokens = this generator's prompt and output")
        XCTAssertEqual(generator.stats.promptTokens, 2)
        XCTAssertEqual(model.calls.batchSizes, [4, 2, 1, 1])
    }

    func testEmptyPromptSamplesFromTheGivenLogits() throws {
        let model = scripted("abcdefghij")
        let state = model.makeState()
        let logits = try model.forward([1, 2, 3], state: state, allLogits: false)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(temperature: 0, maxTokens: 2),
                                      continuing: state)
        try generator.prefill(continuing: [], lastLogits: logits)
        XCTAssertEqual(try generator.step()?.id, Int(UInt8(ascii: "c")), "sampled from the logits after position 2")
        XCTAssertEqual(try generator.step()?.id, Int(UInt8(ascii: "d")))
        XCTAssertEqual(model.calls.batchSizes, [3, 1], "no forward pass for the empty prompt")
    }

    func testErrors() throws {
        let model = scripted("abc", contextLength: 10)
        let state = model.makeState()
        _ = try model.forward(Array(repeating: 1, count: 8), state: state, allLogits: false)
        let generator = try Generator(model: model, tokenizer: codec, options: SamplingOptions(), continuing: state)
        XCTAssertThrowsError(try generator.prefill(continuing: [])) { XCTAssertEqual($0 as? GenerationError, .emptyContinuation) }
        XCTAssertThrowsError(try generator.prefill(continuing: [1, 2, 3])) {
            XCTAssertEqual($0 as? GenerationError, .promptTooLong(tokens: 11, contextLength: 10))
        }
        XCTAssertThrowsError(try generator.prefill(continuing: [], lastLogits: [0, 1])) {
            XCTAssertEqual($0 as? GenerationError, .logitsSizeMismatch(expected: 258, found: 2))
        }
        XCTAssertThrowsError(try generator.step()) { XCTAssertEqual($0 as? GenerationError, .notPrefilled) }
        XCTAssertEqual(state.count, 8, "failed prefills leave the state alone")
        try generator.prefill([1])
        XCTAssertEqual(state.count, 1, "prefill(_:) still starts over")
    }
}
