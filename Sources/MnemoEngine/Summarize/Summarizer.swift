import Foundation
import MnemoModels
import MnemoTokenizers

/// Summarizes a `Document` with a language model (issue #7; `mnemo summarize`).
///
/// ```swift
/// let session = try MnemoSession.load(model: URL(fileURLWithPath: "qwen2.5-0.5b-instruct"))
/// let document = try Document.load(from: URL(fileURLWithPath: "alice.txt"))
/// let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer,
///                                 options: SummaryOptions(strategy: .hierarchical, length: .short))
/// let result = try await summarizer.summarize(document) { progress in print(progress.completed, progress.total) }
/// print(result.summary)                      // result.chunks: one summary per chapter (or window)
/// ```
/// Strategies: `hierarchical` (map-reduce over chapters, see `summarizeHierarchically`); `retrieval` and
/// `stream` read the whole document once through a `MemoryModel` and generate from its state (see
/// `summarizeWithMemory`).
///
/// Prompts use the model's chat template (`Tokenizer.chatPrompt`), or a plain prompt for a model without
/// one. Decoding is greedy unless `options.temperature > 0`, so a summary is reproducible.
/// Cancelling the calling task stops the work before the next generated token and throws `CancellationError`.
/// A summarizer is owned by one task (not `Sendable`).
public final class Summarizer {
    public let model: any LogitsModel
    public let tokenizer: Tokenizer
    public let options: SummaryOptions

    /// Tokens kept free between the prompt, the text and the summary budget.
    static let margin = 8
    /// Fewest document tokens per chunk worth a generation.
    static let minimumChunkTokens = 32
    /// Seconds between saves of the chunk summaries made so far (`hierarchical --memory`).
    var chunkMemorySaveInterval = 30.0

    /// - Throws: `SummaryError.invalidOption` for out-of-range options.
    public init(model: any LogitsModel, tokenizer: Tokenizer, options: SummaryOptions) throws {
        try options.validate()
        self.model = model
        self.tokenizer = tokenizer
        self.options = options
    }

    /// Summarizes `document` with `options.strategy`.
    ///
    /// - Parameter progress: called after each generation (on the calling task).
    /// - Throws: `SummaryError` (context too small, memory strategy on a non-transformer model),
    ///   `MemoryPlanError` for a plan that does not fit the model, `GenerationError` or the
    ///   model's error, `CancellationError` when the task is cancelled.
    public func summarize(_ document: Document, progress: ((SummaryProgress) -> Void)? = nil) async throws -> SummaryResult {
        switch options.strategy {
        case .hierarchical: return try await summarizeHierarchically(document, progress: progress)
        case .retrieval, .stream: return try await summarizeWithMemory(document, progress: progress)
        }
    }

    // MARK: - Hierarchical (map-reduce)

