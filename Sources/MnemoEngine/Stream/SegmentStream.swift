import Foundation

/// Reads a document segment by segment through a model with memory (`MemoryModel`), reporting
/// each segment's NLL, memory sizes and timings, then generates with what it has read.
///
/// Input arrives incrementally, as text pieces (turned into the ids the whole text encodes to, see
/// `IncrementalEncoder`) or as token ids. Every `segmentLength` tokens one segment is read: one
/// forward pass through `MemoryState`, so XL windows, kNN stores, retrieval datastores and RMT memory
/// evolve exactly as they do under `Scorer`. `finish()` reads the last, partial segment.
/// ```swift
/// let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 256, xl: .init(memoryLength: 256)))
/// let stream = try SegmentStream(model: reader, tokenizer: tokenizer)
/// for piece in pieces { for report in try stream.feed(text: piece) { print(report.index, report.nll ?? 0) } }
/// _ = try stream.finish()
/// let generator = try stream.makeGenerator(prompt: "\nThe end of the story:", options: options)
/// while let token = try generator.step() { print(token.text, terminator: "") }
/// ```
/// A plain `LanguageModel` works too (give `segmentLength`): its KV cache grows until the context
/// is full (`SegmentStreamError.contextFull`), which is the full-attention baseline.
///
/// A stream is a non-`Sendable` object owned by one task; `events(...)` runs one in a task of its own.
public final class SegmentStream {
    /// The model reading (a `MemoryModel`, or any `LogitsModel` for full attention).
    public let model: any LogitsModel
    /// The tokenizer for text input and generation.
    public let tokenizer: any TokenCodec
    /// Tokens per segment.
    public let segmentLength: Int
    /// Everything read so far: a `MemoryState` for a `MemoryModel`.
    public let state: any ModelState
    /// Totals so far.
    public private(set) var summary = SegmentSummary()
    /// True after `finish()` (or `endInput()`).
    public private(set) var isFinished = false
    private var documentEnded = false

    private var encoder: IncrementalEncoder
    private enum Input { case none, text, tokens }
    private var input = Input.none
    /// Tokens received and not read yet (fewer than `segmentLength` between calls).
    private var buffer: [Int] = []
    /// Logits after the last token read (empty before the first segment), and `state.count` then.
    private var lastLogits: [Float] = []
    private var lastLogitsPosition = 0

    /// Creates a stream with empty memory.
    ///
    /// - Parameters:
    ///   - model: a `MemoryModel` (segment length from its plan), or a plain model with `segmentLength`.
    ///   - tokenizer: turns text into ids and generated ids into text.
    ///   - segmentLength: tokens per segment; nil = the memory plan's `segmentLength`.
    ///   - addSpecialTokens: text input starts with the tokenizer's special tokens (BOS), as `encode(_:addSpecialTokens: true)`.
    /// - Throws: `SegmentStreamError.invalidSegmentLength` or `.segmentLengthMismatch`.
    public init(model: any LogitsModel, tokenizer: any TokenCodec, segmentLength: Int? = nil, addSpecialTokens: Bool = true) throws {
        let planLength = (model as? MemoryModel)?.plan.segmentLength
        guard let length = segmentLength ?? planLength else {
            throw SegmentStreamError.invalidSegmentLength(value: nil, expected: "required for a model without a memory plan")
        }
        guard length >= 1 else { throw SegmentStreamError.invalidSegmentLength(value: length, expected: "must be at least 1") }
        if let planLength, length != planLength {
            throw SegmentStreamError.segmentLengthMismatch(value: length, planSegmentLength: planLength)
        }
        self.model = model
        self.tokenizer = tokenizer
        self.segmentLength = length
        self.state = model.makeState()
        self.encoder = IncrementalEncoder(tokenizer: tokenizer, addSpecialTokens: addSpecialTokens)
    }

    /// The memory state, when the model is a `MemoryModel`.
    public var memoryState: MemoryState? { state as? MemoryState }

