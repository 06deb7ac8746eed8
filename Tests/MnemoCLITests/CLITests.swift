import Foundation
import Mnemo
import XCTest

/// End-to-end: run the built `mnemo` binary and check standard output, standard error and the
/// exit status.
final class CLITests: XCTestCase {
    private let modelPath = "Fixtures/models/stories260K/stories260K.bin"

    /// The greedy sample that llama2.c's `run.c` printed for stories260K (from llama2.c's
    /// `doc/stories260K.md`, copied as Fixtures/models/stories260K/REFERENCE_stories260K.md).
    private func referenceGreedyText() throws -> String {
        let markdown = try String(contentsOf: CLIRunner.fixture("models/stories260K/REFERENCE_stories260K.md"), encoding: .utf8)
        let command = "$ ./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0\n"
        let start = try XCTUnwrap(markdown.range(of: command))
        let end = try XCTUnwrap(markdown.range(of: "\n```", range: start.upperBound ..< markdown.endIndex))
        return String(markdown[start.upperBound ..< end.lowerBound])
    }

    private func assertOneLineError(_ result: CLIRunner.Result, mentions needle: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "nothing on stdout", file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "one line (plus its newline): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("mnemo: error: "), result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(needle), "\(result.stderr) should mention \(needle)", file: file, line: line)
    }

