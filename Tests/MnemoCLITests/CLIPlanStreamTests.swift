import Foundation
import Mnemo
import XCTest

/// `mnemo score` / `generate` with a memory plan, and `mnemo stream`, run as the built binary.
final class CLIPlanStreamTests: XCTestCase {
    private let modelPath = "Fixtures/models/stories260K/stories260K.bin"

    /// About 300 tok512 tokens: shorter than the XL memory used below, so XL equals full attention.
    static let story = """
        Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
        One day, she saw a big red ball under a tree. She ran to the ball and picked it up.
        "Can I play with you?" asked a small dog. Lily smiled and said, "Yes, let's play together!"
        They played all day. The sun was warm and the sky was blue. Lily threw the ball and the dog ran fast.
        When it was time to go home, Lily was sad. The dog gave her a big hug.
        Lily went home and told her mom about the dog. Her mom said, "You can play with him again tomorrow."
        The next day, Lily went back to the park. The dog was there, waiting for her under the tree.
        They were best friends forever, and they played in the park every day after that.
        """

    private var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-cli-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: temporary)
    }

    private func write(_ text: String, _ name: String) throws -> String {
        let url = temporary.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func assertOneLineError(_ result: CLIRunner.Result, mentions needles: [String],
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing on stdout", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("mnemo: error: "), result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1, "one line: \(result.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(result.stderr.contains(needle), "\(result.stderr) should mention \(needle)", file: file, line: line)
        }
    }

    private func scoreJSON(_ extra: [String]) throws -> (tokens: [Int], logprobs: [Double?], nll: Double) {
        let result = try CLIRunner.run(["score", "--model", modelPath, "--text", Self.story, "--json"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let logprobs = try XCTUnwrap(object["logprobs"] as? [Any]).map { ($0 as? NSNumber)?.doubleValue }
        return (try XCTUnwrap(object["tokens"] as? [Int]), logprobs, try XCTUnwrap((object["nll"] as? NSNumber)?.doubleValue))
    }

    /// Acceptance point of issue #5: XL memory at least the document's length gives the logprobs
    /// of the plain model, by flags and by plan file.
    func testScoreWithXLPlanEqualsPlainScore() throws {
        let plain = try scoreJSON([])
        XCTAssertGreaterThan(plain.tokens.count, 200)
        XCTAssertLessThanOrEqual(plain.tokens.count, 448)
        let planFile = try write(#"{"segmentLength": 32, "xl": {"memoryLength": 448}}"#, "xl.json")
        for extra in [["--segment", "64", "--xl-memory", "448"], ["--plan", planFile], ["--plan", planFile, "--segment", "64"]] {
            let memory = try scoreJSON(extra)
            XCTAssertEqual(memory.tokens, plain.tokens, "\(extra)")
            XCTAssertNil(memory.logprobs[0])
            var worst = 0.0
            for i in 1 ..< plain.tokens.count {
                worst = max(worst, abs(try XCTUnwrap(memory.logprobs[i]) - XCTUnwrap(plain.logprobs[i])))
            }
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(extra): largest |Δ logprob| \(worst)")
            XCTAssertEqual(memory.nll, plain.nll, accuracy: 1e-4)
        }
    }

    func testGenerateWithXLPlanEqualsPlainGeneration() throws {
        let arguments = ["generate", "--model", modelPath, "--max-tokens", "60", "--temperature", "0"]
        let plain = try CLIRunner.run(arguments)
        let memory = try CLIRunner.run(arguments + ["--segment", "16", "--xl-memory", "448"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(memory.status, 0, memory.stderr)
        XCTAssertGreaterThan(plain.stdout.count, 100)
        XCTAssertEqual(memory.stdout, plain.stdout)
    }

    func testBadPlansAndFlagsAreOneLineErrors() throws {
        let score = ["score", "--model", modelPath, "--text", "Once upon a time"]
        assertOneLineError(try CLIRunner.run(score + ["--plan", "Fixtures/no-such-plan.json"]), mentions: ["Fixtures/no-such-plan.json"])
        let notJSON = try write("{segmentLength: 64", "bad.json")
        assertOneLineError(try CLIRunner.run(score + ["--plan", notJSON]), mentions: [notJSON, "not valid JSON"])
        let typo = try write(#"{"segmentLength": 64, "xl": {"memoryLenght": 64}}"#, "typo.json")
        assertOneLineError(try CLIRunner.run(score + ["--plan", typo]), mentions: [typo, "xl.memoryLenght", "unknown key"])
        let overridden = try write(#"{"segmentLength": 64}"#, "ok.json")
        assertOneLineError(try CLIRunner.run(score + ["--plan", overridden, "--segment", "0"]), mentions: ["segmentLength = 0"])
        assertOneLineError(try CLIRunner.run(score + ["--segment", "64", "--xl-memory", "10000"]), mentions: ["xl.memoryLength = 10000"])
        assertOneLineError(try CLIRunner.run(score + ["--segment", "600", "--knn-layers", "9"]),
                           mentions: ["segmentLength = 600", "knn.layers[0] = 9"])
        assertOneLineError(try CLIRunner.run(score + ["--segment", "64", "--knn-top-k", "4"]), mentions: ["--knn-top-k"])
        assertOneLineError(try CLIRunner.run(score + ["--segment", "64", "--knn-layers", "2-x"]), mentions: ["--knn-layers", "2-x"])
        assertOneLineError(try CLIRunner.run(score + ["--xl-memory", "64"]), mentions: ["--segment"])
        assertOneLineError(try CLIRunner.run(score + ["--segment", "64", "--stride", "8"]), mentions: ["--stride"])
        assertOneLineError(try CLIRunner.run(["generate", "--model", modelPath, "--segment", "64", "--memory-tokens", "2"]),
                           mentions: ["memoryTokens.tensor"])
    }

    // MARK: - stream

    private func jsonLines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    func testStreamJSONLinesParseAndCoverTheDocument() throws {
        let text = Array(repeating: Self.story, count: 3).joined(separator: "\n\n")
        let path = try write(text, "story.txt")
        let result = try CLIRunner.run(["stream", path, "--model", modelPath, "--segment", "128", "--xl-memory", "128",
                                        "--knn-layers", "1", "--knn-top-k", "8", "--json", "--with-tokens", "--progress-every", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try jsonLines(result.stdout)
        let segments = lines.dropLast()
        let summary = try XCTUnwrap(lines.last)
        XCTAssertEqual(summary["type"] as? String, "summary")
        XCTAssertEqual(summary["stopped"] as? String, "end")
        let tokens = segments.flatMap { ($0["tokens"] as? [Int]) ?? [] }
        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        XCTAssertEqual(tokens, session.encode(try Document.load(from: URL(fileURLWithPath: path)).text))
        XCTAssertEqual(summary["tokens"] as? Int, tokens.count)
        XCTAssertEqual(summary["segments"] as? Int, segments.count)
        XCTAssertEqual(summary["scored_tokens"] as? Int, tokens.count - 1)
        var nllSum = 0.0
        for (i, segment) in segments.enumerated() {
            XCTAssertEqual(segment["type"] as? String, "segment")
            XCTAssertEqual(segment["index"] as? Int, i)
            XCTAssertEqual(segment["start"] as? Int, 128 * i)
            let evicted = 128 * max(0, i - 1)
            XCTAssertEqual(segment["evicted_tokens"] as? Int, evicted)
            XCTAssertEqual(segment["knn_entries"] as? Int, evicted * 4, "4 KV heads, one kNN layer")
            XCTAssertEqual((segment["retrieved"] as? Int).map { $0 > 0 }, evicted > 0)
            let nll = try XCTUnwrap((segment["nll"] as? NSNumber)?.doubleValue)
            nllSum += nll * Double(try XCTUnwrap(segment["scored_tokens"] as? Int))
        }
        XCTAssertEqual(try XCTUnwrap((summary["nll"] as? NSNumber)?.doubleValue), nllSum / Double(tokens.count - 1), accuracy: 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(summary["peak_resident_bytes"] as? Int), 1_000_000)
        XCTAssertNotNil(summary["segment_ms_first_tenth"] as? NSNumber)
        // Standard error is not a terminal here: a plain line every 2 segments.
        let progress = result.stderr.split(separator: "\n")
        XCTAssertEqual(progress.count, segments.count / 2, result.stderr)
        XCTAssertTrue(progress.allSatisfy { $0.hasPrefix("mnemo stream: segment ") }, result.stderr)
    }

    func testStreamTableSummaryAndQuiet() throws {
        let path = try write(Self.story, "story.txt")
        let result = try CLIRunner.run(["stream", path, "--model", modelPath, "--segment", "64", "--xl-memory", "64", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("document: \(path)"), result.stdout)
        XCTAssertTrue(lines[1].hasPrefix("reading: memory plan {"), result.stdout)
        XCTAssertTrue(lines[2].contains("nll") && lines[2].contains("retrieved"), result.stdout)
        XCTAssertTrue(lines[3].hasPrefix("      0  0..<64"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\ntokens: "), result.stdout)
        XCTAssertTrue(result.stdout.contains("tokens/s"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\npeak resident memory: "), result.stdout)
    }

    /// Full attention reads until the context is full; its segments equal XL's over the same tokens.
    func testStreamFullAttentionStopsAtTheContextAndMatchesXL() throws {
        let path = try write(Array(repeating: Self.story, count: 3).joined(separator: "\n"), "story.txt")
        let full = try CLIRunner.run(["stream", path, "--model", modelPath, "--full-attention", "--segment", "200", "--json"])
        XCTAssertEqual(full.status, 0, full.stderr)
        XCTAssertTrue(full.stderr.contains("context full at 400 tokens"), full.stderr)
        let fullLines = try jsonLines(full.stdout)
        XCTAssertEqual(fullLines.count, 3)
        XCTAssertEqual(fullLines.last?["stopped"] as? String, "contextFull")
        let xl = try jsonLines(try CLIRunner.run(["stream", path, "--model", modelPath, "--segment", "200", "--xl-memory", "312",
                                                  "--json", "--max-tokens", "400"]).stdout)
        XCTAssertEqual(xl.last?["stopped"] as? String, "maxTokens")
        for i in 0 ..< 2 {
            XCTAssertEqual(try XCTUnwrap((xl[i]["nll"] as? NSNumber)?.doubleValue),
                           try XCTUnwrap((fullLines[i]["nll"] as? NSNumber)?.doubleValue), accuracy: 1e-4, "segment \(i)")
        }
    }

    func testStreamInputErrorsAreOneLine() throws {
        let stream = ["stream", "--model", modelPath, "--segment", "64"]
        assertOneLineError(try CLIRunner.run(stream + ["Fixtures/documents/empty.txt"]), mentions: ["empty.txt", "empty"])
        assertOneLineError(try CLIRunner.run(stream + ["Fixtures/documents/invalid_utf8.txt"]), mentions: ["invalid_utf8.txt", "invalid UTF-8"])
        assertOneLineError(try CLIRunner.run(stream + ["Fixtures/documents/utf16le.txt"]), mentions: ["utf16le.txt", "UTF-16LE"])
        assertOneLineError(try CLIRunner.run(stream + ["Fixtures/no-such-document.txt"]), mentions: ["no-such-document.txt"])
        let path = try write(Self.story, "story.txt")
        assertOneLineError(try CLIRunner.run(["stream", path, "--model", modelPath]), mentions: ["memory plan"])
        assertOneLineError(try CLIRunner.run(["stream", path, "--model", modelPath, "--full-attention"]), mentions: ["--segment"])
        assertOneLineError(try CLIRunner.run(["stream", path, "--model", modelPath, "--full-attention", "--segment", "64", "--xl-memory", "64"]),
                           mentions: ["--xl-memory"])
        assertOneLineError(try CLIRunner.run(stream + [path, "--context-limit", "1000"]), mentions: ["--context-limit"])
    }

    /// A document with a BOM and CRLF line ends is read as its normalized text.
    func testStreamNormalizesBOMAndCRLF() throws {
        let result = try CLIRunner.run(["stream", "Fixtures/documents/bom_crlf.txt", "--model", modelPath, "--segment", "32",
                                        "--json", "--with-tokens"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try jsonLines(result.stdout)
        let tokens = lines.dropLast().flatMap { ($0["tokens"] as? [Int]) ?? [] }
        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        let text = try Document.load(from: CLIRunner.fixture("documents/bom_crlf.txt")).text
        XCTAssertFalse(text.contains("\r"))
        XCTAssertEqual(tokens, session.encode(text))
    }
}
