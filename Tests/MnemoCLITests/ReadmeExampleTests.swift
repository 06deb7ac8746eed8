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
    }
}
