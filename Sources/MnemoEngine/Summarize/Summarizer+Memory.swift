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
    /// Wall time of reading (before generation).
    public var readSeconds: Double
}

extension Summarizer {
    /// The plan `strategy` reads a document with when `SummaryOptions.memoryPlan` is nil.
    ///
    /// Segments of a quarter of the context (at most 512 tokens) and an XL window of half the context,
    /// so the largest distance inside the window stays within what the model was trained on; then
    /// - `retrieval`: Unlimiformer retrieval attention from the middle layer up (top 64, exact search,
    ///   `exact` encoding: each stored state has seen the past through retrieval);
    /// - `stream`: Memorizing-Transformers kNN memory in one layer three quarters up (top 32, joint
    ///   softmax, the training-free fusion, since generic checkpoints have no trained gate).
    /// - Returns: nil for `hierarchical`.
    public static func defaultMemoryPlan(for strategy: SummaryStrategy, config: ModelConfig) -> MemoryPlan? {
        let segment = max(16, min(512, config.contextLength / 4))
        let window = max(0, min(config.contextLength / 2, config.contextLength - segment))
        switch strategy {
        case .hierarchical:
            return nil
        case .retrieval:
            return MemoryPlan(segmentLength: segment, xl: .init(memoryLength: window),
                              retrieval: .init(layerBegin: config.layerCount / 2))
        case .stream:
            return MemoryPlan(segmentLength: segment, xl: .init(memoryLength: window),
                              knn: .init(layers: [min(config.layerCount - 1, config.layerCount * 3 / 4)]))
        }
    }

    /// `retrieval` and `stream`: the whole document and then the request are read once through a
    /// `MemoryModel` (segment by segment; what leaves the XL window goes to the kNN stores or the
    /// retrieval datastores), and the summary is generated from that state, so it attends to the
    /// recent window plus what it retrieves of the rest of the book.
    func summarizeWithMemory(_ document: Document, progress: ((SummaryProgress) -> Void)?) async throws -> SummaryResult {
        let start = ContinuousClock.now
        guard let language = (model as? LanguageModel) ?? (model as? MemoryModel)?.model else {
            throw SummaryError.strategyUnavailable(strategy: options.strategy.rawValue,
                                                   reason: "it needs a transformer model loaded with LanguageModel.load, got \(type(of: model))")
        }
        guard let plan = options.memoryPlan ?? Self.defaultMemoryPlan(for: options.strategy, config: language.config) else {
            throw SummaryError.invalidOption(name: "strategy", value: options.strategy.rawValue, expected: "retrieval or stream")
        }
        let reader = try MemoryModel(model: language, plan: plan)
        let prompts = SummaryPrompts(options: options, tokenizer: tokenizer)
        let prompt = prompts.memoryPrompt(text: document.text)
        var ids = tokenizer.encode(prompt.text, addSpecialTokens: prompt.addSpecialTokens)
        if ids.isEmpty, let bos = tokenizer.bosTokenID { ids = [bos] }
        let documentTokens = count(document.text)
        guard documentTokens > 0 else { throw SummaryError.emptyDocument(file: document.source.url.path) }
        if let bad = ids.first(where: { $0 < 0 || $0 >= reader.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(id: bad, vocabularySize: reader.vocabularySize)
        }

        // Read, a few segments at a time, reporting progress and checking for cancellation.
        let state = reader.makeMemoryState()
        let slice = plan.segmentLength * 8
        let slices = (ids.count + slice - 1) / slice
        var logits: [Float] = []
        for k in 0 ..< slices {
            try Task.checkCancellation()
            await Task.yield()
            let piece = Array(ids[(k * slice) ..< min(ids.count, (k + 1) * slice)])
            logits = try reader.forward(piece, state: state, allLogits: false)
            if let progress {
                let elapsed = Generator.seconds(since: start)
                let rate = Double(min(ids.count, (k + 1) * slice)) / max(elapsed, 1e-9)
                progress(SummaryProgress(phase: .read, completed: k + 1, total: slices + 1, title: "reading",
                                         promptTokensPerSecond: rate, tokensPerSecond: 0, elapsedSeconds: elapsed,
                                         estimatedSecondsLeft: Double(ids.count - min(ids.count, (k + 1) * slice)) / rate))
            }
        }
        let readSeconds = Generator.seconds(since: start)
        let stored = state.storedEntries
        let stats = MemoryReadStats(plan: plan, tokensRead: ids.count, evictedTokens: state.evictedCount,
                                    knnEntries: stored.knn, retrievalEntries: stored.retrieval, readSeconds: readSeconds)

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
        let part = PartSummary(level: 0, index: 0, title: "", sourceTokens: documentTokens, promptTokens: ids.count,
                               generatedTokens: generated, summary: summary, stopReason: reason, seconds: readSeconds + decodeSeconds)
        let elapsed = Generator.seconds(since: start)
        progress?(SummaryProgress(phase: .merge, completed: slices + 1, total: slices + 1, title: "",
                                  promptTokensPerSecond: Double(ids.count) / max(readSeconds, 1e-9),
                                  tokensPerSecond: decodeSeconds > 0 ? Double(generated) / decodeSeconds : 0,
                                  elapsedSeconds: elapsed, estimatedSecondsLeft: 0))
        return SummaryResult(summary: summary, strategy: options.strategy, chunks: [], merges: [part],
                             chapterCount: document.chapters.count, documentTokens: documentTokens, promptTokens: ids.count,
                             generatedTokens: generated, seconds: elapsed, promptFormat: prompt.format, templateFamily: prompt.family,
                             systemFolded: prompt.systemFolded, warning: prompt.warning, memory: stats)
    }
}