    func testReadmeDefaultCommandPrintsTheLlama2cGreedySample() throws {
        let result = try CLIRunner.run(["generate", "--model", modelPath, "--max-tokens", "64", "--temperature", "0"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let reference = try referenceGreedyText()
        // llama2.c strips the space SentencePiece puts before the first word after BOS.
        let output = String(result.stdout.drop { $0 == " " })
        XCTAssertTrue(output.hasPrefix("Once upon a time, there was a little girl named Lily."), output)
        XCTAssertGreaterThan(output.count, 150, "64 tokens of text")
        XCTAssertTrue(reference.hasPrefix(output), "output is a prefix of llama2.c's greedy sample:\n\(output)")
    }

    func testScoreJSONShapeAndAgreementWithTheLibrary() throws {
        let text = "Once upon a time, there was a little girl named Lily."
        let result = try CLIRunner.run(["score", "--model", modelPath, "--text", text, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix(#"{"tokens": ["#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#"], "logprobs": [null, "#), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("}\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["tokens", "logprobs", "nll", "perplexity"])
        let tokens = try XCTUnwrap(object["tokens"] as? [Int])
        let logprobs = try XCTUnwrap(object["logprobs"] as? [Any])
        XCTAssertEqual(tokens.count, logprobs.count)
        XCTAssertTrue(logprobs[0] is NSNull)

        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        let library = try session.score(text: text)
        XCTAssertEqual(tokens, library.tokens)
        for i in 1 ..< tokens.count {
            let cli = try XCTUnwrap((logprobs[i] as? NSNumber)?.doubleValue)
            XCTAssertEqual(cli, try XCTUnwrap(library.logprobs[i]), accuracy: 1e-12, "token \(i)")
        }
        XCTAssertEqual(try XCTUnwrap((object["nll"] as? NSNumber)?.doubleValue), library.nll, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap((object["perplexity"] as? NSNumber)?.doubleValue), library.perplexity, accuracy: 1e-9)
        // The greedy sample is what the model finds likely: a clearly low perplexity per token.
        XCTAssertLessThan(library.perplexity, 10)
    }

    func testScoreTableListsTokensAndTotals() throws {
        let result = try CLIRunner.run(["score", "--model", modelPath, "--text", "Once upon a time"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("logprob") ?? false)
        XCTAssertTrue(lines.last?.hasPrefix("tokens: ") ?? false, result.stdout)
        XCTAssertTrue(result.stdout.contains("perplexity: "))
    }

    func testMissingModelIsOneLineError() throws {
        let result = try CLIRunner.run(["generate", "--model", "Fixtures/no-such-model.bin", "--prompt", "hi"])
        assertOneLineError(result, mentions: "Fixtures/no-such-model.bin")
    }

    func testBadOptionValueIsOneLineErrorNamingTheValue() throws {
        let result = try CLIRunner.run(["generate", "--model", modelPath, "--top-p", "1.5"])
        assertOneLineError(result, mentions: "--top-p must be in (0, 1], got 1.5")
        let notANumber = try CLIRunner.run(["generate", "--model", modelPath, "--temperature", "warm"])
        assertOneLineError(notANumber, mentions: "warm")
        let threads = try CLIRunner.run(["bench", "--model", modelPath, "--threads", "0"])
        assertOneLineError(threads, mentions: "--threads must be >= 1, got 0")
        let indexThreads = try CLIRunner.run(["bench", "index", "--threads", "0"])
        assertOneLineError(indexThreads, mentions: "--threads must be >= 1, got 0")
    }

    func testUnknownModelFileIsOneLineError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-not-a-model-\(UUID().uuidString).bin")
        try Data("this is not a model".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try CLIRunner.run(["inspect", url.path])
        assertOneLineError(result, mentions: url.lastPathComponent)
        let generate = try CLIRunner.run(["generate", "--model", url.path])
        assertOneLineError(generate, mentions: url.lastPathComponent)
    }

    func testTextFileErrorsNameFileAndOffset() throws {
        let folder = FileManager.default.temporaryDirectory
        let bad = folder.appendingPathComponent("mnemo-bad-\(UUID().uuidString).txt")
        let empty = folder.appendingPathComponent("mnemo-empty-\(UUID().uuidString).txt")
        try Data([0x4F, 0x6E, 0x63, 0x65, 0xE2, 0x28]).write(to: bad)
        try Data().write(to: empty)
        defer {
            try? FileManager.default.removeItem(at: bad)
            try? FileManager.default.removeItem(at: empty)
        }
        assertOneLineError(try CLIRunner.run(["generate", "--model", modelPath, "--prompt-file", bad.path]),
                           mentions: "\(bad.path): invalid UTF-8 at byte offset 4")
        assertOneLineError(try CLIRunner.run(["score", "--model", modelPath, "--file", empty.path]),
                           mentions: "\(empty.path): file is empty")
    }

    func testInspectJSONDescribesStories260K() throws {
        let result = try CLIRunner.run(["inspect", modelPath, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        // Values from the training command in REFERENCE_stories260K.md.
        XCTAssertEqual(object["architecture"] as? String, "llama")
        XCTAssertEqual(object["layers"] as? Int, 5)
        XCTAssertEqual(object["hidden_size"] as? Int, 64)
        XCTAssertEqual(object["heads"] as? Int, 8)
        XCTAssertEqual(object["kv_heads"] as? Int, 4)
        XCTAssertEqual(object["vocabulary_size"] as? Int, 512)
        XCTAssertEqual(object["context_length"] as? Int, 512)
        XCTAssertNotNil(object["rope"] as? [String: Any])
        let text = try CLIRunner.run(["inspect", modelPath])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.contains("architecture: llama"), text.stdout)
    }

    func testGenerateJSONAndSeededSamplingAreReproducible() throws {
        let arguments = ["generate", "--model", modelPath, "--prompt", "Once upon a time", "--max-tokens", "24",
                         "--temperature", "1", "--top-p", "0.9", "--seed", "133742", "--json"]
        let first = try CLIRunner.run(arguments)
        let second = try CLIRunner.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        let a = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let b = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(a["tokens"] as? [Int], b["tokens"] as? [Int])
        XCTAssertEqual(a["text"] as? String, b["text"] as? String)
        XCTAssertEqual((a["tokens"] as? [Int])?.count, 24)
        let stats = try XCTUnwrap(a["stats"] as? [String: Any])
        XCTAssertEqual(stats["generated_tokens"] as? Int, 24)
        XCTAssertEqual(stats["stop_reason"] as? String, "maxTokens")
    }

    func testBenchPrintsThroughputLines() throws {
        let result = try CLIRunner.run(["bench", "--model", modelPath, "--prompt-tokens", "16", "--gen-tokens", "8",
                                        "--repetitions", "2", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("pp16 "), result.stdout)
        XCTAssertTrue(result.stdout.contains("tg8 "), result.stdout)
        XCTAssertTrue(result.stdout.contains("threads: 1"), result.stdout)
        let json = try CLIRunner.run(["bench", "model", "--model", modelPath, "--prompt-tokens", "8", "--gen-tokens", "4",
                                      "--repetitions", "1", "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap(object["results"] as? [String: Any])
        XCTAssertEqual(Set(results.keys), ["pp8", "tg4"])
    }

    func testHelpListsEnumValuesAndExitsZero() throws {
        let result = try CLIRunner.run(["bench", "model", "--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("--report"), result.stdout)
        XCTAssertTrue(result.stdout.contains("mean") && result.stdout.contains("best"), result.stdout)
    }

    func testTokenizeAndBenchSubcommandsAreRegistered() throws {
        let tokenize = try CLIRunner.run(["tokenize", "--model", modelPath, "--text", "Once upon a time", "--json"])
        XCTAssertEqual(tokenize.status, 0, tokenize.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(tokenize.stdout.utf8)) as? [String: Any])
        let session = try MnemoSession.load(model: CLIRunner.fixture("models/stories260K/stories260K.bin"))
        XCTAssertEqual(object["tokens"] as? [Int], session.encode("Once upon a time"))
        for group in [["bench", "tokenizer", "--help"], ["bench", "index", "--help"], ["bench", "model", "--help"]] {
            let help = try CLIRunner.run(group)
            XCTAssertEqual(help.status, 0, "\(group): \(help.stderr)")
            XCTAssertTrue(help.stdout.contains("USAGE: mnemo \(group[0]) \(group[1])"), help.stdout)
        }
    }

    func testPromptContinuationOnStdoutAndStatsOnStderr() throws {
        let folder = FileManager.default.temporaryDirectory
        let promptFile = folder.appendingPathComponent("mnemo-prompt-\(UUID().uuidString).txt")
        try Data("Once upon a time".utf8).write(to: promptFile)
        defer { try? FileManager.default.removeItem(at: promptFile) }
        for source in [["--prompt", "Once upon a time"], ["--prompt-file", promptFile.path]] {
            let result = try CLIRunner.run(["generate", "--model", modelPath, "--max-tokens", "12", "--temperature", "0",
                                            "--verbose"] + source)
            XCTAssertEqual(result.status, 0, result.stderr)
            // Only the continuation, which greedy decoding makes the rest of llama2.c's sample.
            XCTAssertTrue(result.stdout.hasPrefix(", there was a little girl named Lily."), result.stdout)
            XCTAssertFalse(result.stdout.contains("tok/s"))
            XCTAssertTrue(result.stderr.contains("prompt: 5 tokens"), result.stderr)
            XCTAssertTrue(result.stderr.contains("generated: 12 tokens"), result.stderr)
            XCTAssertTrue(result.stderr.contains("stopped: maxTokens"), result.stderr)
        }
        let both = try CLIRunner.run(["generate", "--model", modelPath, "--prompt", "a", "--prompt-file", promptFile.path])
        assertOneLineError(both, mentions: "--prompt")
    }
}
