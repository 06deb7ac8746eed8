import Foundation
import Mnemo
import XCTest

/// The README's library example, kept compiling and producing the published text.
final class ReadmeExampleTests: XCTestCase {
    func testLibraryExampleFromTheReadme() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../..").standardized
        // From README.md, "As a library" (paths made absolute; output collected instead of printed).
        let session = try MnemoSession.load(model: root.appendingPathComponent("Fixtures/models/stories260K/stories260K.bin"))
        var options = SamplingOptions()
        options.temperature = 0
        options.maxTokens = 32
        var text = ""
        var finished: GenerationStats?
        for try await event in session.stream(prompt: "Once upon a time", options: options) {
            switch event {
            case .token(let token): text += token.text
            case .text(let rest): text += rest
            case .finished(let stats): finished = stats
            }
        }
        let score = try session.score(text: "Lily went to the park.")

        XCTAssertEqual(finished?.generatedTokens, 32)
        XCTAssertFalse(text.isEmpty)
        XCTAssertTrue(score.perplexity.isFinite && score.perplexity > 1, "perplexity \(score.perplexity)")
        XCTAssertEqual(score.logprobs.first, .some(nil))
        XCTAssertEqual(score.logprobs.count, score.tokens.count)

        // From README.md, "As a library", the summarize part.
        let document = try Document.load(from: root.appendingPathComponent("Fixtures/documents/two_chapters_gutenberg.txt"))
        let summarizer = try Summarizer(model: session.model, tokenizer: session.tokenizer,
                                        options: SummaryOptions(strategy: .hierarchical, length: .short))
        let result = try await summarizer.summarize(document)
        XCTAssertFalse(result.summary.isEmpty)
        XCTAssertEqual(result.chunks.map(\.title), ["CHAPTER I. The Red Ball", "CHAPTER II. The New Friend"])
    }

    /// The README's `mnemo summarize` example prints what the README shows (greedy, so reproducible).
    func testSummarizeExampleFromTheReadme() throws {
        let readme = try String(contentsOf: CLIRunner.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let result = try CLIRunner.run(["summarize", "Fixtures/documents/two_chapters_gutenberg.txt",
                                        "--model", "Fixtures/models/stories260K/stories260K.bin", "--length", "short"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.stdout)
        XCTAssertTrue(readme.contains("\n" + lines[0] + "\n"), "README shows the summary's first line: \(lines[0])")
        XCTAssertTrue(readme.contains(String(lines[1].prefix(60))), "README shows the second line's start: \(lines[1])")
        for line in result.stderr.split(separator: "\n") {
            let head = line.prefix { $0 != ":" }   // timings differ from run to run
            XCTAssertTrue(readme.contains(String(head)), "README shows \(head)")
        }
    }
}