    /// Tokens received but not read yet (they wait for a full segment or `finish()`).
    public var bufferedTokens: Int { buffer.count }

    // MARK: - Input

    /// Adds text; reads every segment it completes.
    /// - Returns: the reports of the segments read (possibly none).
    /// - Throws: `SegmentStreamError` (after `finish()`, after token input, context full), the model's errors.
    /// - Complexity: one forward pass per completed segment; see `IncrementalEncoder` for tokenization.
    public func feed(text: String) throws -> [SegmentReport] {
        try append(text: text)
        return try readAvailableSegments()
    }

    /// Adds token ids; reads every segment they complete.
    /// - Throws: as `feed(text:)`, and `GenerationError.tokenOutOfRange` for an id outside the vocabulary.
    public func feed(tokens: [Int]) throws -> [SegmentReport] {
        try append(tokens: tokens)
        return try readAvailableSegments()
    }

    /// Ends the document: tokenizes the buffered text and reads the remaining segments, the last one
    /// possibly shorter.
    /// - Returns: the reports of the segments read.
    /// - Throws: `SegmentStreamError.finished` when called twice, the model's errors.
    public func finish() throws -> [SegmentReport] {
        try endInput()
        return try readAvailableSegments()
    }

    // MARK: - Step by step

    /// Adds text without reading anything (`readSegment()` reads); for callers that report or cancel
    /// between segments. `feed(text:)` is `append(text:)` followed by `readSegment()` until nil.
    /// - Throws: `SegmentStreamError.finished`, `.mixedInput`, `.tokenizationDiverged`.
    public func append(text: String) throws {
        guard !isFinished else { throw SegmentStreamError.finished }
        guard input != .tokens else { throw SegmentStreamError.mixedInput(expected: "token ids", found: "text") }
        input = .text
        let start = ContinuousClock.now
        buffer += try encoder.append(text)
        summary.tokenizeSeconds += Generator.seconds(since: start)
    }

