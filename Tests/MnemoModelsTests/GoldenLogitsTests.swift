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
        var max_abs_diff_vs_f32_golden: Float
    }

    /// F16 / Q8_0 GGUF: (1) equal, to 1e-4, to transformers run with the same dequantized weights
    /// (`golden-{f16,q8_0}.json`, made by `Fixtures/scripts/make_gguf_goldens.py`); (2) against the
    /// original f32 golden, no further from it than the quantization itself moves transformers
    /// (`max_abs_diff_vs_f32_golden`, + 1e-4 abs/rel), with at least as many unchanged top-1.
    func testGGUFF16AndQ8MatchTransformersOnDequantizedWeights() throws {
        var checked = 0
        for name in Self.models {
            let f32 = try golden(name)
            for kind in ["f16", "q8_0"] {
                let url = fixtureURL("models/\(name)/model-\(kind).gguf")
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                let q = try JSONDecoder().decode(QuantizedGolden.self, from: Data(contentsOf: fixtureURL("models/\(name)/golden-\(kind).json")))
                XCTAssertEqual(q.prompts, f32.prompts)
                let model = try LanguageModel.load(from: url)
                let exact = Golden(model: name, prompts: q.prompts, logits: q.logits, greedy_prompt: 0, greedy: [])
                let s = try check(model, exact, atol: 1e-4, rtol: 1e-4)
                XCTAssertLessThanOrEqual(s.worstExcess, 0, "\(name) gguf \(kind) vs dequantized HF: max |Δ| = \(s.maxAbs)")
                let loose = try check(model, f32, atol: q.max_abs_diff_vs_f32_golden + 1e-4, rtol: 1e-4)
                XCTAssertLessThanOrEqual(loose.worstExcess, 0, "\(name) \(kind) vs f32 golden: max |Δ| = \(loose.maxAbs)")
                var hfAgree = 0
                for (p, rows) in q.logits.enumerated() {
                    for (t, row) in rows.enumerated() where argmax(row) == argmax(f32.logits[p][t]) { hfAgree += 1 }
                }
                XCTAssertGreaterThanOrEqual(loose.top1Agree, hfAgree, "\(name) \(kind) top-1")
                XCTAssertGreaterThanOrEqual(Double(loose.top1Agree), 0.9 * Double(loose.positions), "\(name) \(kind) top-1")
                print("golden \(name) gguf \(kind): max |Δ| vs dequantized HF = \(s.maxAbs); vs f32 golden = \(loose.maxAbs) "
                      + "(format noise \(q.max_abs_diff_vs_f32_golden)), top-1 \(loose.top1Agree)/\(loose.positions) (HF \(hfAgree))")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 7)
    }

    /// BF16 safetensors (weights read in place as bfloat16) vs transformers on the same bf16 weights
    /// (`Fixtures/models/bf16/`, made by `Fixtures/scripts/models_bf16_golden.py`).
    func testBF16SafetensorsMatchesTransformers() throws {
        let folder = fixtureURL("models/bf16/llama-tied-bf16")
        let g = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: folder.appendingPathComponent("golden.json")))
        let model = try LanguageModel.load(from: folder)
        XCTAssertEqual(model.summary.tensorTypes.keys.sorted(), ["BF16"])
        let s = try check(model, g, atol: 1e-4, rtol: 1e-4)
        XCTAssertLessThanOrEqual(s.worstExcess, 0, "max |Δ| = \(s.maxAbs)")
        print("golden llama-tied bf16 safetensors: max |Δ| = \(s.maxAbs)")
    }

    struct LlamaCppLogits: Decodable { var prompts: [[Int]]; var logits: [[[Float]]] }

    /// llama-gqa GGUF vs llama.cpp's own logits (`llamacpp-logits-*.json`, see
    /// `Fixtures/scripts/llamacpp_logits.md`): F32 to 1e-4; F16/Q8_0, where llama.cpp also rounds
    /// activations (to f16 / q8_0) and Mnemo does not, the same top-1 on ≥ 90% of positions.
    func testGGUFMatchesLlamaCpp() throws {
        for kind in ["f32", "f16", "q8_0"] {
            let g = try JSONDecoder().decode(LlamaCppLogits.self, from: Data(contentsOf: fixtureURL("models/llama-gqa/llamacpp-logits-\(kind).json")))
            let model = try LanguageModel.load(from: fixtureURL("models/llama-gqa/model-\(kind).gguf"))
            let tol: Float = kind == "f32" ? 1e-4 : .infinity
            let s = try check(model, Golden(model: "llama-gqa", prompts: g.prompts, logits: g.logits, greedy_prompt: 0, greedy: []),
                              atol: tol, rtol: 1e-4)
            XCTAssertLessThanOrEqual(s.worstExcess, 0, "\(kind): max |Δ| = \(s.maxAbs)")
            XCTAssertGreaterThanOrEqual(Double(s.top1Agree), 0.9 * Double(s.positions), kind)
            print("llama.cpp llama-gqa \(kind): max |Δ| = \(s.maxAbs), top-1 \(s.top1Agree)/\(s.positions)")
        }
    }

    struct DecodeGolden: Decodable { var tokens: [Int]; var logits: [[Float]] }

    /// Dynamic NTK while decoding past `max_position_embeddings` with a cache: every step's logits
    /// equal transformers' (`Fixtures/models/decode/llama-dynamic.json`, made by
    /// `Fixtures/scripts/models_dynamic_decode_golden.py`), which differ from a one-shot prefill.
    func testDynamicNTKDecodeMatchesTransformersWithCache() throws {
        let g = try JSONDecoder().decode(DecodeGolden.self, from: Data(contentsOf: fixtureURL("models/decode/llama-dynamic.json")))
        let model = try LanguageModel.load(from: fixtureURL("models/llama-dynamic"))
        XCTAssertEqual(model.config.rope?.scaling, .dynamic(factor: 2, maxPositions: 16))
        let cache = model.makeCache()
        var worst: Float = -.infinity, maxAbs: Float = 0
        for (i, t) in g.tokens.enumerated() {
            let logits = try model.forward([t], cache: cache, allLogits: false)
            let (e, m) = compare(logits, g.logits[i], atol: 1e-4, rtol: 1e-4)
            worst = max(worst, e)
            maxAbs = max(maxAbs, m)
        }
        XCTAssertLessThanOrEqual(worst, 0, "max |Δ| = \(maxAbs)")
        let prefill = try model.forward(g.tokens, cache: model.makeCache(), allLogits: true)
        let V = model.config.vocabularySize
        XCTAssertGreaterThan(compare(Array(prefill.suffix(V)), g.logits[g.tokens.count - 1], atol: 1e-3, rtol: 0).worstExcess, 0,
                             "prefill and cached decode differ under dynamic NTK, as in transformers")
        print("golden llama-dynamic cached decode: max |Δ| = \(maxAbs) over \(g.tokens.count) steps")
    }

    struct WindowGolden: Decodable {
        var sliding_window: Int
        var prompts: [[Int]]
        var prefill: [[[Float]]]
        var decode_tokens: [Int]
        var decode: [[Float]]
    }

    /// Mistral sliding-window attention (window 6 on the mistral fixture's weights) vs transformers,
    /// one-shot and token by token (`Fixtures/models/decode/mistral-window6.json`, made by
    /// `Fixtures/scripts/models_sliding_window_golden.py`).
    func testMistralSlidingWindowMatchesTransformers() throws {
        let g = try JSONDecoder().decode(WindowGolden.self, from: Data(contentsOf: fixtureURL("models/decode/mistral-window6.json")))
        let full = try LanguageModel.load(from: fixtureURL("models/mistral"))
        XCTAssertEqual(full.config.slidingWindow, 4096)
        var config = full.config
        config.slidingWindow = g.sliding_window
        let model = full.replacingConfig(config)
        let s = try check(model, Golden(model: "mistral-window", prompts: g.prompts, logits: g.prefill, greedy_prompt: 0, greedy: []),
                          atol: 1e-4, rtol: 1e-4)
        XCTAssertLessThanOrEqual(s.worstExcess, 0, "prefill max |Δ| = \(s.maxAbs)")
        let cache = model.makeCache()
        var worst: Float = -.infinity, maxAbs: Float = 0
        for (i, t) in g.decode_tokens.enumerated() {
            let (e, m) = compare(try model.forward([t], cache: cache, allLogits: false), g.decode[i], atol: 1e-4, rtol: 1e-4)
            worst = max(worst, e)
            maxAbs = max(maxAbs, m)
        }
        XCTAssertLessThanOrEqual(worst, 0, "decode max |Δ| = \(maxAbs)")
        print("golden mistral window \(g.sliding_window): prefill max |Δ| = \(s.maxAbs), decode max |Δ| = \(maxAbs)")
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
