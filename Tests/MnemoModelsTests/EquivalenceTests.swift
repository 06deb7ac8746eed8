import Foundation
import XCTest
@testable import MnemoModels

/// Equivalences that must hold to rounding: prefill vs token-by-token decode, GQA vs the same
/// model with duplicated KV heads.
final class EquivalenceTests: XCTestCase {
    let prompt = [3, 17, 0, 36, 5, 5, 22, 9, 11, 30, 2, 14]

    private func decodeOneByOne(_ model: LanguageModel, _ tokens: [Int]) throws -> [Float] {
        let cache = model.makeCache()
        var out: [Float] = []
        for t in tokens { out += try model.forward([t], cache: cache, allLogits: false) }
        return out
    }

    private func assertPrefillMatchesDecode(_ model: LanguageModel, file: StaticString = #filePath, line: UInt = #line) throws {
        let cache = model.makeCache()
        let prefill = try model.forward(prompt, cache: cache, allLogits: true)
        XCTAssertEqual(cache.count, prompt.count)
        XCTAssertEqual(prefill.count, prompt.count * model.config.vocabularySize)
        let decoded = try decodeOneByOne(model, prompt)
        let (worst, maxAbs) = compare(prefill, decoded, atol: 1e-5, rtol: 1e-5)
        XCTAssertLessThanOrEqual(worst, 0, "max |prefill - decode| = \(maxAbs)", file: file, line: line)
        // Split prefill (chunk of 5 then 7) also matches.
        let split = model.makeCache()
        let a = try model.forward(Array(prompt[..<5]), cache: split, allLogits: true)
        let b = try model.forward(Array(prompt[5...]), cache: split, allLogits: true)
        XCTAssertLessThanOrEqual(compare(a + b, prefill, atol: 1e-5, rtol: 1e-5).worstExcess, 0, file: file, line: line)
        // Last-token logits equal the last row.
        let last = try model.forward(prompt, cache: model.makeCache(), allLogits: false)
        XCTAssertEqual(last.count, model.config.vocabularySize, file: file, line: line)
        XCTAssertLessThanOrEqual(compare(last, Array(prefill.suffix(model.config.vocabularySize)), atol: 1e-5, rtol: 1e-5).worstExcess,
                                 0, file: file, line: line)
    }

