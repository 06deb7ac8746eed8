import XCTest
import MnemoModels
@testable import MnemoEngine

/// Scoring and greedy generation against Hugging Face `transformers` goldens of the tiny seeded
/// models in Fixtures/models (made by the models branch's Fixtures/scripts; logits from a float64
/// forward, greedy ids from `model.generate(do_sample=False)`).
final class TransformersGoldenTests: XCTestCase {
    private struct Golden: Decodable {
        var prompts: [[Int]]
        var logits: [[[Double]]]
        var greedy_prompt: Int
        var greedy: [Int]
    }

    private static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models").standardized

    private func golden(_ name: String) throws -> Golden {
        let data = try Data(contentsOf: Self.models.appendingPathComponent(name).appendingPathComponent("golden.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    /// `logprobs[i]` equals the log-softmax of transformers' logits row `i - 1` at `tokens[i]`.
    /// Tolerance: the models branch checks logits to |Δ| <= 1e-4 + 1e-4 |x|; a log-softmax moves by at
    /// most twice the largest logit error, so each row allows 2 (1e-4 + 1e-4 max|x|).
    func testScoreMatchesTransformersLogSoftmax() throws {
        for name in ["llama-gqa", "qwen2", "gpt2"] {
            let g = try golden(name)
            let model = try LanguageModel.load(from: Self.models.appendingPathComponent(name))
            let scorer = try Scorer(model: model)
            for (p, prompt) in g.prompts.enumerated() {
                let result = try scorer.score(tokens: prompt)
                XCTAssertNil(result.logprobs[0])
                var sum = 0.0
                var largestTolerance = 0.0
                for i in 1 ..< prompt.count {
                    let row = g.logits[p][i - 1]
                    let m = row.max() ?? 0
                    let expected = row[prompt[i]] - m - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                    let tolerance = 2 * (1e-4 + 1e-4 * (row.map(abs).max() ?? 0))
                    largestTolerance = max(largestTolerance, tolerance)
                    XCTAssertEqual(try XCTUnwrap(result.logprobs[i]), expected, accuracy: tolerance, "\(name) prompt \(p) token \(i)")
                    sum += expected
                }
                XCTAssertEqual(result.nll, -sum / Double(prompt.count - 1), accuracy: largestTolerance, "\(name) prompt \(p)")
            }
        }
    }

    /// Greedy generation through `Generator` (prefill, then one cached step per token) reproduces
    /// transformers' `generate(do_sample=False)` ids.
    func testGreedyGenerationMatchesTransformers() throws {
        for name in ["llama-gqa", "qwen2", "gpt2"] {
            let g = try golden(name)
            let session = try MnemoSession.load(model: Self.models.appendingPathComponent(name))
            let options = SamplingOptions(temperature: 0, maxTokens: g.greedy.count, stopAtEndOfSequence: false)
            let generator = try session.makeGenerator(options: options)
            try generator.prefill(g.prompts[g.greedy_prompt])
            var ids: [Int] = []
            while let token = try generator.step() { ids.append(token.id) }
            XCTAssertEqual(ids, g.greedy, name)
            XCTAssertEqual(generator.stats.stopReason, .maxTokens)
        }
    }
}
