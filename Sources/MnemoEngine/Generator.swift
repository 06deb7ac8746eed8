import Foundation

/// Autoregressive generation over a `LogitsModel`: a synchronous step core plus an async stream.
///
/// A generator is a non-`Sendable` object owned by one task. Typical use:
/// ```swift
/// let generator = try Generator(model: model, tokenizer: tokenizer, options: options)
/// try generator.prefill(tokenizer.encode("Once upon", addSpecialTokens: true))
/// while let token = try generator.step() { print(token.text, terminator: "") }
/// print(generator.finish())                 // text still buffered, usually ""
/// let stats = generator.stats               // stopReason, tokens/s, ...
/// ```
/// The first `step()` samples from the prompt's logits; each later step first feeds the
/// previous token, so `n` generated tokens cost one prefill and `n - 1` single-token forwards.
public final class Generator {
    /// The model generating.
    public let model: any LogitsModel
    /// The tokenizer turning ids into text.
    public let tokenizer: any TokenCodec
    /// The options this generator was created with.
    public let options: SamplingOptions
    /// Ids that end generation: the tokenizer's EOS ids and the model configuration's.
    public let endOfSequenceTokenIDs: Set<Int>

    /// Every token in context: the prompt followed by the generated tokens.
    public private(set) var tokens: [Int] = []
    /// Counters and timings so far; `stats.stopReason` is set once generation has ended.
    public private(set) var stats = GenerationStats()

    private let state: any ModelState
    private var sampler: Sampler
    private var textStream: any TokenTextStream
    private var logits: [Float] = []
    private var pendingToken: Int?
    private var prefilled = false

    /// Creates a generator with an empty context.
    /// - Throws: `GenerationError.invalidOption` when `options` is out of range.
    public convenience init(model: any LogitsModel, tokenizer: any TokenCodec, options: SamplingOptions) throws {
        try self.init(model: model, tokenizer: tokenizer, options: options, state: model.makeState())
    }

    /// Creates a generator over `state` (a state of `model`); see `Generator+Continuation.swift`.
    init(model: any LogitsModel, tokenizer: any TokenCodec, options: SamplingOptions, state: any ModelState) throws {
        try options.validate()
        self.model = model
        self.tokenizer = tokenizer
        self.options = options
        self.endOfSequenceTokenIDs = Set(tokenizer.eosTokenIDs).union(model.endOfSequenceTokenIDs)
        self.state = state
        self.sampler = Sampler(options: options)
        self.textStream = tokenizer.makeTextStream()
    }

    /// The tokens to start from for `prompt`: its encoding with special tokens, or just BOS when
    /// the prompt is empty.
    /// - Throws: `GenerationError.emptyPrompt` when that is still nothing.
    public func promptTokens(for prompt: String) throws -> [Int] {
        var ids = prompt.isEmpty ? [] : tokenizer.encode(prompt, addSpecialTokens: true)
        if ids.isEmpty, let bos = tokenizer.bosTokenID { ids = [bos] }
        guard !ids.isEmpty else { throw GenerationError.emptyPrompt }
        return ids
    }

    /// Starts a new generation: clears the context and runs the prompt in one batched forward pass.
    ///
    /// - Parameter promptTokens: at least one token id (e.g. BOS), at most the model's context length.
    /// - Throws: `GenerationError` for an empty or too long prompt or an id outside the
    ///   vocabulary, or the model's error.
    public func prefill(_ promptTokens: [Int]) throws {
        guard !promptTokens.isEmpty else { throw GenerationError.emptyPrompt }
        try start(promptTokens, continuing: false, lastLogits: nil)
    }

    /// Runs `promptTokens` after what `state` holds (`continuing`) or on a reset state; an empty
    /// prompt takes `lastLogits` (the logits after the state's last token) instead of a forward pass.
    func start(_ promptTokens: [Int], continuing: Bool, lastLogits: [Float]?) throws {
        let vocabularySize = model.vocabularySize
        let before = continuing ? state.count : 0
        guard promptTokens.count <= model.contextLength - before else {
            throw GenerationError.promptTooLong(tokens: before + promptTokens.count, contextLength: model.contextLength)
        }
        if let bad = promptTokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw GenerationError.tokenOutOfRange(id: bad, vocabularySize: vocabularySize)
        }
        if promptTokens.isEmpty, let lastLogits, lastLogits.count != vocabularySize {
            throw GenerationError.logitsSizeMismatch(expected: vocabularySize, found: lastLogits.count)
        }
        if !continuing { state.reset() }
        tokens = promptTokens
        stats = GenerationStats(promptTokens: promptTokens.count)
        textStream = tokenizer.makeTextStream()
        pendingToken = nil
        prefilled = false
        let start = ContinuousClock.now
        if promptTokens.isEmpty, let lastLogits {
            logits = lastLogits
        } else {
            logits = try model.forward(promptTokens, state: state, allLogits: false)
        }
        stats.prefillSeconds = Self.seconds(since: start)
        guard logits.count == vocabularySize else {
            throw GenerationError.logitsSizeMismatch(expected: vocabularySize, found: logits.count)
        }
        prefilled = true
    }

    /// Generates one token.
    ///
    /// - Returns: the token, or nil once generation has ended (`stats.stopReason` says why:
    ///   EOS sampled, `maxTokens` reached or context full). Further calls keep returning nil.
    /// - Throws: `GenerationError.notPrefilled` before `prefill(_:)`, or the model's error.
    /// - Complexity: one single-token forward pass plus O(V log V) sampling (O(V) when greedy).
    public func step() throws -> GeneratedToken? {
        guard prefilled else { throw GenerationError.notPrefilled }
        guard stats.stopReason == nil else { return nil }
        guard stats.generatedTokens < options.maxTokens else {
            stats.stopReason = .maxTokens
            return nil
        }
        let start = ContinuousClock.now
        defer { stats.decodeSeconds += Self.seconds(since: start) }
        if let pending = pendingToken {
            guard state.count < model.contextLength else {
                stats.stopReason = .contextFull
                return nil
            }
            logits = try model.forward([pending], state: state, allLogits: false)
            pendingToken = nil
            guard logits.count == model.vocabularySize else {
                throw GenerationError.logitsSizeMismatch(expected: model.vocabularySize, found: logits.count)
            }
        }
        let id = sampler.sample(logits, history: options.repetitionPenalty == 1 ? [] : tokens)
        if options.stopAtEndOfSequence, endOfSequenceTokenIDs.contains(id) {
            stats.stopReason = .endOfSequence
            return nil
        }
        let logprob = LogSoftmax.logProbability(of: id, logits: logits, count: logits.count)
        tokens.append(id)
        pendingToken = id
        stats.generatedTokens += 1
        return GeneratedToken(id: id, text: textStream.append(id), logprob: logprob)
    }

    /// Ends the generation early (e.g. on cancellation) and returns the text still buffered.
    ///
    /// - Parameter reason: recorded as the stop reason unless one is already set.
    public func finish(reason: StopReason = .cancelled) -> String {
        if stats.stopReason == nil { stats.stopReason = reason }
        return textStream.flush()
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