    /// Map-reduce: each chapter (cut into windows that fit the context when it is long) is summarized;
    /// then consecutive summaries are summarized in groups that fit the context, level after level, until
    /// one prompt holds them all and gives the final summary. A document that fits in one prompt is
    /// summarized directly.
    func summarizeHierarchically(_ document: Document, progress: ((SummaryProgress) -> Void)?) async throws -> SummaryResult {
        let clock = ContinuousClock.now
        var run = Run(summarizer: self, start: clock, progress: progress)
        let prompts = SummaryPrompts(options: options, tokenizer: tokenizer)
        let context = model.contextLength
        let documentTokens = count(document.text)
        guard documentTokens > 0 else { throw SummaryError.emptyDocument(file: document.source.url.path) }

        // The whole document in one prompt?
        let wholeOverhead = prompts.overhead(request: prompts.wholeRequest()) + Self.margin
        if documentTokens <= context - wholeOverhead - options.finalMaxTokens, documentTokens <= options.chunkTokens ?? Int.max {
            run.total = 1
            let part = try await run.generate(prompts.prompt(request: prompts.wholeRequest(), text: document.text),
                                              maxTokens: options.finalMaxTokens, level: 0, index: 0,
                                              title: document.chapters.count == 1 ? document.chapters[0].title : "",
                                              sourceTokens: documentTokens, phase: .chunk)
            return run.result(summary: part.summary, chunks: [part], merges: [], document: document, documentTokens: documentTokens)
        }

        // The final merge must have room for some summaries: check before any work.
        let finalOverhead = prompts.overhead(request: prompts.mergeRequest(final: true)) + Self.margin
        guard context - finalOverhead - options.finalMaxTokens >= Self.minimumChunkTokens else {
            throw SummaryError.contextTooSmall(contextLength: context, promptTokens: finalOverhead, summaryTokens: options.finalMaxTokens)
        }

        // Map: chapters, cut into windows of at most `textBudget` tokens.
        let longestTitle = document.chapters.map(\.title).max { $0.utf8.count < $1.utf8.count } ?? ""
        // With `--memory` the chunk summaries are the document's memory: made with the default request.
        let chunkPrompts = options.memoryDirectory == nil ? prompts : SummaryPrompts(options: chunkMemoryOptions, tokenizer: tokenizer)
        let chunkOverhead = chunkPrompts.overhead(request: chunkPrompts.chunkRequest(title: longestTitle + " (part 999/999)", part: 9999, of: 9999))
            + Self.margin
        var textBudget = context - chunkOverhead - options.chunkSummaryMaxTokens
        if let limit = options.chunkTokens { textBudget = min(textBudget, limit) }
        guard textBudget >= Self.minimumChunkTokens else {
            throw SummaryError.contextTooSmall(contextLength: context, promptTokens: chunkOverhead, summaryTokens: options.chunkSummaryMaxTokens)
        }
        let chunker = TextChunker(budget: textBudget, count: count)
        var planned: [(title: String, text: String)] = []
        for chapter in document.chapters {
            let pieces = chunker.chunks(chapter.text).filter { !$0.allSatisfy(\.isWhitespace) }
            for (k, piece) in pieces.enumerated() {
                planned.append((pieces.count > 1 ? "\(chapter.title) (part \(k + 1)/\(pieces.count))".trimmingCharacters(in: .whitespaces)
                                : chapter.title, piece))
            }
        }
        let chunkRequests = planned.enumerated().map { i, item in
            chunkPrompts.prompt(request: chunkPrompts.chunkRequest(title: item.title, part: i + 1, of: planned.count), text: item.text)
        }
        var chunks: [PartSummary] = []
        var memory: (directory: URL, identity: ModelIdentity, plan: String)?
        if let directory = options.memoryDirectory {
            let identity = try chunkMemoryIdentity()
            let plan = chunkPlanChecksum(chunkRequests)
            chunks = try loadChunkMemory(from: directory, model: identity, planChecksum: plan, plannedCount: planned.count)
            memory = (directory, identity, plan)
            run.chunkMemory = ChunkMemoryStats(source: chunks.isEmpty ? "saved" : chunks.count == planned.count ? "loaded" : "resumed",
                                               reusedChunks: chunks.count, plannedChunks: planned.count)
        }
        run.total = planned.count - chunks.count + 1
        var lastSave = ContinuousClock.now
        for (i, item) in planned.enumerated().dropFirst(chunks.count) {
            chunks.append(try await run.generate(chunkRequests[i], maxTokens: options.chunkSummaryMaxTokens,
                                                 level: 0, index: i, title: item.title, sourceTokens: count(item.text), phase: .chunk))
            // Saved every `chunkMemorySaveInterval` and at the end of the map step, so an interrupted run resumes.
            if let memory, i + 1 == planned.count || Generator.seconds(since: lastSave) >= chunkMemorySaveInterval {
                try saveChunkMemory(chunks, to: memory.directory, model: memory.identity, planChecksum: memory.plan, plannedCount: planned.count)
                lastSave = .now
            }
        }

        // Reduce: until one prompt holds every summary of the current level.
        var merges: [PartSummary] = []
        var current = chunks
        var level = 1
        while true {
            let finalRequest = prompts.mergeRequest(final: true)
            let finalBudget = context - prompts.overhead(request: finalRequest) - Self.margin - options.finalMaxTokens
            let joined = SummaryPrompts.join(current)
            if current.count == 1 || count(joined) <= finalBudget {
                guard finalBudget >= Self.minimumChunkTokens else {
                    throw SummaryError.contextTooSmall(contextLength: context, promptTokens: context - finalBudget - options.finalMaxTokens,
                                                       summaryTokens: options.finalMaxTokens)
                }
                let text = fit(joined, tokens: finalBudget)
                let final = try await run.generate(prompts.prompt(request: finalRequest, text: text), maxTokens: options.finalMaxTokens,
                                                   level: level, index: 0, title: "", sourceTokens: count(text), phase: .merge)
                merges.append(final)
                return run.result(summary: final.summary, chunks: chunks, merges: merges, document: document, documentTokens: documentTokens)
            }
            let request = prompts.mergeRequest(final: false)
            let groupBudget = context - prompts.overhead(request: request) - Self.margin - options.chunkSummaryMaxTokens
            guard groupBudget >= Self.minimumChunkTokens else {
                throw SummaryError.contextTooSmall(contextLength: context, promptTokens: context - groupBudget - options.chunkSummaryMaxTokens,
                                                   summaryTokens: options.chunkSummaryMaxTokens)
            }
            let groups = Self.group(current, budget: groupBudget, count: count)
            run.total += groups.count
            var next: [PartSummary] = []
            for (g, range) in groups.enumerated() {
                let text = fit(SummaryPrompts.join(Array(current[range])), tokens: groupBudget)
                let title = "summaries \(range.lowerBound + 1)-\(range.upperBound) of level \(level - 1)"
                next.append(try await run.generate(prompts.prompt(request: request, text: text), maxTokens: options.chunkSummaryMaxTokens,
                                                   level: level, index: g, title: title, sourceTokens: count(text), phase: .merge))
            }
            merges.append(contentsOf: next)
            current = next
            level += 1
        }
    }

