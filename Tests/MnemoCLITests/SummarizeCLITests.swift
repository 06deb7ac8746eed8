import Foundation
import Mnemo
import XCTest

/// `mnemo summarize` end to end with stories260K: stdout, stderr, exit status, JSON shape, bad input.
final class SummarizeCLITests: XCTestCase {
    private let model = "Fixtures/models/stories260K/stories260K.bin"
    private let story = "Fixtures/documents/two_chapters_gutenberg.txt"
    /// Small budgets: the story is cut into windows and merged, quickly.
    private let small = ["--strategy", "hierarchical", "--length", "short", "--max-tokens", "16", "--chunk-tokens", "100"]

    private func assertOneLineError(_ result: CLIRunner.Result, mentions needles: [String],
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing on stdout", file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "one line (plus its newline): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("mnemo: error: "), result.stderr, file: file, line: line)
        for n in needles { XCTAssertTrue(result.stderr.contains(n), "\(result.stderr) should mention \(n)", file: file, line: line) }
    }

    func testSummaryOnStdoutProgressOnStderr() throws {
        let result = try CLIRunner.run(["summarize", story, "--model", model] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        XCTAssertTrue(result.stdout.hasSuffix("\n"))
        XCTAssertFalse(result.stdout.contains("[1/"), "progress stays off stdout")
        XCTAssertTrue(result.stderr.contains("2 chapter(s), Project Gutenberg header/footer removed"), result.stderr)
        XCTAssertTrue(result.stderr.contains("[1/"), result.stderr)
        XCTAssertTrue(result.stderr.contains("summarized CHAPTER I. The Red Ball (part 1/"), result.stderr)
        XCTAssertTrue(result.stderr.contains("generated final summary"), result.stderr)

        let quiet = try CLIRunner.run(["summarize", story, "--model", model, "--quiet"] + small)
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertEqual(quiet.stdout, result.stdout, "greedy decoding is deterministic")
    }

    /// `--json`: the summary, strategy, per-chapter summaries, token counts and timings; the same summary
    /// as the library gives with the same options.
    func testJSONOutputMatchesTheLibrary() async throws {
        let result = try CLIRunner.run(["summarize", story, "--model", model, "--json", "--quiet"] + small)
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["summary", "strategy", "file", "title", "chapters", "prompt", "chunk_summaries",
                                          "merge_summaries", "memory", "tokens", "timings", "peak_resident_bytes"])
        XCTAssertTrue(object["memory"] is NSNull, "hierarchical reads no memory")
        XCTAssertEqual(object["strategy"] as? String, "hierarchical")
        XCTAssertEqual(object["title"] as? String, "Two Small Days")
        XCTAssertEqual(object["chapters"] as? Int, 2)
        let prompt = try XCTUnwrap(object["prompt"] as? [String: Any])
        XCTAssertEqual(prompt["format"] as? String, "plain")
        let chunks = try XCTUnwrap(object["chunk_summaries"] as? [[String: Any]])
        let merges = try XCTUnwrap(object["merge_summaries"] as? [[String: Any]])
        XCTAssertGreaterThan(chunks.count, 2)
        XCTAssertEqual(Set(chunks[0].keys), ["level", "index", "title", "summary", "source_tokens", "prompt_tokens",
                                             "generated_tokens", "stop_reason", "seconds"])
        XCTAssertEqual(merges.last?["summary"] as? String, object["summary"] as? String)
        let tokens = try XCTUnwrap(object["tokens"] as? [String: Int])
        XCTAssertEqual(tokens["prompt"], (chunks + merges).reduce(0) { $0 + ($1["prompt_tokens"] as? Int ?? 0) })
        let timings = try XCTUnwrap(object["timings"] as? [String: Double])
        XCTAssertEqual(Set(timings.keys), ["load_seconds", "summarize_seconds", "total_seconds"])

        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        let document = try Document.load(from: CLIRunner.fixture("documents/two_chapters_gutenberg.txt"))
        let library = try await Summarizer(model: session.model, tokenizer: session.tokenizer,
                                           options: SummaryOptions(strategy: .hierarchical, length: .short, maxTokens: 16, chunkTokens: 100)).summarize(document)
        XCTAssertEqual(object["summary"] as? String, library.summary)
        XCTAssertEqual(chunks.map { $0["summary"] as? String }, library.chunks.map(\.summary))
        XCTAssertEqual(tokens["document"], library.documentTokens)
    }

    /// `--keep-boilerplate` keeps the Gutenberg header and footer in the text summarized.
    func testKeepBoilerplate() throws {
        func documentTokens(_ extra: [String]) throws -> Int {
            let r = try CLIRunner.run(["summarize", story, "--model", model, "--json", "--quiet", "--max-tokens", "4"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap((object["tokens"] as? [String: Int])?["document"])
        }
        XCTAssertGreaterThan(try documentTokens(["--keep-boilerplate"]), try documentTokens([]) + 50)
    }

    /// `--strategy stream|retrieval --plan`: read once through memory, then generate; `--json` reports the
    /// plan and what the memory holds.
    func testMemoryStrategiesWithAPlan() throws {
        let plans = [
            ("stream", #"{"segmentLength": 32, "xl": {"memoryLength": 64}, "knn": {"layers": [4], "topK": 8}}"#, "knn_entries"),
            ("retrieval", #"{"segmentLength": 32, "xl": {"memoryLength": 64}, "retrieval": {"layerBegin": 4, "topK": 8}}"#, "retrieval_entries"),
        ]
        for (strategy, json, storeKey) in plans {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-plan-\(UUID().uuidString).json")
            try json.write(to: url, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try CLIRunner.run(["summarize", story, "--model", model, "--strategy", strategy, "--plan", url.path,
                                       "--max-tokens", "4", "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("reading:"), r.stderr)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(object["strategy"] as? String, strategy)
            XCTAssertEqual((object["chunk_summaries"] as? [Any])?.count, 0)
            let memory = try XCTUnwrap(object["memory"] as? [String: Any])
            XCTAssertEqual((memory["plan"] as? [String: Any])?["segmentLength"] as? Int, 32)
            XCTAssertGreaterThan(memory["evicted_tokens"] as? Int ?? 0, 200)
            XCTAssertGreaterThan(memory[storeKey] as? Int ?? 0, 0)
        }
    }

    /// A tiny golden model (Fixtures/models/qwen2, random weights, 128-token context) given a ChatML chat
    /// template: prompts go through the template; the stream strategy reads past the context; the
    /// hierarchical strategy reports that the context is too small for its prompts.
    func testTinyModelWithAChatTemplate() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-qwen-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name),
                                                       withDestinationURL: CLIRunner.fixture("models/qwen2/\(name)"))
        }
        let templates = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: CLIRunner.fixture("chat_templates/templates.json")))
                                      as? [String: Any])["templates"] as? [[String: Any]]
        let chatml = try XCTUnwrap(templates?.first { $0["name"] as? String == "chatml-openhermes" }?["template"] as? String)
        let config: [String: Any] = ["bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "chat_template": chatml]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("tokenizer_config.json"))

        let args = ["summarize", story, "--model", folder.path, "--strategy", "stream", "--max-tokens", "6", "--json", "--quiet"]
        let first = try CLIRunner.run(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let prompt = try XCTUnwrap(object["prompt"] as? [String: Any])
        XCTAssertEqual(prompt["format"] as? String, "chat-template")
        XCTAssertEqual(prompt["template_family"] as? String, "chatml")
        let memory = try XCTUnwrap(object["memory"] as? [String: Any])
        XCTAssertGreaterThan(memory["tokens_read"] as? Int ?? 0, 128, "read past the model's context")
        XCTAssertGreaterThan(memory["knn_entries"] as? Int ?? 0, 0)
        let again = try CLIRunner.run(args)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["summary"] as? String,
                       object["summary"] as? String)

        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", folder.path, "--strategy", "hierarchical", "--max-tokens", "8", "--quiet"]),
                           mentions: ["the model's context (128 tokens) cannot hold the prompt"])
    }

    /// `--memory DIR`: the first run reads the book and saves its memory; a second question (another
    /// `--instruction`) loads it and reads only the request; asking the first question again from the
    /// loaded memory gives the summary of the run that read the book; another text is one error line.
    func testMemoryDirectoryIsReusedForASecondQuestion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-summ-memory-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let memory = folder.appendingPathComponent("story.memory").path
        func run(_ extra: [String]) throws -> [String: Any] {
            let r = try CLIRunner.run(["summarize", story, "--model", model, "--json", "--quiet", "--max-tokens", "8", "--memory", memory] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }
        for strategy in ["retrieval", "stream"] {
            try? FileManager.default.removeItem(atPath: memory)
            let first = try run(["--strategy", strategy])
            let firstMemory = try XCTUnwrap(first["memory"] as? [String: Any])
            XCTAssertEqual(firstMemory["source"] as? String, "saved", strategy)
            XCTAssertTrue(FileManager.default.fileExists(atPath: memory + "/manifest.json"), strategy)
            let other = try run(["--strategy", strategy, "--instruction", "Who is the main character?"])
            let otherMemory = try XCTUnwrap(other["memory"] as? [String: Any])
            XCTAssertEqual(otherMemory["source"] as? String, "loaded", strategy)
            XCTAssertEqual(otherMemory["document_part_tokens"] as? Int, firstMemory["document_part_tokens"] as? Int, strategy)
            XCTAssertEqual(otherMemory["retrieval_entries"] as? Int, firstMemory["retrieval_entries"] as? Int, strategy)
            let again = try run(["--strategy", strategy])
            XCTAssertEqual((again["memory"] as? [String: Any])?["source"] as? String, "loaded", strategy)
            XCTAssertEqual(again["summary"] as? String, first["summary"] as? String, "\(strategy): loaded memory == reading the book")
            let plain = try CLIRunner.run(["summarize", story, "--model", model, "--json", "--quiet", "--max-tokens", "8", "--strategy", strategy])
            XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])?["summary"] as? String,
                           first["summary"] as? String, "\(strategy): --memory does not change the summary")
        }
        // The stream snapshot is now there: another text, another plan, a foreign folder, hierarchical.
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/markdown_headings.md", "--model", model, "--strategy", "stream",
                                              "--quiet", "--memory", memory]),
                           mentions: ["story.memory", "holds the memory of another text"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--quiet", "--memory", memory]),
                           mentions: ["story.memory", "plan"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--quiet", "--memory", "Fixtures/documents"]),
                           mentions: ["Fixtures/documents", "is not a memory snapshot"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "hierarchical", "--chunk-tokens", "100",
                                              "--quiet", "--memory", memory]),
                           mentions: ["story.memory", "holds a retrieval/stream memory snapshot, not hierarchical chunk summaries"])
    }

    /// `hierarchical --memory DIR`: the first run saves its chunk summaries; a second question reuses them
    /// all and generates only the merges; the JSON says which.
    func testHierarchicalMemoryKeepsChunkSummaries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-summ-chunks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        func run(_ extra: [String]) throws -> [String: Any] {
            let r = try CLIRunner.run(["summarize", story, "--model", model, "--json", "--quiet", "--strategy", "hierarchical",
                                       "--chunk-tokens", "100", "--max-tokens", "8", "--memory", folder.path] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }
        let first = try run([])
        let chunks = try XCTUnwrap(first["chunk_summaries"] as? [[String: Any]])
        XCTAssertGreaterThan(chunks.count, 2)
        XCTAssertEqual(first["memory"] as? [String: Any] as NSDictionary?,
                       ["source": "saved", "reused_chunks": 0, "planned_chunks": chunks.count] as NSDictionary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("chunk-summaries.json").path))
        let second = try run(["--instruction", "Who is in the story?"])
        XCTAssertEqual(second["memory"] as? [String: Any] as NSDictionary?,
                       ["source": "loaded", "reused_chunks": chunks.count, "planned_chunks": chunks.count] as NSDictionary)
        XCTAssertEqual((second["chunk_summaries"] as? [[String: Any]])?.map { $0["summary"] as? String }, chunks.map { $0["summary"] as? String })
        let generated = (second["tokens"] as? [String: Any])?["generated"] as? Int ?? .max
        let merged = (second["merge_summaries"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["generated_tokens"] as? Int ?? 0) }
        XCTAssertEqual(generated, merged, "only the merges were generated")
        // Other chunk settings: one line naming the directory.
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--quiet", "--strategy", "hierarchical",
                                              "--chunk-tokens", "120", "--max-tokens", "8", "--memory", folder.path]),
                           mentions: [folder.lastPathComponent, "holds the chunk summaries of another text or other chunk settings"])
    }

    func testBadDocumentsGiveOneClearLine() throws {
        let missing = try CLIRunner.run(["summarize", "Fixtures/documents/nope.txt", "--model", model])
        assertOneLineError(missing, mentions: ["nope.txt", "file not found"])
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/empty.txt", "--model", model]),
                           mentions: ["empty.txt", "the file is empty"])
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/binary.bin", "--model", model]),
                           mentions: ["binary.bin", "looks binary"])
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/invalid_utf8.txt", "--model", model]),
                           mentions: ["invalid_utf8.txt", "invalid UTF-8 at byte offset"])
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/utf16le.txt", "--model", model]),
                           mentions: ["utf16le.txt", "UTF-16LE"])
        assertOneLineError(try CLIRunner.run(["summarize", "Fixtures/documents/gutenberg_header_only.txt", "--model", model]),
                           mentions: ["no text left after removing the Project Gutenberg header"])
    }

    func testBadOptionsGiveOneClearLine() throws {
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "hierarchical", "--plan", "Fixtures/plans/xl-only.json"]),
                           mentions: ["--plan applies to --strategy retrieval or stream"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "stream",
                                              "--plan", "Fixtures/plans/xl-only.json", "--quiet"]),
                           mentions: ["segmentLength", "512"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "stream", "--plan", "nope.json"]),
                           mentions: ["nope.json"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "magic"]),
                           mentions: ["magic", "hierarchical", "retrieval", "stream"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--length", "huge"]),
                           mentions: ["huge", "short", "medium", "long"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--max-tokens", "0"]),
                           mentions: ["--max-tokens must be >= 1, got 0"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--chunk-tokens", "3"]),
                           mentions: ["--chunk-tokens must be >= 16, got 3"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", "Fixtures/models/nope.bin"]),
                           mentions: ["nope.bin"])
        assertOneLineError(try CLIRunner.run(["summarize", story, "--model", model, "--strategy", "hierarchical", "--max-tokens", "500", "--quiet"]),
                           mentions: ["context (512 tokens) cannot hold"])
    }
}