    /// Adds token ids without reading anything.
    /// - Throws: `SegmentStreamError.finished`, `.mixedInput`, `GenerationError.tokenOutOfRange`.
    public func append(tokens: [Int]) throws {
        guard !isFinished else { throw SegmentStreamError.finished }
        guard input != .text else { throw SegmentStreamError.mixedInput(expected: "text", found: "token ids") }
        let vocabularySize = model.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw GenerationError.tokenOutOfRange(id: bad, vocabularySize: vocabularySize)
        }
        input = .tokens
        buffer += tokens
    }

    /// Ends the input: tokenizes the buffered text; nothing is read (`readSegment()` reads the rest).
    /// - Throws: `SegmentStreamError.finished` when called twice, `.tokenizationDiverged`.
    public func endInput() throws {
        guard !isFinished else { throw SegmentStreamError.finished }
        if input != .tokens {
            let start = ContinuousClock.now
            buffer += try encoder.finish()
            summary.tokenizeSeconds += Generator.seconds(since: start)
        }
        isFinished = true
        endDocumentIfRead()
    }

    /// Reads the next segment: a full one, or after `endInput()` what is left as the last, shorter one.
    /// - Returns: its report, or nil when fewer than `segmentLength` tokens wait (or none after `endInput()`).
    /// - Throws: `SegmentStreamError.contextFull` (a plain model), the model's errors.
    public func readSegment() throws -> SegmentReport? {
        let count = buffer.count >= segmentLength ? segmentLength : (isFinished ? buffer.count : 0)
        guard count > 0 else { return nil }
        let report = try readSegment(count: count)
        endDocumentIfRead()
        return report
    }

    /// Once everything is read: `MemoryState.endDocument()` (Unlimiformer's chunked reading ends, so
    /// what follows, a prompt or generation, retrieves over the whole document).
    private func endDocumentIfRead() {
        guard isFinished, buffer.isEmpty, !documentEnded else { return }
        documentEnded = true
        memoryState?.endDocument()
    }

    private func readAvailableSegments() throws -> [SegmentReport] {
        var reports: [SegmentReport] = []
        while let report = try readSegment() { reports.append(report) }
        return reports
    }

    // MARK: - Reading

    /// Reads the first `count` buffered tokens as one segment.
    /// - Complexity: one forward pass over `count` tokens with all logits, plus O(count × vocabulary).
    private func readSegment(count: Int) throws -> SegmentReport {
        let tokens = Array(buffer[..<count])
        let first = state.count
        guard count <= model.contextLength - first else {
            throw SegmentStreamError.contextFull(tokens: first, segmentTokens: count, contextLength: model.contextLength)
        }
        let start = ContinuousClock.now
        let logits = try model.forward(tokens, state: state, allLogits: true)
        let forwardSeconds = Generator.seconds(since: start)
        let V = model.vocabularySize
        guard logits.count == count * V else {
            throw GenerationError.logitsSizeMismatch(expected: count * V, found: logits.count)
        }
        buffer.removeFirst(count)
        var nllSum = 0.0
        var scored = 0
        if !lastLogits.isEmpty {
            nllSum -= LogSoftmax.logProbability(of: tokens[0], logits: lastLogits, count: V)
            scored += 1
        }
        for t in 1 ..< count {
            nllSum -= LogSoftmax.logProbability(of: tokens[t], logits: logits, offset: (t - 1) * V, count: V)
            scored += 1
        }
        lastLogits = Array(logits[(count - 1) * V ..< count * V])
        lastLogitsPosition = state.count
        let memory = memoryState
        let stored = memory?.storedEntries ?? (knn: 0, retrieval: 0)
        let report = SegmentReport(
            index: summary.segments, tokenRange: first ..< first + count, tokens: tokens,
            nll: scored > 0 ? nllSum / Double(scored) : nil, scoredTokens: scored, nllSum: nllSum,
            windowRows: memory?.cache.count ?? state.count, knnEntries: stored.knn, retrievalEntries: stored.retrieval,
            evictedTokens: memory?.evictedCount ?? 0, retrieved: memory?.lastRetrieved ?? 0,
            forwardSeconds: forwardSeconds, seconds: Generator.seconds(since: start))
        summary.add(report)
        return report
    }

    // MARK: - Generating with memory

    /// A generator that continues after the document, with its memory (the state is not reset).
    ///
    /// The prompt is encoded as a continuation (no special tokens) and run after the document's last
    /// token; an empty prompt samples first from the logits after the document's last token.
    /// Generated tokens are read into the same state, so they extend the memory too (every token but
    /// the last sampled one, which no forward pass has consumed yet).
    /// - Throws: `SegmentStreamError.notReadyToGenerate` before `finish()` or when nothing was read;
    ///   `GenerationError` for bad options or a prompt that does not fit a plain model's context.
    public func makeGenerator(prompt: String = "", options: SamplingOptions) throws -> Generator {
        try makeGenerator(promptTokens: prompt.isEmpty ? [] : tokenizer.encode(prompt, addSpecialTokens: false), options: options)
    }

    /// Like `makeGenerator(prompt:options:)` with prompt token ids.
    public func makeGenerator(promptTokens: [Int], options: SamplingOptions) throws -> Generator {
        guard isFinished, buffer.isEmpty else {
            throw SegmentStreamError.notReadyToGenerate(reason: "call finish() first to read the buffered tokens")
        }
        guard !lastLogits.isEmpty else { throw SegmentStreamError.notReadyToGenerate(reason: "no token has been read") }
        guard !promptTokens.isEmpty || state.count == lastLogitsPosition else {
            throw SegmentStreamError.notReadyToGenerate(reason: "an earlier generator moved the state past the document's end; give a prompt")
        }
        let generator = try Generator(model: model, tokenizer: tokenizer, options: options, continuing: state)
        try generator.prefill(continuing: promptTokens, lastLogits: lastLogits)
        return generator
    }
}
