import ArgumentParser
import Foundation
import Mnemo

/// `--strategy` values (SummaryStrategy).
enum StrategyArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    case hierarchical, retrieval, stream
    var strategy: SummaryStrategy { SummaryStrategy(rawValue: rawValue) ?? .retrieval }
}

/// `--length` values (SummaryLength).
enum LengthArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    case short, medium, long
    var length: SummaryLength { SummaryLength(rawValue: rawValue) ?? .medium }
}

/// `mnemo summarize`: summarize a plain-text or Markdown document (a novel) with a model.
struct Summarize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize a plain-text or Markdown document; the summary goes to standard output.",
        discussion: """
            The document is read as UTF-8 (BOM and CRLF accepted); a Project Gutenberg header and license
            footer are dropped unless --keep-boilerplate; chapters are detected from CHAPTER/Chapter/roman
            numeral/Markdown headings. Prompts use the model's chat template (tokenizer_config.json or GGUF
            tokenizer.chat_template) or a plain prompt for a model without one. Decoding is greedy unless
            --temperature is set. Progress goes to standard error (--quiet hides it).
            Strategies: retrieval (default) = read the whole document once into Unlimiformer retrieval
            memory (independent overlapping chunks, no search while reading), then generate retrieving over
            it; hierarchical = summarize each chapter (or window), then summarize the summaries; stream =
            read through a Transformer-XL window and kNN memory, then generate. --plan replaces the memory
            plan of retrieval/stream (a MemoryPlan JSON file, see Docs/MemoryPlan.md). --memory DIR keeps
            the document's memory: the first run reads the book and saves it there, later runs with the
            same model, plan and text (e.g. another --instruction) load it and read only the request.
            With hierarchical, DIR keeps the chunk summaries (made with the default request, so any later
            --instruction reuses them; saved as they are made, so an interrupted run resumes): later runs
            generate only the merges and the final summary.
            """
    )

    @Argument(help: "The document: a UTF-8 plain-text or Markdown file.")
    var file: String

    @OptionGroup var model: ModelOptions

    @Option(help: "How to summarize.")
    var strategy: StrategyArgument = .retrieval

    @Option(help: "Memory plan JSON for --strategy retrieval or stream (default: chosen from the model's size).")
    var plan: String?

    @Option(help: "Document memory directory: loaded when it holds this book's memory (retrieval/stream: a snapshot; hierarchical: chunk summaries) for this model and settings, else made and saved there.")
    var memory: String?

    @Option(help: "Replace the default request (\"Summarize the following text ...\").")
    var instruction: String?

    @Option(help: "Summary length (token budget and wording of the request).")
    var length: LengthArgument = .medium

    @Option(help: "Largest number of tokens of the final summary (default: from --length: 128, 256, 512).")
    var maxTokens: Int?

    @Option(help: "Largest number of document tokens per chunk (default: what the context holds).")
    var chunkTokens: Int?

    @Option(help: "Sampling temperature; 0 = greedy (the default, reproducible).")
    var temperature: Double = 0

    @Option(help: "Seed of the sampler (with --temperature > 0).")
    var seed: UInt64?

    @Flag(help: "Keep the Project Gutenberg header and license footer.")
    var keepBoilerplate = false

    @Flag(help: "Print one JSON object: summary, strategy, per-chapter summaries, token counts, timings.")
    var json = false

    @Flag(help: "No progress on standard error (warnings are still printed).")
    var quiet = false

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be >= 1, got \(maxTokens)") }
        if let chunkTokens, chunkTokens < 16 { throw ValidationError("--chunk-tokens must be >= 16, got \(chunkTokens)") }
        guard temperature.isFinite, temperature >= 0 else {
            throw ValidationError("--temperature must be a finite number >= 0, got \(temperature)")
        }
        if let instruction, instruction.allSatisfy(\.isWhitespace) {
            throw ValidationError("--instruction must not be empty")
        }
        if plan != nil, strategy == .hierarchical {
            throw ValidationError("--plan applies to --strategy retrieval or stream, not hierarchical")
        }
    }

    func options() throws -> SummaryOptions {
        SummaryOptions(strategy: strategy.strategy, instruction: instruction, length: length.length, maxTokens: maxTokens,
                       chunkTokens: chunkTokens, temperature: temperature, seed: seed,
                       memoryPlan: try plan.map { try MemoryPlan.load(from: URL(fileURLWithPath: $0)) },
                       memoryDirectory: memory.map { URL(fileURLWithPath: $0) })
    }

    func run() async throws {
        let start = ContinuousClock.now
        // Check the document (and the strategy) before loading a possibly large model.
        let document = try Document.load(from: URL(fileURLWithPath: file), options: DocumentOptions(keepBoilerplate: keepBoilerplate))
        let options = try options()
        let session = try model.loadSession()
        let loadSeconds = Self.seconds(since: start)
        let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer, options: options)
        if !quiet {
            let boilerplate = document.boilerplateRemoved ? ", Project Gutenberg header/footer removed" : ""
            Console.log("mnemo: \(file): \(document.chapters.count) chapter(s)\(boilerplate); model context \(session.model.contextLength) tokens")
        }
        var lastReadReport = ContinuousClock.now
        let result = try await summarizer.summarize(document) { progress in
            if quiet { return }
            let left = progress.completed < progress.total ? String(format: ", ~%.0f s left", progress.estimatedSecondsLeft) : ""
            switch progress.phase {
            case .read:
                // At most one line a second while reading (and the last slice).
                guard Self.seconds(since: lastReadReport) >= 1 || progress.completed + 1 == progress.total else { return }
                lastReadReport = .now
                Console.log(String(format: "[%d/%d] reading: %.1f tok/s, %.1f s elapsed%@", progress.completed, progress.total,
                                   progress.promptTokensPerSecond, progress.elapsedSeconds, left))
            case .chunk, .merge:
                let title = progress.title.isEmpty ? (progress.phase == .chunk ? "the text" : "final summary") : progress.title
                Console.log(String(format: "[%d/%d] %@ %@: %.1f tok/s read, %.1f tok/s generated, %.1f s elapsed%@",
                                   progress.completed, progress.total, progress.phase == .chunk ? "summarized" : "generated",
                                   title, progress.promptTokensPerSecond, progress.tokensPerSecond, progress.elapsedSeconds, left))
            }
        }
        if let warning = result.warning { Console.log("mnemo: warning: \(warning)") }
        if json {
            Console.line(Self.json(result, file: file, document: document, loadSeconds: loadSeconds,
                                   totalSeconds: Self.seconds(since: start)))
        } else {
            Console.line(result.summary)
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func partJSON(_ p: PartSummary) -> String {
        JSONText.object([
            ("level", "\(p.level)"), ("index", "\(p.index)"), ("title", JSONText.string(p.title)),
            ("summary", JSONText.string(p.summary)), ("source_tokens", "\(p.sourceTokens)"),
            ("prompt_tokens", "\(p.promptTokens)"), ("generated_tokens", "\(p.generatedTokens)"),
            ("stop_reason", JSONText.string(p.stopReason.rawValue)), ("seconds", JSONText.number(p.seconds)),
        ])
    }

    static func memoryJSON(_ m: MemoryReadStats) -> String {
        var plan = "null"
        if let data = try? m.plan.jsonData(),   // only a non-finite gate value fails; the plan was validated
           let object = try? JSONSerialization.jsonObject(with: data),
           let compact = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            plan = String(decoding: compact, as: UTF8.self)
        }
        return JSONText.object([
            ("plan", plan), ("tokens_read", "\(m.tokensRead)"), ("evicted_tokens", "\(m.evictedTokens)"),
            ("knn_entries", "\(m.knnEntries)"), ("retrieval_entries", "\(m.retrievalEntries)"),
            ("read_seconds", JSONText.number(m.readSeconds)), ("source", JSONText.string(m.source)),
            ("document_part_tokens", "\(m.documentPartTokens)"),
        ])
    }

    static func chunkMemoryJSON(_ m: ChunkMemoryStats) -> String {
        JSONText.object([
            ("source", JSONText.string(m.source)), ("reused_chunks", "\(m.reusedChunks)"), ("planned_chunks", "\(m.plannedChunks)"),
        ])
    }

    static func json(_ r: SummaryResult, file: String, document: Document, loadSeconds: Double, totalSeconds: Double) -> String {
        JSONText.object([
            ("summary", JSONText.string(r.summary)),
            ("strategy", JSONText.string(r.strategy.rawValue)),
            ("file", JSONText.string(file)),
            ("title", document.source.title.map(JSONText.string) ?? "null"),
            ("chapters", "\(r.chapterCount)"),
            ("prompt", JSONText.object([
                ("format", JSONText.string(r.promptFormat.rawValue)),
                ("template_family", r.templateFamily.map { JSONText.string($0.rawValue) } ?? "null"),
                ("system_folded", r.systemFolded ? "true" : "false"),
                ("warning", r.warning.map(JSONText.string) ?? "null"),
            ])),
            ("chunk_summaries", JSONText.array(r.chunks.map(partJSON))),
            ("merge_summaries", JSONText.array(r.merges.map(partJSON))),
            ("tokens", JSONText.object([
                ("document", "\(r.documentTokens)"), ("prompt", "\(r.promptTokens)"), ("generated", "\(r.generatedTokens)"),
            ])),
            ("memory", r.memory.map(memoryJSON) ?? r.chunkMemory.map(chunkMemoryJSON) ?? "null"),
            ("timings", JSONText.object([
                ("load_seconds", JSONText.number(loadSeconds)), ("summarize_seconds", JSONText.number(r.seconds)),
                ("total_seconds", JSONText.number(totalSeconds)),
            ])),
            ("peak_resident_bytes", "\(ResourceUsage.peakResidentBytes())"),
        ])
    }
}
