import XCTest
import MnemoModels
import MnemoTensor
import MnemoTokenizers
@testable import MnemoEngine

/// `SegmentStream` on stories260K: per-segment NLL against the plain model's scores, memory counters,
/// text and token input, generation that continues the memory, the async events and cancellation.
final class SegmentStreamTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models/stories260K").standardized

    static func load() throws -> (LanguageModel, Tokenizer) {
        (try LanguageModel.load(from: folder.appendingPathComponent("stories260K.bin")),
         try Tokenizer.load(from: folder.appendingPathComponent("tok512.bin")))
    }

    /// About 1,100 characters of TinyStories-like text (about 300 tok512 tokens).
    static let story = """
        Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
        One day, she saw a big red ball under a tree. She ran to the ball and picked it up.
        "Can I play with you?" asked a small dog. Lily smiled and said, "Yes, let's play together!"
        They played all day. The sun was warm and the sky was blue. Lily threw the ball and the dog ran fast.
        When it was time to go home, Lily was sad. The dog gave her a big hug.
        Lily went home and told her mom about the dog. Her mom said, "You can play with him again tomorrow."
        The next day, Lily went back to the park. The dog was there, waiting for her under the tree.
        They were best friends forever, and they played in the park every day after that.
        """

    /// XL memory at least the document's length equals one full-attention pass: each segment's NLL
    /// (its first token predicted by the previous segment's last logits) equals the mean of the
    /// plain model's log-probabilities over the same tokens.
    func testSegmentNLLEqualsFullAttentionScores() throws {
        let (model, tokenizer) = try Self.load()
        let tokens = tokenizer.encode(Self.story, addSpecialTokens: true)
        XCTAssertGreaterThan(tokens.count, 200)
        XCTAssertLessThanOrEqual(tokens.count, 448)
        let full = try Scorer(model: model).score(tokens: tokens)
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 64, xl: .init(memoryLength: 448)))
        let stream = try SegmentStream(model: reader, tokenizer: tokenizer)
        let reports = try stream.feed(tokens: tokens) + stream.finish()
        XCTAssertEqual(reports.count, (tokens.count + 63) / 64)
        XCTAssertEqual(reports.flatMap(\.tokens), tokens)
        for (i, report) in reports.enumerated() {
            XCTAssertEqual(report.index, i)
            XCTAssertEqual(report.tokenRange, i * 64 ..< min(tokens.count, (i + 1) * 64))
            XCTAssertEqual(report.scoredTokens, report.tokens.count - (i == 0 ? 1 : 0))
            let expected = report.tokenRange.compactMap { full.logprobs[$0] }
            XCTAssertEqual(expected.count, report.scoredTokens)
            XCTAssertEqual(try XCTUnwrap(report.nll), -expected.reduce(0, +) / Double(expected.count), accuracy: 1e-4, "segment \(i)")
            XCTAssertEqual(report.windowRows, report.tokenRange.upperBound, "nothing evicted")
            XCTAssertEqual(report.knnEntries, 0)
            XCTAssertGreaterThan(report.seconds, 0)
            XCTAssertGreaterThanOrEqual(report.seconds, report.forwardSeconds)
        }
        XCTAssertEqual(stream.summary.tokens, tokens.count)
        XCTAssertEqual(stream.summary.scoredTokens, tokens.count - 1)
        XCTAssertEqual(try XCTUnwrap(stream.summary.nll), full.nll, accuracy: 1e-4)
    }

    /// Window, eviction and kNN counters follow the plan: XL 32 + segment 32, kNN on layer 1.
    func testMemoryCountersFollowThePlan() throws {
        let (model, tokenizer) = try Self.load()
        let tokens = tokenizer.encode(Self.story, addSpecialTokens: true)
        var plan = MemoryPlan(segmentLength: 32, xl: .init(memoryLength: 32))
        plan.knn = .init(layers: [1], topK: 16)
        let stream = try SegmentStream(model: MemoryModel(model: model, plan: plan), tokenizer: tokenizer)
        let reports = try stream.feed(tokens: tokens) + stream.finish()
        let c = model.config
        for (i, report) in reports.enumerated() {
            let evicted = 32 * max(0, i - 1)
            XCTAssertEqual(report.evictedTokens, evicted, "segment \(i)")
            XCTAssertEqual(report.windowRows, min(32, i * 32) + report.tokens.count, "segment \(i)")
            XCTAssertEqual(report.knnEntries, evicted * c.kvHeadCount, "one entry per evicted token and KV head")
            XCTAssertEqual(report.retrievalEntries, 0)
            XCTAssertEqual(report.retrieved, report.tokens.count * c.headCount * min(16, evicted), "segment \(i)")
        }
        let memory = try XCTUnwrap(stream.memoryState)
        XCTAssertEqual(memory.count, tokens.count)
        XCTAssertEqual(memory.storedEntries.knn, reports.last?.knnEntries)
    }

    /// Text in pieces, the same text at once, and its token ids give the same segments.
    func testTextPiecesEqualTokenInput() throws {
        let (model, tokenizer) = try Self.load()
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 40, xl: .init(memoryLength: 40)))
        let byTokens = try SegmentStream(model: reader, tokenizer: tokenizer)
        let expected = try byTokens.feed(tokens: tokenizer.encode(Self.story, addSpecialTokens: true)) + byTokens.finish()
        let byText = try SegmentStream(model: reader, tokenizer: tokenizer)
        var reports: [SegmentReport] = []
        for piece in IncrementalEncoderTests.pieces(Self.story, maxPiece: 37, seed: 11) { reports += try byText.feed(text: piece) }
        reports += try byText.finish()
        XCTAssertEqual(reports.map(\.tokens), expected.map(\.tokens))
        for (a, b) in zip(reports, expected) { XCTAssertEqual(try XCTUnwrap(a.nll), try XCTUnwrap(b.nll), accuracy: 1e-9) }
        XCTAssertGreaterThan(byText.summary.tokenizeSeconds, 0)
    }

    /// Generating after the stream continues its memory: with XL memory covering document and
    /// output, greedy decoding equals a plain generator prefilled with the whole document.
    func testGenerationContinuesTheMemory() throws {
        let (model, tokenizer) = try Self.load()
        let document = tokenizer.encode(String(Self.story.prefix(500)), addSpecialTokens: true)
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 32, xl: .init(memoryLength: 448)))
        var options = SamplingOptions(temperature: 0, maxTokens: 24)
        options.stopAtEndOfSequence = false
        let prompt = tokenizer.encode(" The dog", addSpecialTokens: false)
        for promptTokens in [[], prompt] {
            let stream = try SegmentStream(model: reader, tokenizer: tokenizer)
            _ = try stream.feed(tokens: document)
            XCTAssertThrowsError(try stream.makeGenerator(options: options)) {
                guard case .notReadyToGenerate = $0 as? SegmentStreamError else { return XCTFail("\($0)") }
            }
            _ = try stream.finish()
            let generator = try stream.makeGenerator(promptTokens: promptTokens, options: options)
            var ids: [Int] = []
            while let token = try generator.step() { ids.append(token.id) }
            XCTAssertEqual(stream.state.count, document.count + promptTokens.count + ids.count - 1, "state kept, not reset")

            let plain = try Generator(model: model, tokenizer: tokenizer, options: options)
            try plain.prefill(document + promptTokens)
            var expected: [Int] = []
            while let token = try plain.step() { expected.append(token.id) }
            XCTAssertEqual(ids, expected, "prompt \(promptTokens)")
            if promptTokens.isEmpty {
                XCTAssertThrowsError(try stream.makeGenerator(options: options), "the state moved on") {
                    guard case .notReadyToGenerate = $0 as? SegmentStreamError else { return XCTFail("\($0)") }
                }
            }
        }
    }

    /// `finish()` ends the document in the memory state: Unlimiformer's chunked reading stops, so
    /// generation retrieves over the whole document.
    func testFinishEndsChunkedReading() throws {
        let (model, tokenizer) = try Self.load()
        var plan = MemoryPlan(segmentLength: 32, xl: .init(memoryLength: 32))
        plan.retrieval = .init(layerBegin: 3, topK: 8, chunkOverlap: 8, encoding: .overlappingChunks)
        let stream = try SegmentStream(model: MemoryModel(model: model, plan: plan), tokenizer: tokenizer)
        let reports = try stream.feed(text: Self.story)
        let memory = try XCTUnwrap(stream.memoryState)
        XCTAssertTrue(memory.readingInChunks)
        XCTAssertGreaterThan(reports.last?.retrievalEntries ?? 0, 0)
        _ = try stream.finish()
        XCTAssertFalse(memory.readingInChunks)
        let generator = try stream.makeGenerator(prompt: " Lily", options: SamplingOptions(temperature: 0, maxTokens: 4))
        XCTAssertNotNil(try generator.step())
        XCTAssertGreaterThan(memory.lastRetrieved, 0, "the prompt retrieved from the datastores")
    }

    /// The example of Docs/Memory.md ("Streaming a document"), as written there.
    func testDocumentationExample() throws {
        let (model, tokenizer) = try Self.load()
        let pieces = IncrementalEncoderTests.pieces(String(repeating: Self.story + "\n", count: 2), maxPiece: 300, seed: 1)
        var printed: [Int] = []
        func print(_ index: Int, _ nll: Double, _ entries: Int) { printed.append(index) }
        func print(_ index: Int) { printed.append(index) }
        func print(_ text: String, terminator: String) { printed.append(-1) }

        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 256, xl: .init(memoryLength: 256)))
        let stream = try SegmentStream(model: reader, tokenizer: tokenizer)   // segment length from the plan
        for piece in pieces {                                                   // text as it arrives
            for report in try stream.feed(text: piece) { print(report.index, report.nll ?? .nan, report.knnEntries) }
        }
        for report in try stream.finish() { print(report.index) }              // the last, shorter segment
        let generator = try stream.makeGenerator(prompt: "\nThe end:", options: SamplingOptions(temperature: 0, maxTokens: 32))
        while let token = try generator.step() { print(token.text, terminator: "") }

        XCTAssertEqual(Array(printed.prefix(stream.summary.segments)), Array(0 ..< stream.summary.segments))
        XCTAssertGreaterThan(printed.count, stream.summary.segments, "generated tokens")
    }

    /// A plain model reads with full attention until its context is full.
    func testPlainModelStopsAtItsContext() throws {
        let (model, tokenizer) = try Self.load()
        let stream = try SegmentStream(model: model, tokenizer: tokenizer, segmentLength: 200)
        let tokens = Array(repeating: tokenizer.encode(Self.story, addSpecialTokens: true), count: 2).flatMap { $0 }
        XCTAssertThrowsError(try stream.feed(tokens: tokens)) {
            XCTAssertEqual($0 as? SegmentStreamError, .contextFull(tokens: 400, segmentTokens: 200, contextLength: 512))
        }
        XCTAssertEqual(stream.summary.segments, 2)
        XCTAssertEqual(stream.state.count, 400)
    }

    func testBadUseThrowsClearErrors() throws {
        let (model, tokenizer) = try Self.load()
        XCTAssertThrowsError(try SegmentStream(model: model, tokenizer: tokenizer)) {
            XCTAssertEqual("\($0)", "segment length (none): required for a model without a memory plan")
        }
        XCTAssertThrowsError(try SegmentStream(model: model, tokenizer: tokenizer, segmentLength: 0)) {
            XCTAssertEqual($0 as? SegmentStreamError, .invalidSegmentLength(value: 0, expected: "must be at least 1"))
        }
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 16))
        XCTAssertThrowsError(try SegmentStream(model: reader, tokenizer: tokenizer, segmentLength: 8)) {
            XCTAssertEqual($0 as? SegmentStreamError, .segmentLengthMismatch(value: 8, planSegmentLength: 16))
        }
        let stream = try SegmentStream(model: reader, tokenizer: tokenizer)
        XCTAssertThrowsError(try stream.feed(tokens: [1, 600])) {
            XCTAssertEqual($0 as? GenerationError, .tokenOutOfRange(id: 600, vocabularySize: 512))
        }
        _ = try stream.feed(text: "Once upon a time")
        XCTAssertThrowsError(try stream.feed(tokens: [1])) {
            XCTAssertEqual($0 as? SegmentStreamError, .mixedInput(expected: "text", found: "token ids"))
        }
        _ = try stream.finish()
        XCTAssertThrowsError(try stream.feed(text: "more")) { XCTAssertEqual($0 as? SegmentStreamError, .finished) }
        XCTAssertThrowsError(try stream.finish()) { XCTAssertEqual($0 as? SegmentStreamError, .finished) }
        let empty = try SegmentStream(model: reader, tokenizer: tokenizer, addSpecialTokens: false)
        XCTAssertEqual(try empty.finish(), [])
        XCTAssertThrowsError(try empty.makeGenerator(options: SamplingOptions())) {
            XCTAssertEqual($0 as? SegmentStreamError, .notReadyToGenerate(reason: "no token has been read"))
        }
    }

    // MARK: - Async events

    /// The async events carry the same reports as the synchronous calls, end with `.finished`, and
    /// hand over the stream, which generates from the memory it built.
    func testEventsMatchSynchronousReadingAndHandOverTheStream() async throws {
        let (model, tokenizer) = try Self.load()
        var plan = MemoryPlan(segmentLength: 48, xl: .init(memoryLength: 48))
        plan.knn = .init(layers: [2], topK: 8)
        let reader = try MemoryModel(model: model, plan: plan)
        let sync = try SegmentStream(model: reader, tokenizer: tokenizer)
        let expected = try sync.feed(text: Self.story) + sync.finish()
        let pieces = AsyncStream<String> { continuation in
            for piece in IncrementalEncoderTests.pieces(Self.story, maxPiece: 90, seed: 4) { continuation.yield(piece) }
            continuation.finish()
        }
        var reports: [SegmentReport] = []
        var handed: SegmentStream?
        for try await event in SegmentStream.events(model: reader, tokenizer: tokenizer, pieces: pieces) {
            switch event {
            case .segment(let report): reports.append(report)
            case .finished(let summary, let stream):
                XCTAssertEqual(summary.tokens, sync.summary.tokens)
                XCTAssertEqual(try XCTUnwrap(summary.nll), try XCTUnwrap(sync.summary.nll), accuracy: 1e-9)
                handed = stream
            }
        }
        XCTAssertEqual(reports.map(\.tokens), expected.map(\.tokens))
        XCTAssertEqual(reports.map(\.knnEntries), expected.map(\.knnEntries))
        XCTAssertEqual(reports.map(\.retrieved), expected.map(\.retrieved))
        let stream = try XCTUnwrap(handed)
        let options = SamplingOptions(temperature: 0, maxTokens: 8)
        let a = try stream.makeGenerator(options: options), b = try sync.makeGenerator(options: options)
        for _ in 0 ..< 8 { XCTAssertEqual(try a.step()?.id, try b.step()?.id) }

        var fromText: [SegmentReport] = []
        for try await event in SegmentStream.events(model: reader, tokenizer: tokenizer, text: Self.story, pieceBytes: 100) {
            if case .segment(let report) = event { fromText.append(report) }
        }
        XCTAssertEqual(fromText.map(\.tokens), expected.map(\.tokens))
    }

    /// Errors reach the consumer through the stream.
    func testEventsThrowTheFirstError() async throws {
        let (model, tokenizer) = try Self.load()
        var caught: Error?
        do {
            for try await _ in SegmentStream.events(model: model, tokenizer: tokenizer, tokens: [1, 2, 3]) {}
        } catch { caught = error }
        XCTAssertEqual(caught as? SegmentStreamError, .invalidSegmentLength(value: nil, expected: "required for a model without a memory plan"))
    }

    /// When the consumer stops listening the producer stops before the next segment.
    func testConsumerStoppingCancelsTheProducer() async throws {
        let model = FakeModel(script: Array(repeating: 1, count: 4_000), vocabularySize: 4, eos: 3, contextLength: 10_000, delay: 0.01)
        var seen = 0
        for try await event in SegmentStream.events(model: model, tokenizer: ByteCodec(), segmentLength: 10,
                                                    tokens: Array(repeating: 1, count: 4_000)) {
            if case .segment = event { seen += 1 }
            if seen == 3 { break }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        let calls = model.calls.count
        XCTAssertLessThan(calls, 20, "400 segments were available; the producer stopped after \(calls)")
        try await Task.sleep(nanoseconds: 100_000_000)
        XCTAssertEqual(model.calls.count, calls, "no forward pass after stopping")
    }

    /// Cancelling the consuming task ends the stream.
    func testCancellingTheConsumerEndsTheStream() async throws {
        let model = FakeModel(script: Array(repeating: 1, count: 4_000), vocabularySize: 4, eos: 3, contextLength: 10_000, delay: 0.01)
        let consumer = Task {
            var seen = 0
            for try await event in SegmentStream.events(model: model, tokenizer: ByteCodec(), segmentLength: 10,
                                                        tokens: Array(repeating: 1, count: 4_000)) {
                if case .segment = event { seen += 1 }
            }
            return seen
        }
        try await Task.sleep(nanoseconds: 100_000_000)
        consumer.cancel()
        let seen = try await consumer.value
        XCTAssertLessThan(seen, 400)
        try await Task.sleep(nanoseconds: 100_000_000)
        let calls = model.calls.count
        try await Task.sleep(nanoseconds: 100_000_000)
        XCTAssertEqual(model.calls.count, calls, "no forward pass after cancelling")
    }
}