    func testPrefillEqualsDecodeAcrossArchitecturesAndScalings() throws {
        let url = URL(fileURLWithPath: "/memory")
        let configs: [ModelConfig] = [
            TinyModels.llamaConfig(),
            TinyModels.llamaConfig(pairing: .interleaved, tied: true),
            TinyModels.llamaConfig(architecture: .qwen2, heads: 4, kvHeads: 1),
            TinyModels.llamaConfig(scaling: .linear(factor: 2)),
            TinyModels.llamaConfig(scaling: .yarn(YaRNParameters(factor: 4, originalContextLength: 16))),
            TinyModels.llamaConfig(scaling: .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4,
                                                    originalContextLength: 16)),
        ]
        for c in configs {
            let model = try LanguageModel.make(config: c, source: TinyModels.llamaSource(c), naming: .huggingFace(gpt2Prefix: ""), url: url)
            try assertPrefillMatchesDecode(model)
        }
        let g = TinyModels.gpt2Config()
        try assertPrefillMatchesDecode(try LanguageModel.make(config: g, source: TinyModels.gpt2Source(g),
                                                              naming: .huggingFace(gpt2Prefix: "transformer."), url: url))
    }

    /// The same on the fixture models, in every weight type (matmul/sgemm prefill vs matvec decode).
    func testPrefillEqualsDecodeOnFixtureModels() throws {
        for file in ["llama-gqa/model-f32.gguf", "qwen2/model-q8_0.gguf", "gpt2/model-f16.gguf", "llama3-rope/model-q8_0.gguf",
                     "stories260K/stories260K.bin"] {
            let model = try LanguageModel.load(from: fixtureURL("models/\(file)"))
            let tokens = prompt.map { ($0 * 37 + 11) % model.config.vocabularySize }
            let prefill = try model.forward(tokens, cache: model.makeCache(), allLogits: true)
            let decoded = try decodeOneByOne(model, tokens)
            let (worst, maxAbs) = compare(prefill, decoded, atol: 1e-5, rtol: 1e-5)
            XCTAssertLessThanOrEqual(worst, 0, "\(file): max |prefill - decode| = \(maxAbs)")
        }
    }

    struct Float32Noise: Decodable { var float32_max_abs_diff: Float }

    /// Long enough for decode to switch from dot/axpy to the per-kv-group sgemm path (≥ 64 positions).
    /// Over 100 positions two f32 evaluations with different summation orders drift apart by more
    /// than 1e-5 on llama-gqa: its bound is 2 × transformers' own float32-vs-float64 error on that
    /// model (`float32_max_abs_diff` in golden.json; each f32 result is that close to exact).
    func testLongPrefillEqualsDecode() throws {
        let noise = try JSONDecoder().decode(Float32Noise.self, from: Data(contentsOf: fixtureURL("models/llama-gqa/golden.json")))
        for (file, atol) in [("llama-gqa/model-f32.gguf", 2 * noise.float32_max_abs_diff), ("stories260K/stories260K.bin", Float(1e-5))] {
            let model = try LanguageModel.load(from: fixtureURL("models/\(file)"))
            let tokens = (0..<100).map { ($0 * 131 + 7) % model.config.vocabularySize }
            let prefill = try model.forward(tokens, cache: model.makeCache(), allLogits: true)
            let decoded = try decodeOneByOne(model, tokens)
            let (worst, maxAbs) = compare(prefill, decoded, atol: atol, rtol: 1e-5)
            XCTAssertLessThanOrEqual(worst, 0, "\(file): max |prefill - decode| = \(maxAbs)")
            print("prefill vs decode, 100 tokens, \(file): max |Δ| = \(maxAbs) (atol \(atol))")
        }
    }

    /// GQA with kv heads shared by groups equals MHA where each query head gets its own copy.
    func testGroupedQueryAttentionEqualsDuplicatedHeads() throws {
        let gqa = TinyModels.llamaConfig(heads: 4, kvHeads: 2)
        let source = TinyModels.llamaSource(gqa)
        var mha = gqa
        mha.kvHeadCount = 4
        let duplicated = TinyModels.llamaSource(gqa)
        let D = gqa.headDim, H = gqa.hiddenSize
        for l in 0..<gqa.layerCount {
            for proj in ["k_proj", "v_proj"] {
                let name = "model.layers.\(l).self_attn.\(proj).weight"
                let w = source.values(name)
                var out: [Float] = []
                for h in 0..<4 { out += w[(h / 2) * D * H ..< (h / 2 + 1) * D * H] }
                duplicated.add(name, [4 * D, H], out)
            }
        }
        let url = URL(fileURLWithPath: "/memory")
        let a = try LanguageModel.make(config: gqa, source: source, naming: .huggingFace(gpt2Prefix: ""), url: url)
        let b = try LanguageModel.make(config: mha, source: duplicated, naming: .huggingFace(gpt2Prefix: ""), url: url)
        let la = try a.forward(prompt, cache: a.makeCache(), allLogits: true)
        let lb = try b.forward(prompt, cache: b.makeCache(), allLogits: true)
        let (worst, maxAbs) = compare(la, lb, atol: 1e-5, rtol: 1e-5)
        XCTAssertLessThanOrEqual(worst, 0, "max diff \(maxAbs)")
    }

    func testCacheResetAndGrowth() throws {
        let c = TinyModels.llamaConfig()
        let model = try LanguageModel.make(config: c, source: TinyModels.llamaSource(c), naming: .huggingFace(gpt2Prefix: ""), url: URL(fileURLWithPath: "/m"))
        let cache = model.makeCache()
        let long = (0..<40).map { $0 % c.vocabularySize }
        let first = try model.forward(long, cache: cache, allLogits: false)
        XCTAssertEqual(cache.count, 40)
        XCTAssertGreaterThanOrEqual(cache.capacity, 40)
        cache.reset()
        XCTAssertEqual(cache.count, 0)
        let again = try model.forward(long, cache: cache, allLogits: false)
        XCTAssertLessThanOrEqual(compare(again, first, atol: 1e-6, rtol: 1e-6).worstExcess, 0)
        // Truncating and re-running the tail gives the same last logits.
        cache.truncate(to: 30)
        XCTAssertEqual(cache.count, 30)
        let tail = try model.forward(Array(long[30...]), cache: cache, allLogits: false)
        XCTAssertLessThanOrEqual(compare(tail, first, atol: 1e-5, rtol: 1e-5).worstExcess, 0)
    }
}