    /// Consecutive groups whose joined summaries fit `budget` tokens, at least two per group so every
    /// level at least halves the count (a group over budget is cut by `fit`).
    static func group(_ parts: [PartSummary], budget: Int, count: (String) -> Int) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = 0
        var used = 0
        for i in parts.indices {
            let n = count(SummaryPrompts.join([parts[i]])) + 2
            if i - start >= 2, used + n > budget {
                groups.append(start ..< i)
                start = i
                used = 0
            }
            used += n
        }
        groups.append(start ..< parts.count)
        if groups.count > 1, let last = groups.last, last.count == 1 {
            groups.removeLast()
            groups[groups.count - 1] = groups[groups.count - 1].lowerBound ..< last.upperBound
        }
        return groups
    }

    /// The transformer behind `model` (itself, or the one a `MemoryModel` wraps), if any.
    var languageModel: LanguageModel? { (model as? LanguageModel) ?? (model as? MemoryModel)?.model }

    func count(_ text: String) -> Int { tokenizer.encode(text, addSpecialTokens: false).count }

    /// The longest beginning of `text`, in whole characters, that encodes to at most `tokens`
    /// tokens. Decoding a prefix of the ids is not such a cut: a cut inside a multi-byte character
    /// decodes to U+FFFD, which byte-fallback vocabularies encode as three byte tokens (generated
    /// summaries of a small model are full of such pieces), and a sentencepiece prefix decodes with
    /// a leading space the text did not have. So the cut is searched for on the text itself: every
    /// candidate is measured, the result fits, and one more character would not.
    func fit(_ text: String, tokens: Int) -> String {
        guard count(text) > tokens else { return text }
        guard tokens > 0 else { return "" }
        let ends = Array(text.indices)  // ends[i] = end of the first i characters, i < count
        var fits = 0, overflows = ends.count  // prefix(fits) fits; the first `overflows` characters do not
        while overflows - fits > 1 {
            let mid = (fits + overflows) / 2
            if count(String(text[..<ends[mid]])) <= tokens { fits = mid } else { overflows = mid }
        }
        return String(text[..<ends[fits]])
    }
}
