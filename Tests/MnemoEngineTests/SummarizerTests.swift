import XCTest
import MnemoModels
import MnemoTokenizers
@testable import MnemoEngine

/// `Summarizer` end to end on stories260K (a llama2.c checkpoint without a chat template, so prompts
/// are plain), on short documents so the suite stays fast.
final class SummarizerTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized
    private static let story = fixtures.appendingPathComponent("documents/two_chapters_gutenberg.txt")

    private func session() throws -> MnemoSession {
        try MnemoSession.load(model: Self.fixtures.appendingPathComponent("models/stories260K/stories260K.bin"))
    }

    /// Small budgets so the two-chapter story is cut into windows and merged.
    private let smallOptions = SummaryOptions(strategy: .hierarchical, length: .short, maxTokens: 24, chunkMaxTokens: 16, chunkTokens: 100)

    private func summarize(_ url: URL, _ options: SummaryOptions,
                           progress: ((SummaryProgress) -> Void)? = nil) async throws -> (SummaryResult, Document, MnemoSession) {
        let session = try session()
        let document = try Document.load(from: url)
        let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer, options: options)
        return (try await summarizer.summarize(document, progress: progress), document, session)
    }

    func testHierarchicalIsDeterministicAndCoversEveryChapter() async throws {
        var reports: [SummaryProgress] = []
        let (first, document, session) = try await summarize(Self.story, smallOptions) { reports.append($0) }
        let (second, _, _) = try await summarize(Self.story, smallOptions)
        XCTAssertEqual(first.summary, second.summary)
        XCTAssertEqual(first.chunks, second.chunks.map { var c = $0; c.seconds = first.chunks[$0.index].seconds; return c })

        XCTAssertEqual(first.strategy, .hierarchical)
        XCTAssertEqual(first.chapterCount, 2)
        XCTAssertEqual(document.chapters.map(\.title), ["CHAPTER I. The Red Ball", "CHAPTER II. The New Friend"])
        XCTAssertGreaterThan(first.chunks.count, 2, "100-token windows cut each chapter")
        for (i, chunk) in first.chunks.enumerated() {
            XCTAssertEqual(chunk.level, 0)
            XCTAssertEqual(chunk.index, i)
            XCTAssertLessThanOrEqual(chunk.sourceTokens, 100)
            XCTAssertLessThanOrEqual(chunk.generatedTokens, 16)
            XCTAssertLessThanOrEqual(chunk.promptTokens + chunk.generatedTokens, session.model.contextLength)
        }
        XCTAssertTrue(first.chunks.first?.title.hasPrefix("CHAPTER I. The Red Ball (part 1/") ?? false)
        XCTAssertTrue(first.chunks.last?.title.hasPrefix("CHAPTER II. The New Friend (part ") ?? false)
        let final = try XCTUnwrap(first.merges.last)
        XCTAssertEqual(final.summary, first.summary)
        XCTAssertLessThanOrEqual(final.generatedTokens, 24)
        XCTAssertFalse(first.summary.isEmpty)
        let parts = first.chunks + first.merges
        XCTAssertEqual(first.promptTokens, parts.reduce(0) { $0 + $1.promptTokens })
        XCTAssertEqual(first.generatedTokens, parts.reduce(0) { $0 + $1.generatedTokens })
        XCTAssertEqual(first.documentTokens, session.tokenizer.encode(document.text, addSpecialTokens: false).count)
        XCTAssertEqual(first.promptFormat, .plain)
        XCTAssertNil(first.warning)

        XCTAssertEqual(reports.count, parts.count)
        XCTAssertEqual(reports.map(\.completed), Array(1 ... parts.count))
        XCTAssertEqual(reports.last?.total, parts.count)
        XCTAssertEqual(reports.filter { $0.phase == .chunk }.count, first.chunks.count)
    }

    /// The first chunk summary is greedy decoding of the documented plain prompt (text, request, "Summary:").
    func testChunkSummaryIsGreedyDecodingOfThePlainPrompt() async throws {
        let (result, document, session) = try await summarize(Self.story, smallOptions)
        let chunk = try XCTUnwrap(result.chunks.first)
        let prompts = SummaryPrompts(options: smallOptions, tokenizer: session.tokenizer)
        let pieces = TextChunker(budget: 100) { session.tokenizer.encode($0, addSpecialTokens: false).count }.chunks(document.chapters[0].text)
        let request = prompts.chunkRequest(title: chunk.title, part: 1, of: result.chunks.count)
        let body = pieces[0].trimmingCharacters(in: .whitespacesAndNewlines)
        let prompt = "\(body)\n\n\(request)\nSummary:"
        XCTAssertTrue(request.hasPrefix("Summarize the following text in two or three sentences. It is part 1 of "), request)

        let generator = try session.makeGenerator(options: SamplingOptions(temperature: 0, maxTokens: 16))
        try generator.prefill(session.tokenizer.encode(prompt, addSpecialTokens: true))
        var text = ""
        while let token = try generator.step() { text += token.text }
        text += generator.finish(reason: .maxTokens)
        XCTAssertEqual(chunk.summary, text.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(chunk.promptTokens, generator.stats.promptTokens)
    }

    /// A document that fits one prompt is summarized directly with the final budget and request.
    func testShortDocumentIsSummarizedInOneGeneration() async throws {
        let (result, _, _) = try await summarize(Self.story, SummaryOptions(strategy: .hierarchical, length: .short, maxTokens: 12))
        XCTAssertEqual(result.chunks.count, 1)
        XCTAssertTrue(result.merges.isEmpty)
        XCTAssertEqual(result.summary, result.chunks[0].summary)
        XCTAssertLessThanOrEqual(result.generatedTokens, 12)
    }

    func testCancellationBetweenChunksThrowsCancellationError() async throws {
        var reports = 0
        do {
            _ = try await summarize(Self.story, smallOptions) { _ in
                reports += 1
                withUnsafeCurrentTask { $0?.cancel() }
            }
            XCTFail("not cancelled")
        } catch is CancellationError {
            XCTAssertEqual(reports, 1, "stopped before the second generation")
        }
    }

    func testBadOptionsAndModelsThrowTypedErrors() async throws {
        // The memory strategies need a transformer to wrap in a MemoryModel.
        let fake = FakeModel(table: Array(repeating: Array(repeating: 0, count: 512), count: 512), contextLength: 512)
        let document = try Document.load(from: Self.story)
        for strategy in [SummaryStrategy.retrieval, .stream] {
            do {
                _ = try await Summarizer(model: fake, tokenizer: try session().tokenizer, options: SummaryOptions(strategy: strategy)).summarize(document)
                XCTFail("\(strategy) ran")
            } catch let error as SummaryError {
                guard case .strategyUnavailable(let name, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, strategy.rawValue)
                XCTAssertTrue("\(error)".contains("needs a transformer model"), "\(error)")
            }
        }
        // A plan that does not fit the model is rejected with its fields.
        do {
            _ = try await summarize(Self.story, SummaryOptions(strategy: .stream, memoryPlan: MemoryPlan(segmentLength: 1024)))
            XCTFail("no error")
        } catch let error as MemoryPlanError {
            XCTAssertTrue("\(error)".contains("segmentLength"), "\(error)")
        }
        let session = try session()
        XCTAssertThrowsError(try Summarizer(model: session.model, tokenizer: session.tokenizer, options: SummaryOptions(maxTokens: 0))) {
            XCTAssertEqual($0 as? SummaryError, .invalidOption(name: "max-tokens", value: "0", expected: ">= 1"))
        }
        XCTAssertThrowsError(try Summarizer(model: session.model, tokenizer: session.tokenizer, options: SummaryOptions(temperature: -1)))
        XCTAssertThrowsError(try Summarizer(model: session.model, tokenizer: session.tokenizer, options: SummaryOptions(instruction: "  ")))
        // 512-token context: a 500-token chunk budget leaves no room for text.
        do {
            _ = try await summarize(Self.story, SummaryOptions(strategy: .hierarchical, maxTokens: 500, chunkMaxTokens: 500, chunkTokens: 100))
            XCTFail("no error")
        } catch let error as SummaryError {
            guard case .contextTooSmall(let context, _, let summary) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(context, 512)
            XCTAssertEqual(summary, 500)
            XCTAssertTrue("\(error)".contains("lower --max-tokens"), "\(error)")
        }
    }

    // MARK: - Hierarchical chunk memory (`--memory`)

    private static func withoutTimes(_ parts: [PartSummary]) -> [PartSummary] {
        parts.map { var p = $0; p.seconds = 0; return p }
    }

    /// The saved chunk summaries are exactly those of a run without memory; a later question (another
    /// instruction) reuses all of them and generates only the merges, which equal those of a run that
    /// made the chunk summaries itself.
    func testHierarchicalMemoryIsReusedByALaterQuestion() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-chunks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = smallOptions
        options.memoryDirectory = folder
        let (first, _, _) = try await summarize(Self.story, options)
        let (plain, _, _) = try await summarize(Self.story, smallOptions)
        XCTAssertEqual(first.chunkMemory, ChunkMemoryStats(source: "saved", reusedChunks: 0, plannedChunks: plain.chunks.count))
        XCTAssertEqual(Self.withoutTimes(first.chunks), Self.withoutTimes(plain.chunks))
        XCTAssertEqual(first.summary, plain.summary, "no instruction: --memory changes nothing")
        XCTAssertNil(plain.chunkMemory)

        var question = options
        question.instruction = "Tell who is in the story."
        var reports: [SummaryProgress] = []
        let (loaded, _, _) = try await summarize(Self.story, question) { reports.append($0) }
        XCTAssertEqual(loaded.chunkMemory, ChunkMemoryStats(source: "loaded", reusedChunks: first.chunks.count, plannedChunks: first.chunks.count))
        XCTAssertEqual(loaded.chunks, first.chunks, "loaded as saved, timings included")
        XCTAssertEqual(reports.count, loaded.merges.count, "only the merges were generated")
        XCTAssertTrue(reports.allSatisfy { $0.phase == .merge })

        question.memoryDirectory = folder.appendingPathComponent("fresh")
        let (made, _, _) = try await summarize(Self.story, question)
        XCTAssertEqual(made.chunkMemory?.source, "saved")
        XCTAssertEqual(Self.withoutTimes(made.chunks), Self.withoutTimes(first.chunks), "chunk requests ignore the instruction with --memory")
        XCTAssertEqual(Self.withoutTimes(loaded.merges), Self.withoutTimes(made.merges))
        XCTAssertEqual(loaded.summary, made.summary)
        XCTAssertNotEqual(loaded.summary, first.summary, "the instruction reaches the merges")
    }

    /// Saves after every chunk summary and cancels the calling task after the second.
    private static func summarizeCancellingAfterTwoChunks(_ options: SummaryOptions) async throws {
        let session = try MnemoSession.load(model: fixtures.appendingPathComponent("models/stories260K/stories260K.bin"))
        let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer, options: options)
        summarizer.chunkMemorySaveInterval = 0
        var reports = 0
        _ = try await summarizer.summarize(try Document.load(from: story)) { _ in
            reports += 1
            if reports == 2 { withUnsafeCurrentTask { $0?.cancel() } }
        }
    }

    /// A run cancelled after two chunk summaries leaves them saved; the next run resumes from the third
    /// and ends with the result of a run that was never interrupted.
    func testInterruptedHierarchicalRunResumes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-chunks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = smallOptions
        options.memoryDirectory = folder
        // In a task of its own: cancellation is sticky for the task it hits.
        let frozen = options
        let interrupted = Task.detached { try await SummarizerTests.summarizeCancellingAfterTwoChunks(frozen) }
        switch await interrupted.result {
        case .success: XCTFail("not cancelled")
        case .failure(let error): XCTAssertTrue(error is CancellationError, "\(error)")
        }
        // A stale temporary file of an interrupted save is ignored.
        try Data("garbage".utf8).write(to: folder.appendingPathComponent(".chunk-summaries.json.tmp-1"))

        let (resumed, _, _) = try await summarize(Self.story, options)
        let (plain, _, _) = try await summarize(Self.story, smallOptions)
        XCTAssertEqual(resumed.chunkMemory, ChunkMemoryStats(source: "resumed", reusedChunks: 2, plannedChunks: plain.chunks.count))
        XCTAssertEqual(Self.withoutTimes(resumed.chunks), Self.withoutTimes(plain.chunks))
        XCTAssertEqual(Self.withoutTimes(resumed.merges), Self.withoutTimes(plain.merges))
        XCTAssertEqual(resumed.summary, plain.summary)
    }

    /// Another chunk plan, another model, a damaged or truncated file, a foreign directory: typed errors
    /// naming the directory or file; nothing saved is overwritten.
    func testBadChunkMemoryThrowsTypedErrors() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-chunks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = smallOptions
        options.memoryDirectory = folder
        _ = try await summarize(Self.story, options)
        let file = folder.appendingPathComponent("chunk-summaries.json")
        let saved = try Data(contentsOf: file)

        var other = options
        other.chunkTokens = 120
        do {
            _ = try await summarize(Self.story, other)
            XCTFail("no error")
        } catch let error as SummaryError {
            guard case .memoryMismatch(let directory, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(directory, folder.path)
            XCTAssertTrue(detail.contains("another text or other chunk settings"), detail)
        }
        XCTAssertEqual(try Data(contentsOf: file), saved, "the mismatching run did not overwrite the memory")

        // Another model with the same tokenizer (stories260K's v1 export differs in its file bytes).
        do {
            let session = try MnemoSession.load(model: Self.fixtures.appendingPathComponent("models/stories260K/stories260K_v1.bin"))
            _ = try await Summarizer(model: session.model, tokenizer: session.tokenizer, options: options).summarize(try Document.load(from: Self.story))
            XCTFail("no error")
        } catch let error as MemorySnapshotError {
            guard case .modelMismatch(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, file.path)
        }

        // An edited summary, a truncated file.
        var text = String(decoding: saved, as: UTF8.self)
        let firstSummary = try XCTUnwrap(text.range(of: #""summary" : ""#))
        text.insert("X", at: firstSummary.upperBound)
        for damaged in [Data(text.utf8), saved.prefix(saved.count / 2), Data()] {
            try damaged.write(to: file)
            do {
                _ = try await summarize(Self.story, options)
                XCTFail("no error")
            } catch let error as MemorySnapshotError {
                guard case .corrupt(let path, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, file.path)
            }
        }

        // A directory holding something else.
        try FileManager.default.removeItem(at: file)
        try Data("x".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        do {
            _ = try await summarize(Self.story, options)
            XCTFail("no error")
        } catch let error as SummaryError {
            XCTAssertTrue("\(error)".contains("is not a hierarchical summary memory"), "\(error)")
        }
    }

    // MARK: - Memory strategies

    /// A story that fits the XL window: nothing is evicted, so reading through memory is exactly full
    /// attention (the memory-equivalence property of Docs/Memory.md) and the summary equals plain greedy
    /// decoding of the same prompt.
    func testMemoryStrategiesEqualPlainGenerationWhenTheWindowHoldsEverything() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-summary-\(UUID().uuidString).txt")
        try "Lily had a red ball. She lost it under a tree. A small dog found it and they became friends.".write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        let plans: [(SummaryStrategy, MemoryPlan)] = [
            (.stream, MemoryPlan(segmentLength: 64, xl: .init(memoryLength: 384), knn: .init(layers: [3]))),
            (.retrieval, MemoryPlan(segmentLength: 64, xl: .init(memoryLength: 384), retrieval: .init(layerBegin: 2))),
        ]
        for (strategy, plan) in plans {
            let options = SummaryOptions(strategy: strategy, length: .short, maxTokens: 12, memoryPlan: plan)
            let (result, document, session) = try await summarize(url, options)
            let memory = try XCTUnwrap(result.memory)
            XCTAssertEqual(memory.plan, plan)
            XCTAssertEqual(memory.evictedTokens, 0)
            XCTAssertEqual(memory.knnEntries + memory.retrievalEntries, 0)
            XCTAssertTrue(result.chunks.isEmpty)
            XCTAssertEqual(result.merges.count, 1)

            let prompt = SummaryPrompts(options: options, tokenizer: session.tokenizer).memoryPrompt(text: document.text).prompt
            XCTAssertTrue(prompt.text.hasSuffix("\n\nSummarize the text above in two or three sentences.\nSummary:"), prompt.text)
            let ids = session.tokenizer.encode(prompt.text, addSpecialTokens: true)
            XCTAssertEqual(memory.tokensRead, ids.count)
            let generator = try session.makeGenerator(options: SamplingOptions(temperature: 0, maxTokens: 12))
            try generator.prefill(ids)
            var text = ""
            while let token = try generator.step() { text += token.text }
            text += generator.finish(reason: .maxTokens)
            XCTAssertEqual(result.summary, text.trimmingCharacters(in: .whitespacesAndNewlines), "\(strategy)")
            XCTAssertEqual(result.generatedTokens, generator.stats.generatedTokens)
        }
    }

    /// A story longer than the window: what leaves it goes to the kNN stores (stream) or the retrieval
    /// datastores (retrieval), one entry per token and KV head / layer; the summary is reproducible.
    func testMemoryStrategiesStoreWhatLeavesTheWindow() async throws {
        var reads: [SummaryProgress] = []
        let stream = SummaryOptions(strategy: .stream, length: .short, maxTokens: 4,
                                    memoryPlan: MemoryPlan(segmentLength: 32, xl: .init(memoryLength: 64), knn: .init(layers: [4], topK: 8)))
        let (first, _, session) = try await summarize(Self.story, stream) { reads.append($0) }
        let config = session.model.config
        let memory = try XCTUnwrap(first.memory)
        XCTAssertGreaterThan(memory.evictedTokens, 200)
        XCTAssertEqual(memory.knnEntries, memory.evictedTokens * config.kvHeadCount)
        XCTAssertEqual(memory.retrievalEntries, 0)
        XCTAssertEqual(reads.filter { $0.phase == .read }.count, (memory.documentPartTokens + 255) / 256)
        XCTAssertEqual(reads.last?.completed, reads.last?.total)
        let (again, _, _) = try await summarize(Self.story, stream)
        XCTAssertEqual(first.summary, again.summary)

        let retrieval = SummaryOptions(strategy: .retrieval, length: .short, maxTokens: 4,
                                       memoryPlan: MemoryPlan(segmentLength: 32, xl: .init(memoryLength: 64), retrieval: .init(layerBegin: 4, topK: 8)))
        let (result, _, _) = try await summarize(Self.story, retrieval)
        let stored = try XCTUnwrap(result.memory)
        XCTAssertEqual(stored.retrievalEntries, stored.evictedTokens * (config.layerCount - 4))
        XCTAssertEqual(stored.knnEntries, 0)
        XCTAssertLessThanOrEqual(result.generatedTokens, 4)
    }

    func testDefaultMemoryPlansFitTheModel() throws {
        let config = try session().model.config
        for strategy in [SummaryStrategy.retrieval, .stream] {
            let plan = try XCTUnwrap(Summarizer.defaultMemoryPlan(for: strategy, config: config))
            XCTAssertNoThrow(try plan.validate(for: ModelFacts(model: try session().model)), "\(strategy)")
            XCTAssertEqual(plan.segmentLength, strategy == .retrieval ? 256 : 128)
            XCTAssertEqual(plan.xl?.memoryLength, 256)
        }
        // retrieval reads in Unlimiformer's independent overlapping chunks, from the middle layer up.
        let retrieval = try XCTUnwrap(Summarizer.defaultMemoryPlan(for: .retrieval, config: config)?.retrieval)
        XCTAssertEqual(retrieval.encoding, .overlappingChunks)
        XCTAssertEqual(retrieval.chunkOverlap, 64)
        XCTAssertEqual(retrieval.layerBegin, config.layerCount / 2)
        // stream's kNN memory is bounded, so reading a novel costs the same per segment to the end.
        let knn = try XCTUnwrap(Summarizer.defaultMemoryPlan(for: .stream, config: config)?.knn)
        XCTAssertEqual(knn.capacity, Summarizer.streamKNNCapacity)
        XCTAssertEqual(knn.shardCount, 16)
        XCTAssertEqual(SummaryOptions().strategy, .retrieval, "retrieval is the default strategy")
        XCTAssertNil(Summarizer.defaultMemoryPlan(for: .hierarchical, config: config))
    }

    // MARK: - Chunking

    func testChunksTileTheTextWithinTheBudget() throws {
        let tokenizer = try session().tokenizer
        let count = { tokenizer.encode($0, addSpecialTokens: false).count }
        let novel = try String(contentsOf: Self.fixtures.appendingPathComponent("novels/alice_in_wonderland_pg11.txt"), encoding: .utf8)
        let text = String(novel.prefix(6000))
        for budget in [40, 100, 333] {
            let chunks = TextChunker(budget: budget, count: count).chunks(text)
            XCTAssertEqual(chunks.joined(), text, "budget \(budget)")
            for c in chunks { XCTAssertLessThanOrEqual(count(c), budget, "budget \(budget): \(c.prefix(40))") }
            XCTAssertGreaterThanOrEqual(chunks.count, count(text) / budget)
        }
        // With room for whole paragraphs and sentences, chunks end at a paragraph, line or sentence end.
        let paragraphs = TextChunker(budget: 333, count: count).chunks(text)
        for c in paragraphs.dropLast() {
            let end = c.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            XCTAssertTrue(end.hasSuffix("\n") || end.hasSuffix(".") || end.hasSuffix("”") || end.hasSuffix("?") || end.hasSuffix("!"),
                          "\(c.suffix(20).debugDescription)")
        }
        // A word longer than the budget is cut by characters; an empty text gives no chunks.
        let word = String(repeating: "abcdefghij", count: 60)
        let pieces = TextChunker(budget: 20, count: count).chunks(word)
        XCTAssertEqual(pieces.joined(), word)
        for p in pieces { XCTAssertLessThanOrEqual(count(p), 20) }
        XCTAssertEqual(TextChunker(budget: 20, count: count).chunks(""), [])
    }

    /// A cut text never encodes to more tokens than asked for, also when the cut falls inside
    /// multi-byte characters that the byte-fallback vocabulary spells byte by byte (a whole-novel
    /// hierarchical run with llama3-rope overflowed its 256-token context this way).
    func testFitNeverExceedsTheTokenBudget() throws {
        let session = try session()
        let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer, options: smallOptions)
        let text = "Caf\u{E9} \u{2019}quoted\u{2019} \u{65E5}\u{672C}\u{8A9E} \u{1F600}\u{1F600} na\u{EF}ve \u{2014} end " + String(repeating: "\u{2019}\u{4E2D}", count: 20)
        let total = summarizer.count(text)
        XCTAssertGreaterThan(total, 60)
        var shrunk = 0
        for budget in 0 ... total + 1 {
            let cut = summarizer.fit(text, tokens: budget)
            XCTAssertLessThanOrEqual(summarizer.count(cut), budget, "budget \(budget)")
            if budget >= total {
                XCTAssertEqual(cut, text, "budget \(budget)")
            } else {
                // The cut is the text's own beginning, and one more character would not fit.
                XCTAssertTrue(text.hasPrefix(cut), "budget \(budget): \(cut.debugDescription)")
                XCTAssertLessThan(cut.count, text.count, "budget \(budget)")
                let longer = String(text.prefix(cut.count + 1))
                XCTAssertGreaterThan(summarizer.count(longer), budget, "budget \(budget): \(cut.debugDescription)")
            }
            if summarizer.count(session.tokenizer.decode(Array(session.tokenizer.encode(text, addSpecialTokens: false).prefix(budget)),
                                                         skipSpecialTokens: false)) > budget { shrunk += 1 }
        }
        XCTAssertGreaterThan(shrunk, 0, "the text has cuts where decoding a prefix and encoding it again gives more tokens")
    }

    func testMergeGroupsCoverEverySummaryWithAtLeastTwoEach() {
        let parts = (0 ..< 7).map { PartSummary(level: 0, index: $0, title: "t\($0)", sourceTokens: 0, promptTokens: 0, generatedTokens: 0,
                                                summary: String(repeating: "w ", count: 10 + $0), stopReason: .maxTokens, seconds: 0) }
        for budget in [1, 30, 60, 1000] {
            let groups = Summarizer.group(parts, budget: budget) { $0.split(separator: " ").count }
            XCTAssertEqual(groups.first?.lowerBound, 0)
            XCTAssertEqual(groups.last?.upperBound, parts.count)
            for (a, b) in zip(groups, groups.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            for g in groups { XCTAssertGreaterThanOrEqual(g.count, 2, "budget \(budget): \(groups)") }
        }
    }
}
