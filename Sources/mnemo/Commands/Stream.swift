import ArgumentParser
import Foundation
import Mnemo

/// `mnemo stream`: read a document segment by segment with memory, reporting every segment.
struct Stream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a document segment by segment through a memory plan; report each segment and a summary.",
        discussion: """
            The document (UTF-8 plain text or Markdown; a Project Gutenberg header and footer are dropped
            unless --keep-boilerplate) is tokenized as it is fed, 4 KB at a time, and read one segment at
            a time through the memory plan (--plan and/or --segment, --xl-memory, --knn-layers, ...).
            Standard output: one line per segment (NLL, perplexity, window rows, kNN and retrieval entries,
            entries retrieved, milliseconds) and a summary (tokens, NLL, perplexity, tokens/s, per-segment
            time over the first and last tenth of the document, peak resident memory); with --json one JSON
            object per line ("type": "segment", then "type": "summary").
            Standard error: a progress bar when it is a terminal, else a line every --progress-every segments.
            --full-attention reads with the plain model instead: its KV cache grows until the model's
            context is full (or --context-limit), the baseline the memory plans are measured against.
            """
    )

    @Argument(help: "The document: a UTF-8 plain-text or Markdown file.")
    var file: String

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Memory plan") var memory: PlanOptions

    @Flag(help: "Read with full attention (the plain model's growing KV cache, --segment tokens at a time) instead of a plan.")
    var fullAttention = false

    @Option(help: "With --full-attention: let the cache grow to this many tokens, past the model's trained context (timing only: predictions there are not meaningful).")
    var contextLimit: Int?

    @Option(help: "Stop after this many tokens (at a segment boundary).")
    var maxTokens: Int?

    @Flag(help: "Keep a Project Gutenberg header and license footer.")
    var keepBoilerplate = false

    @Flag(help: "One JSON object per line: each segment, then the summary.")
    var json = false

    @Flag(help: "Include each segment's token ids in the output (JSON: \"tokens\").")
    var withTokens = false

    @Option(help: "When standard error is not a terminal: a progress line every N segments (0 = none).")
    var progressEvery = 100

    @Flag(help: "No progress on standard error.")
    var quiet = false

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be >= 1, got \(maxTokens)") }
        guard progressEvery >= 0 else { throw ValidationError("--progress-every must be >= 0, got \(progressEvery)") }
        if fullAttention {
            guard memory.segment != nil else { throw ValidationError("--full-attention needs --segment N (tokens read per step)") }
            guard !memory.isGiven || (memory.plan == nil && memory.flagsBesidesSegment.isEmpty) else {
                let extra = (memory.plan == nil ? [] : ["--plan"]) + memory.flagsBesidesSegment
                throw ValidationError("--full-attention reads without memory: drop \(extra.joined(separator: ", "))")
            }
            if let contextLimit, contextLimit < 2 { throw ValidationError("--context-limit must be >= 2, got \(contextLimit)") }
        } else {
            guard memory.isGiven else {
                throw ValidationError("give a memory plan (--plan FILE and/or --segment N with --xl-memory, --knn-layers, ...) or --full-attention --segment N")
            }
            if contextLimit != nil { throw ValidationError("--context-limit applies to --full-attention only") }
        }
    }

    func run() async throws {
        let plan = fullAttention ? nil : try memory.memoryPlan()
        let document = try Document.load(from: URL(fileURLWithPath: file), options: DocumentOptions(keepBoilerplate: keepBoilerplate))
        let session = try model.loadSession()
        let reader: any LogitsModel
        if let plan {
            reader = try MemoryModel(model: session.model, plan: plan)
        } else if let contextLimit {
            reader = ContextLimitedModel(model: session.model, contextLength: contextLimit)
        } else {
            reader = session.model
        }
        let stream = try SegmentStream(model: reader, tokenizer: session.tokenizer, segmentLength: plan == nil ? memory.segment : nil)
        let output = StreamOutput(json: json, withTokens: withTokens, tokenizer: session.tokenizer)
        let progress = StreamProgress(totalBytes: document.text.utf8.count, every: quiet ? 0 : progressEvery, quiet: quiet)
        var timings: [SegmentTiming] = []
        var stopped = "end"
        output.header(document: document, path: file, plan: plan, reader: reader, segmentLength: stream.segmentLength)
        var fed = 0
        /// Reads every segment available, reporting each as soon as it is read.
        func readAvailable() throws {
            while !Task.isCancelled {
                let cpu = ResourceUsage.processCPUSeconds()
                guard let report = try stream.readSegment() else { break }
                let timing = SegmentTiming(seconds: report.seconds, cpuSeconds: ResourceUsage.processCPUSeconds() - cpu)
                output.segment(report, cpuSeconds: timing.cpuSeconds)
                if report.tokens.count == stream.segmentLength { timings.append(timing) }
                progress.update(report: report, summary: stream.summary, fedBytes: fed)
                if let maxTokens, stream.summary.tokens >= maxTokens { stopped = "maxTokens"; return }
            }
        }
        do {
            for piece in SegmentStream.pieces(of: document.text, bytes: 4_096) where stopped == "end" {
                fed += piece.utf8.count
                try stream.append(text: piece)
                try readAvailable()
            }
            if stopped == "end" {
                try stream.endInput()
                try readAvailable()
            }
        } catch let SegmentStreamError.contextFull(tokens, _, contextLength) where plan == nil {
            stopped = "contextFull"
            progress.note("context full at \(tokens) tokens (context length \(contextLength)); stopped")
        }
        progress.done()
        output.summary(stream.summary, timings: timings, stopped: stopped, peakResidentBytes: ResourceUsage.peakResidentBytes())
    }
}

extension PlanOptions {
    /// The plan flags given besides `--segment`, by name.
    var flagsBesidesSegment: [String] {
        [("--xl-memory", xlMemory != nil), ("--knn-layers", knnLayers != nil), ("--knn-top-k", knnTopK != nil),
         ("--retrieval-from-layer", retrievalFromLayer != nil), ("--memory-tokens", memoryTokens != nil)]
            .filter(\.1).map(\.0)
    }
}

/// A plain model whose cache may grow past its trained context, for the full-attention baseline's
/// timing (RoPE positions past the trained context are computed, but predictions there mean nothing).
final class ContextLimitedModel: LogitsModel {
    let model: LanguageModel
    let contextLength: Int
    init(model: LanguageModel, contextLength: Int) {
        self.model = model
        self.contextLength = contextLength
    }
    var vocabularySize: Int { model.vocabularySize }
    var endOfSequenceTokenIDs: [Int] { model.endOfSequenceTokenIDs }
    func makeState() -> any ModelState { model.makeState() }
    func forward(_ tokens: [Int], state: any ModelState, allLogits: Bool) throws -> [Float] {
        try model.forward(tokens, state: state, allLogits: allLogits)
    }
}
