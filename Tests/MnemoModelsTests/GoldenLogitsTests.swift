import Foundation
import XCTest
@testable import MnemoModels

/// Mnemo's logits vs Hugging Face transformers on the tiny seeded models of `Fixtures/models/<name>/`
/// (goldens made by `Fixtures/scripts/make_model_goldens.py`; GGUF files converted by llama.cpp's
/// `convert_hf_to_gguf.py`, see `Fixtures/scripts/convert_gguf.py`).
///
/// Tolerances, `|a - b| <= atol + rtol |b|`:
/// - F32 safetensors and F32 GGUF: atol = rtol = 1e-4 (the goldens are a float64 forward; HF's own
///   float32 forward is within ~1.6e-5 of them).
/// - F16 / Q8_0 GGUF: atol = rtol = 1e-4 against transformers run on the same dequantized weights;
///   against the f32 golden, the quantization noise transformers itself shows for that file
///   (F16 ≈ 1.1e-2: 11-bit mantissas, relative error ≤ 2⁻¹¹ per weight; Q8_0 ≈ 0.14-0.35: one f16
///   scale per 32 weights, step max|w|/127, i.e. errors up to 0.4% of each block's largest weight).
final class GoldenLogitsTests: XCTestCase {
    struct Golden: Decodable {
        var model: String
        var prompts: [[Int]]
        var logits: [[[Float]]]
        var greedy_prompt: Int
        var greedy: [Int]
    }

    static let models = ["llama-gqa", "llama-tied", "llama-linear", "llama-dynamic", "llama-yarn", "llama3-rope",
                         "mistral", "qwen2", "gpt2"]

    private func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: fixtureURL("models/\(name)/golden.json")))
    }

    struct Stats { var worstExcess: Float = -.infinity; var maxAbs: Float = 0; var top1Agree = 0; var positions = 0 }

    /// Runs every prompt as one prefill and compares every position's logits.
    private func check(_ model: LanguageModel, _ g: Golden, atol: Float, rtol: Float) throws -> Stats {
        var s = Stats()
        let V = model.config.vocabularySize
        for (p, prompt) in g.prompts.enumerated() {
            let logits = try model.forward(prompt, cache: model.makeCache(), allLogits: true)
            XCTAssertEqual(logits.count, prompt.count * V)
            for t in 0..<prompt.count {
                let row = Array(logits[t * V ..< (t + 1) * V])
                let ref = g.logits[p][t]
                let (excess, maxAbs) = compare(row, ref, atol: atol, rtol: rtol)
                s.worstExcess = max(s.worstExcess, excess)
                s.maxAbs = max(s.maxAbs, maxAbs)
                if argmax(row) == argmax(ref) { s.top1Agree += 1 }
                s.positions += 1
            }
        }
        return s
    }

    private func argmax(_ x: [Float]) -> Int { x.indices.max { x[$0] < x[$1] } ?? 0 }

    func testSafetensorsF32MatchesTransformers() throws {
        for name in Self.models {
            let g = try golden(name)
            let model = try LanguageModel.load(from: fixtureURL("models/\(name)"))
            let s = try check(model, g, atol: 1e-4, rtol: 1e-4)
            XCTAssertLessThanOrEqual(s.worstExcess, 0, "\(name): max |Δ| = \(s.maxAbs)")
            XCTAssertEqual(s.top1Agree, s.positions, name)
            print("golden \(name) safetensors f32: max |Δ| = \(s.maxAbs) over \(s.positions) positions")
        }
    }

    func testGGUFF32MatchesTransformers() throws {
        var checked = 0
        for name in Self.models {
            let url = fixtureURL("models/\(name)/model-f32.gguf")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let model = try LanguageModel.load(from: url)
            let s = try check(model, try golden(name), atol: 1e-4, rtol: 1e-4)
            XCTAssertLessThanOrEqual(s.worstExcess, 0, "\(name) gguf f32: max |Δ| = \(s.maxAbs)")
            print("golden \(name) gguf f32: max |Δ| = \(s.maxAbs)")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 8)
    }

    struct QuantizedGolden: Decodable {
        var prompts: [[Int]]
        var logits: [[[Float]]]
        var format_max_abs_diff: Float
        var format_top1_agree: Int
        var positions: Int
    }

    /// F16 / Q8_0 GGUF: (1) equal, to 1e-4, to transformers run with the same dequantized weights
    /// (`Fixtures/models/quantized/`, made by `Fixtures/scripts/models_quantized_goldens.py`);
    /// (2) against the original f32 golden, no further from it than the quantization itself moves
    /// transformers (`format_max_abs_diff`, + 1e-4 abs/rel), with at least as many unchanged top-1.
    func testGGUFF16AndQ8MatchTransformersOnDequantizedWeights() throws {
        var checked = 0
        for name in Self.models {
            let f32 = try golden(name)
            for kind in ["f16", "q8_0"] {
                let url = fixtureURL("models/\(name)/model-\(kind).gguf")
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let q = try JSONDecoder().decode(QuantizedGolden.self, from: Data(contentsOf: fixtureURL("models/quantized/\(name)-\(kind).json")))
                let model = try LanguageModel.load(from: url)
                let exact = Golden(model: name, prompts: q.prompts, logits: q.logits, greedy_prompt: 0, greedy: [])
                let s = try check(model, exact, atol: 1e-4, rtol: 1e-4)
                XCTAssertLessThanOrEqual(s.worstExcess, 0, "\(name) gguf \(kind) vs dequantized HF: max |Δ| = \(s.maxAbs)")
                let original = Golden(model: name, prompts: q.prompts, logits: Array(f32.logits.prefix(q.prompts.count)),
                                      greedy_prompt: 0, greedy: [])
                let loose = try check(model, original, atol: q.format_max_abs_diff + 1e-4, rtol: 1e-4)
                XCTAssertLessThanOrEqual(loose.worstExcess, 0, "\(name) \(kind) vs f32 golden: max |Δ| = \(loose.maxAbs)")
                XCTAssertGreaterThanOrEqual(loose.top1Agree, q.format_top1_agree, "\(name) \(kind) top-1")
                print("golden \(name) gguf \(kind): max |Δ| vs dequantized HF = \(s.maxAbs); vs f32 golden = \(loose.maxAbs) "
                      + "(format noise \(q.format_max_abs_diff)), top-1 \(loose.top1Agree)/\(loose.positions)")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
    }

    /// Greedy decoding with the KV cache reproduces transformers' `generate(do_sample=False)`.
    func testGreedyDecodeMatchesTransformers() throws {
        for name in Self.models {
            let g = try golden(name)
            let model = try LanguageModel.load(from: fixtureURL("models/\(name)"))
            let cache = model.makeCache()
            var logits = try model.forward(g.prompts[g.greedy_prompt], cache: cache, allLogits: false)
            var ids: [Int] = []
            for _ in 0..<g.greedy.count {
                let next = argmax(logits)
                ids.append(next)
                if ids.count < g.greedy.count { logits = try model.forward([next], cache: cache, allLogits: false) }
            }
            XCTAssertEqual(ids, g.greedy, name)
        }
    }
}
