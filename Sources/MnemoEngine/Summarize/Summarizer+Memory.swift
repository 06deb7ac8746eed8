import Foundation
import MnemoModels
import MnemoTokenizers

/// What the memory strategies kept while reading.
public struct MemoryReadStats: Sendable, Equatable {
    /// The plan the document was read with.
    public var plan: MemoryPlan
    /// Tokens read (the whole prompt: template, document and request).
    public var tokensRead: Int
    /// Tokens that left the XL window for the stores.
    public var evictedTokens: Int
    /// Entries in the kNN stores (all layers and KV heads) and in the retrieval datastores (all layers).
    public var knnEntries: Int
    public var retrievalEntries: Int
    /// Wall time of reading (before generation); with a reused snapshot, the time to load it and read the request.
    public var readSeconds: Double
    /// How the document's memory was obtained: `"read"` (no `--memory`), `"saved"` (read, then saved to
    /// `memoryDirectory`) or `"loaded"` (loaded from `memoryDirectory`; only the request was read).
    public var source: String = "read"
    /// Tokens of the document part of the prompt (what a snapshot holds); the rest is the request.
    public var documentPartTokens: Int = 0
}

extension Summarizer {
    /// Entries per KV head the default `stream` plan keeps (oldest first out, 16 rotating shards), so
    /// reading costs the same per segment at the end of a novel as at its start (`Docs/Benchmarks.md`,
    /// "Streaming a whole novel").
    public static let streamKNNCapacity = 16_384

    /// The plan `strategy` reads a document with when `SummaryOptions.memoryPlan` is nil.
    /// - `retrieval`: Unlimiformer's own reading (`overlappingChunks`): the document is encoded in
    ///   independent chunks of half the context (at most 512 tokens), each re-encoding the previous
    ///   chunk's last quarter as context, so reading costs a plain forward pass and no search; every
    ///   token's hidden state is stored once per layer from the middle layer up (exact `Flat` search,
    ///   top 64, no value copy). Only the request and the summary retrieve, over the whole document,
    ///   with an XL window of half the context.
    /// - `stream`: segments of a quarter of the context (at most 512 tokens), an XL window of half the
    ///   context, and Memorizing-Transformers kNN memory in one layer three quarters up (top 32, joint
    ///   softmax, the training-free fusion, since generic checkpoints have no trained gate).
    /// Window plus segment stay within the trained context.
    /// - Returns: nil for `hierarchical`.
    public static func defaultMemoryPlan(for strategy: SummaryStrategy, config: ModelConfig) -> MemoryPlan? {
        let segment = max(16, min(512, config.contextLength / 4))
        let window = max(0, min(config.contextLength / 2, config.contextLength - segment))
        switch strategy {
        case .hierarchical:
            return nil
        case .retrieval:
            let chunk = max(16, min(512, config.contextLength / 2))
            let chunkWindow = max(0, min(config.contextLength / 2, config.contextLength - chunk))
            return MemoryPlan(segmentLength: chunk, xl: .init(memoryLength: chunkWindow),
                              retrieval: .init(layerBegin: config.layerCount / 2, chunkOverlap: chunk / 4,
                                               encoding: .overlappingChunks))
        case .stream:
            return MemoryPlan(segmentLength: segment, xl: .init(memoryLength: window),
                              knn: .init(layers: [min(config.layerCount - 1, config.layerCount * 3 / 4)],
                                         capacity: streamKNNCapacity, shardCount: 16))
        }
    }

