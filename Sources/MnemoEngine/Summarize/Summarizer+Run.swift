import Foundation
import MnemoTokenizers

extension Summarizer {
    /// Bookkeeping of one `summarize` call: generations, token counts, timings, progress reports.
    struct Run {
        let summarizer: Summarizer
        let start: ContinuousClock.Instant
        let progress: ((SummaryProgress) -> Void)?
        /// Generations planned so far (grows when a merge level is planned).
        var total = 0
        var completed = 0
        var promptTokens = 0
        var generatedTokens = 0
        var prefillSeconds = 0.0
        var decodeSeconds = 0.0
        var firstPrompt: ChatPrompt?
        /// `hierarchical --memory`: what the chunk summaries' directory gave and kept.
        var chunkMemory: ChunkMemoryStats?

        init(summarizer: Summarizer, start: ContinuousClock.Instant, progress: ((SummaryProgress) -> Void)?) {
            self.summarizer = summarizer
            self.start = start
            self.progress = progress
        }

        var elapsed: Double { Generator.seconds(since: start) }

        /// Generates one summary from `prompt` (cancellation is checked before it and between tokens).
        mutating func generate(_ prompt: ChatPrompt, maxTokens: Int, level: Int, index: Int, title: String,
                               sourceTokens: Int, phase: SummaryProgress.Phase) async throws -> PartSummary {
            try Task.checkCancellation()
            await Task.yield()
            if firstPrompt == nil { firstPrompt = prompt }
            let model = summarizer.model
            let tokenizer = summarizer.tokenizer
            var ids = tokenizer.encode(prompt.text, addSpecialTokens: prompt.addSpecialTokens)
            if ids.isEmpty, let bos = tokenizer.bosTokenID { ids = [bos] }
            let budget = min(maxTokens, model.contextLength - ids.count)
            guard budget >= 1 else {
                throw SummaryError.contextTooSmall(contextLength: model.contextLength, promptTokens: ids.count, summaryTokens: maxTokens)
            }
            let sampling = SamplingOptions(temperature: summarizer.options.temperature, seed: summarizer.options.seed, maxTokens: budget)
            let generator = try Generator(model: model, tokenizer: tokenizer, options: sampling)
            try generator.prefill(ids)
            var text = ""
            while let token = try generator.step() {
                text += token.text
                if Task.isCancelled {
                    _ = generator.finish(reason: .cancelled)
                    throw CancellationError()
                }
            }
            text += generator.finish(reason: .maxTokens)
            let stats = generator.stats
            promptTokens += stats.promptTokens
            generatedTokens += stats.generatedTokens
            prefillSeconds += stats.prefillSeconds
            decodeSeconds += stats.decodeSeconds
            completed += 1
            let part = PartSummary(level: level, index: index, title: title, sourceTokens: sourceTokens, promptTokens: stats.promptTokens,
                                   generatedTokens: stats.generatedTokens, summary: text.trimmingCharacters(in: .whitespacesAndNewlines),
                                   stopReason: stats.stopReason ?? .maxTokens, seconds: stats.prefillSeconds + stats.decodeSeconds)
            if let progress {
                let perGeneration = elapsed / Double(completed)
                progress(SummaryProgress(
                    phase: phase, completed: completed, total: max(total, completed), title: title,
                    promptTokensPerSecond: prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0,
                    tokensPerSecond: decodeSeconds > 0 ? Double(generatedTokens) / decodeSeconds : 0,
                    elapsedSeconds: elapsed, estimatedSecondsLeft: perGeneration * Double(max(0, total - completed))))
            }
            return part
        }

        func result(summary: String, chunks: [PartSummary], merges: [PartSummary], document: Document, documentTokens: Int) -> SummaryResult {
            SummaryResult(summary: summary, strategy: summarizer.options.strategy, chunks: chunks, merges: merges,
                          chapterCount: document.chapters.count, documentTokens: documentTokens, promptTokens: promptTokens,
                          generatedTokens: generatedTokens, seconds: elapsed, promptFormat: firstPrompt?.format ?? .plain,
                          templateFamily: firstPrompt?.family, systemFolded: firstPrompt?.systemFolded ?? false,
                          warning: firstPrompt?.warning, chunkMemory: chunkMemory)
        }
    }
}
