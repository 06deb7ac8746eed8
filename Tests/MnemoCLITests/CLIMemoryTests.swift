import Foundation
import Mnemo
import XCTest

/// End-to-end: `mnemo index` saves a document's memory, `mnemo generate --memory` continues it.
final class CLIMemoryTests: XCTestCase {
    private let modelPath = "Fixtures/models/stories260K/stories260K.bin"
    private let planJSON = #"{"segmentLength": 32, "xl": {"memoryLength": 32}, "knn": {"layers": [2], "topK": 8}}"#
    private let text = String(repeating: "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ", count: 5)

    private func workspace() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-cli-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try Data(text.utf8).write(to: url.appendingPathComponent("doc.txt"))
        try Data(planJSON.utf8).write(to: url.appendingPathComponent("plan.json"))
        return url
    }

    private func assertOneLineError(_ result: CLIRunner.Result, mentions needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing on stdout", file: file, line: line)
        let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("mnemo: error: ") }
        XCTAssertEqual(errorLines.count, 1, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.hasSuffix("\n") && result.stderr.split(separator: "\n").last?.hasPrefix("mnemo: error: ") == true,
                      "the error is the last line: \(result.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(result.stderr.contains(needle), "\(result.stderr) should mention \(needle)", file: file, line: line)
        }
    }

    /// index writes a snapshot and one JSON line; generate --memory continues the document exactly
    /// as the library does when it reads all but the last token and then continues with it.
    func testIndexThenGenerateWithMemoryMatchesTheLibrary() throws {
        let dir = try workspace()
        let out = dir.appendingPathComponent("doc.memory").path
        let index = try CLIRunner.run(["index", dir.appendingPathComponent("doc.txt").path, "--model", modelPath,
                                       "--plan", dir.appendingPathComponent("plan.json").path, "--out", out, "--json"])
        XCTAssertEqual(index.status, 0, index.stderr)
        XCTAssertTrue(index.stderr.contains("index: saving the memory to \(out)"), index.stderr)
        XCTAssertEqual(index.stdout.split(separator: "\n").count, 1, index.stdout)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(index.stdout.utf8)) as? [String: Any])
        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        // index reads the normalized document (here: the trailing space dropped).
        let tokens = session.encode(try Document.load(from: dir.appendingPathComponent("doc.txt")).text)
        XCTAssertEqual(summary["tokens"] as? Int, tokens.count)
        XCTAssertEqual(summary["tokens_read"] as? Int, tokens.count - 1)
        XCTAssertGreaterThan(try XCTUnwrap(summary["knn_entries"] as? Int), 0)
        XCTAssertEqual(summary["text_checksum"] as? String, MemorySnapshot.textChecksum(of: Data(text.utf8)))
        let manifest = try MemorySnapshot.readManifest(at: URL(fileURLWithPath: out))
        XCTAssertEqual(manifest.pendingTokens, [tokens.last!])
        XCTAssertEqual(manifest.plan, try MemoryPlan.decode(from: Data(planJSON.utf8)))

        let generate = try CLIRunner.run(["generate", "--memory", out, "--model", modelPath, "--temperature", "0",
                                          "--max-tokens", "12", "--ignore-eos", "--json"])
        XCTAssertEqual(generate.status, 0, generate.stderr)
        XCTAssertEqual(generate.stderr, "")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(generate.stdout.utf8)) as? [String: Any])
        let ids = try XCTUnwrap(object["tokens"] as? [Int])
        let logprobs = try XCTUnwrap(object["logprobs"] as? [Double])
        XCTAssertEqual(object["memory_tokens"] as? Int, tokens.count - 1)

        let reader = try MemoryModel(model: session.model, plan: manifest.plan)
        let state = reader.makeMemoryState()
        _ = try reader.forward(Array(tokens.dropLast()), state: state, allLogits: false)
        let generator = try Generator(model: reader, tokenizer: session.tokenizer,
                                      options: SamplingOptions(temperature: 0, maxTokens: 12, stopAtEndOfSequence: false), continuing: state)
        try generator.prefill(continuing: [tokens.last!])
        var expected: [GeneratedToken] = []
        while let token = try generator.step() { expected.append(token) }
        XCTAssertEqual(ids.count, 12)
        XCTAssertEqual(ids, expected.map(\.id))
        XCTAssertEqual(logprobs.count, expected.count)
        for (cli, library) in zip(logprobs, expected.map(\.logprob)) {
            XCTAssertEqual(cli, library, accuracy: 1e-12, "JSON text round trip of the same Double")
        }

        // Text mode with a prompt appended to the document.
        let text = try CLIRunner.run(["generate", "--memory", out, "--model", modelPath, "--temperature", "0",
                                      "--max-tokens", "8", "--prompt", " Lily", "--verbose"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertFalse(text.stdout.isEmpty)
        XCTAssertTrue(text.stderr.contains("memory: \(tokens.count - 1) tokens read from"), text.stderr)
        XCTAssertTrue(text.stderr.contains("prompt: 3 tokens"), "held-back token + ' Lily': \(text.stderr)")

        // The plain summary line.
        let plain = try CLIRunner.run(["index", dir.appendingPathComponent("doc.txt").path, "--model", modelPath,
                                       "--plan", dir.appendingPathComponent("plan.json").path, "--out", out])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.hasPrefix("indexed \(dir.appendingPathComponent("doc.txt").path): \(tokens.count) tokens in "), plain.stdout)
        XCTAssertTrue(plain.stdout.hasSuffix("bytes)\n"), plain.stdout)
    }

    func testMemoryOfAnotherModelIsOneLineError() throws {
        let dir = try workspace()
        let out = dir.appendingPathComponent("m").path
        let index = try CLIRunner.run(["index", dir.appendingPathComponent("doc.txt").path, "--model", modelPath,
                                       "--plan", dir.appendingPathComponent("plan.json").path, "--out", out])
        XCTAssertEqual(index.status, 0, index.stderr)
        let result = try CLIRunner.run(["generate", "--memory", out, "--model", "Fixtures/models/llama-gqa", "--max-tokens", "4"])
        assertOneLineError(result, mentions: ["memory snapshot \(out) was made with another model: ", "stories260K.bin", "llama-gqa"])

        // A truncated snapshot file, and a directory that is not there.
        let window = URL(fileURLWithPath: out).appendingPathComponent("window.bin")
        let bytes = try Data(contentsOf: window)
        try bytes.prefix(bytes.count - 3).write(to: window)
        assertOneLineError(try CLIRunner.run(["generate", "--memory", out, "--model", modelPath]),
                           mentions: ["corrupt memory snapshot file \(window.path): expected \(bytes.count) bytes, found \(bytes.count - 3)"])
        assertOneLineError(try CLIRunner.run(["generate", "--memory", dir.appendingPathComponent("none").path, "--model", modelPath]),
                           mentions: ["none: no such snapshot directory"])
    }

    func testIndexBadInputsAreOneLineErrors() throws {
        let dir = try workspace()
        let doc = dir.appendingPathComponent("doc.txt").path, plan = dir.appendingPathComponent("plan.json").path
        let out = dir.appendingPathComponent("m").path
        let invalid = dir.appendingPathComponent("bad.txt")
        try Data([0x4F, 0x6E, 0x63, 0x65, 0xC3, 0x28, 0x20, 0x61]).write(to: invalid)
        assertOneLineError(try CLIRunner.run(["index", invalid.path, "--model", modelPath, "--plan", plan, "--out", out]),
                           mentions: ["bad.txt: invalid UTF-8 at byte offset 4"])
        let empty = dir.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        assertOneLineError(try CLIRunner.run(["index", empty.path, "--model", modelPath, "--plan", plan, "--out", out]),
                           mentions: ["empty.txt: the file is empty"])
        assertOneLineError(try CLIRunner.run(["index", doc, "--model", modelPath, "--plan", dir.appendingPathComponent("no-plan.json").path, "--out", out]),
                           mentions: ["no-plan.json"])
        let badPlan = dir.appendingPathComponent("bad-plan.json")
        try Data(#"{"segmentLength": 32, "knn": {"layers": [99]}}"#.utf8).write(to: badPlan)
        assertOneLineError(try CLIRunner.run(["index", doc, "--model", modelPath, "--plan", badPlan.path, "--out", out]),
                           mentions: ["knn.layers[0]", "99"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing saved after an error")
        let help = try CLIRunner.run(["index", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--out"), help.stdout)
    }

    /// `bench index --index-dir` saves each built index in FAISS's format and a later run searches
    /// the saved one (same recall, no build figures, file untouched); a damaged file is a one-line
    /// error naming it.
    func testBenchIndexSavesAndReloadsBuiltIndexes() throws {
        let dir = try workspace()
        let indexes = dir.appendingPathComponent("indexes")
        let arguments = ["bench", "index", "--dim", "8", "--count", "600", "--queries", "20", "--k", "5", "--repeat", "1",
                         "--types", "HNSW32;Flat", "--ef-search", "16", "--threads", "1", "--json",
                         "--vectors-dir", dir.path, "--index-dir", indexes.path]
        func lines(_ result: CLIRunner.Result) throws -> [[String: Any]] {
            XCTAssertEqual(result.status, 0, result.stderr)
            return try result.stdout.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }
        let built = try lines(CLIRunner.run(arguments))
        XCTAssertEqual(built.map { $0["type"] as? String }, ["HNSW32", "Flat"])
        for line in built {
            XCTAssertEqual(line["loaded"] as? Bool, false)
            XCTAssertNotNil(line["add_cpu_us"] as? Double)
        }
        XCTAssertEqual(built[1]["recall"] as? Double, 1)
        let hnsw = indexes.appendingPathComponent("index_random_8_600_s1_HNSW32.faiss")
        let saved = try Data(contentsOf: hnsw)
        let savedDate = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: hnsw.path)[.modificationDate] as? Date)
        XCTAssertTrue(FileManager.default.fileExists(atPath: indexes.appendingPathComponent("index_random_8_600_s1_Flat.faiss").path))

        let loaded = try lines(CLIRunner.run(arguments))
        XCTAssertEqual(loaded.map { $0["recall"] as? Double }, built.map { $0["recall"] as? Double })
        for line in loaded {
            XCTAssertEqual(line["loaded"] as? Bool, true)
            XCTAssertTrue(line["add_cpu_us"] is NSNull && line["train_s"] is NSNull, "\(line)")
        }
        // Rebuilding writes identical bytes (one-thread HNSW is deterministic), so the date tells.
        XCTAssertEqual(try Data(contentsOf: hnsw), saved)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: hnsw.path)[.modificationDate] as? Date, savedDate,
                       "a loaded index is not written again")

        // --no-recall skips the exact search: recall is null, the search is still timed.
        let unchecked = try lines(CLIRunner.run(arguments + ["--no-recall"]))
        XCTAssertEqual(unchecked.map { $0["type"] as? String }, ["HNSW32", "Flat"])
        for line in unchecked {
            XCTAssertTrue(line["recall"] is NSNull, "\(line)")
            XCTAssertEqual(line["loaded"] as? Bool, true)
            XCTAssertGreaterThan(try XCTUnwrap(line["search_per_s"] as? Double), 0)
        }
        let table = try CLIRunner.run(arguments.filter { $0 != "--json" } + ["--no-recall"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let rows = table.stdout.split(separator: "\n").filter { $0.hasPrefix("8 ") }
        XCTAssertEqual(rows.count, 2, table.stdout)
        for row in rows {  // dim count type param "loaded" "-" search_q/s recall add_cpu_us search_cpu_us
            let fields = row.split(separator: " ")
            XCTAssertEqual(fields.count, 10, String(row))
            XCTAssertEqual(fields.count == 10 ? [fields[4], fields[7]] : [], ["loaded", "-"], String(row))
        }

        try saved.prefix(saved.count / 2).write(to: hnsw)
        assertOneLineError(try CLIRunner.run(arguments), mentions: [hnsw.lastPathComponent])
        let empty = indexes.appendingPathComponent("index_random_8_600_s1_Flat.faiss")
        try Data().write(to: empty)
        assertOneLineError(try CLIRunner.run(arguments.map { $0 == "HNSW32;Flat" ? "Flat" : $0 }), mentions: [empty.lastPathComponent])
    }
}