    /// `retrieval` and `stream`: the whole document and then the request are read once through a
    /// `MemoryModel` (segment by segment; what leaves the XL window goes to the kNN stores or the
    /// retrieval datastores), and the summary is generated from that state, so it attends to the
    /// recent window plus what it retrieves of the rest of the book.
    func summarizeWithMemory(_ document: Document, progress: ((SummaryProgress) -> Void)?) async throws -> SummaryResult {
        let start = ContinuousClock.now
        guard let language = languageModel else {
            throw SummaryError.strategyUnavailable(strategy: options.strategy.rawValue,
                                                   reason: "it needs a transformer model loaded with LanguageModel.load, got \(type(of: model))")
        }
        guard let plan = options.memoryPlan ?? Self.defaultMemoryPlan(for: options.strategy, config: language.config) else {
            throw SummaryError.invalidOption(name: "strategy", value: options.strategy.rawValue, expected: "retrieval or stream")
        }
        let reader = try MemoryModel(model: language, plan: plan)
        let prompts = SummaryPrompts(options: options, tokenizer: tokenizer)
        let (prompt, documentEnd) = prompts.memoryPrompt(text: document.text)
        let documentTokens = count(document.text)
        guard documentTokens > 0 else { throw SummaryError.emptyDocument(file: document.source.url.path) }
        let (documentIDs, requestIDs) = splitMemoryPrompt(prompt, documentEnd: documentEnd)
        if let bad = (documentIDs + requestIDs).first(where: { $0 < 0 || $0 >= reader.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(id: bad, vocabularySize: reader.vocabularySize)
        }
        let totalTokens = documentIDs.count + requestIDs.count
        let checksum = Self.checksum(of: documentIDs)

        // The document's memory: loaded from `memoryDirectory`, or read (and saved there).
        var source = "read"
        let state: MemoryState
        if let directory = options.memoryDirectory, let loaded = try loadMemory(from: directory, reader: reader, checksum: checksum) {
            state = loaded
            source = "loaded"
        } else {
            state = reader.makeMemoryState()
            try await read(documentIDs, into: state, total: totalTokens, start: start, progress: progress)
            // Unlimiformer's chunked reading ends with the document: the request and the summary retrieve.
            state.endDocument()
            if let directory = options.memoryDirectory {
                try state.save(to: directory, textChecksum: checksum)
                source = "saved"
            }
        }
        try Task.checkCancellation()
        var logits = try reader.forward(requestIDs, state: state, allLogits: false)
        let readSeconds = Generator.seconds(since: start)
        let stored = state.storedEntries
        let stats = MemoryReadStats(plan: plan, tokensRead: totalTokens, evictedTokens: state.evictedCount,
                                    knnEntries: stored.knn, retrievalEntries: stored.retrieval, readSeconds: readSeconds,
                                    source: source, documentPartTokens: documentIDs.count)
        let slices = (documentIDs.count + plan.segmentLength * 8 - 1) / (plan.segmentLength * 8)

        // Generate from the state (the same loop as `Generator.step`, on a state it does not own).
        let decodeStart = ContinuousClock.now
        var sampler = Sampler(options: SamplingOptions(temperature: options.temperature, seed: options.seed,
                                                       maxTokens: options.finalMaxTokens))
        let stop = Set(tokenizer.eosTokenIDs).union(reader.endOfSequenceTokenIDs)
        var stream = tokenizer.makeStreamingDecoder()
        var text = ""
        var generated = 0
        var reason = StopReason.maxTokens
        while generated < options.finalMaxTokens {
            guard logits.count == reader.vocabularySize else {
                throw GenerationError.logitsSizeMismatch(expected: reader.vocabularySize, found: logits.count)
            }
            let id = sampler.sample(logits)
            if stop.contains(id) { reason = .endOfSequence; break }
            text += stream.append(id)
            generated += 1
            try Task.checkCancellation()
            if generated < options.finalMaxTokens { logits = try reader.forward([id], state: state, allLogits: false) }
        }
        text += stream.flush()
        let decodeSeconds = Generator.seconds(since: decodeStart)
        let summary = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let part = PartSummary(level: 0, index: 0, title: "", sourceTokens: documentTokens, promptTokens: totalTokens,
                               generatedTokens: generated, summary: summary, stopReason: reason, seconds: readSeconds + decodeSeconds)
        let elapsed = Generator.seconds(since: start)
        progress?(SummaryProgress(phase: .merge, completed: slices + 1, total: slices + 1, title: "",
                                  promptTokensPerSecond: Double(totalTokens) / max(readSeconds, 1e-9),
                                  tokensPerSecond: decodeSeconds > 0 ? Double(generated) / decodeSeconds : 0,
                                  elapsedSeconds: elapsed, estimatedSecondsLeft: 0))
        return SummaryResult(summary: summary, strategy: options.strategy, chunks: [], merges: [part],
                             chapterCount: document.chapters.count, documentTokens: documentTokens, promptTokens: totalTokens,
                             generatedTokens: generated, seconds: elapsed, promptFormat: prompt.format, templateFamily: prompt.family,
                             systemFolded: prompt.systemFolded, warning: prompt.warning, memory: stats)
    }
}
