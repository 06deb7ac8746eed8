import Foundation
import MnemoFormats
import XCTest
@testable import MnemoModels

/// RoPE frequencies against transformers (`Fixtures/models/rope/inv_freq.json`, made by
/// `Fixtures/scripts/models_rope_inv_freq.py`) and the two pairings against each other.
final class RoPETests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            var name: String
            var theta: Double
            var head_dim: Int
            var max_pos: Int
            var rope: [String: JSONScalar]?
            var seq_len: Int?
            var inv_freq: [Double]
            var attention_factor: Double
        }
        var cases: [Case]
    }

    enum JSONScalar: Decodable {
        case number(Double), string(String), bool(Bool)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .string(try c.decode(String.self)) }
        }
    }

    func testInverseFrequenciesMatchTransformers() throws {
        let data = try Data(contentsOf: fixtureURL("models/rope/inv_freq.json"))
        let golden = try JSONDecoder().decode(Golden.self, from: data)
        XCTAssertEqual(golden.cases.count, 8)
        for c in golden.cases {
            // Build the scaling through the same HF-config path a config.json takes.
            var params: HFRopeParameters?
            if let r = c.rope {
                let json = try JSONSerialization.data(withJSONObject: r.mapValues { v -> Any in
                    switch v { case let .number(d): return d; case let .string(s): return s; case let .bool(b): return b }
                })
                params = try JSONDecoder().decode(HFRopeParameters.self, from: json)
            }
            let scaling = try HFConfig.scaling(params, maxPositions: c.max_pos, file: c.name)
            let rope = RoPEConfig(theta: c.theta, dimension: c.head_dim, pairing: .halves, scaling: scaling)
            let (inv, factor) = RoPEFrequencies.compute(rope, sequenceLength: c.seq_len ?? 1)
            XCTAssertEqual(inv.count, c.inv_freq.count, c.name)
            var worst = 0.0
            for (a, b) in zip(inv, c.inv_freq) { worst = max(worst, abs(Double(a) - b) / abs(b)) }
            XCTAssertLessThanOrEqual(worst, 3e-7, "\(c.name): worst relative error \(worst)")
            XCTAssertEqual(Double(factor), c.attention_factor, accuracy: 1e-6, c.name)
        }
    }

    /// llama.cpp's converter permutes q/k rows (`LlamaModel.permute`) so adjacent-pair rotation of
    /// the permuted projection equals rotate_half of the original: logits must agree.
    func testInterleavedPairingWithPermutedWeightsEqualsHalves() throws {
        let halves = TinyModels.llamaConfig(heads: 4, kvHeads: 2)
        var interleaved = halves
        interleaved.rope?.pairing = .interleaved
        let source = TinyModels.llamaSource(halves)
        let permuted = TinyModels.llamaSource(halves)
        let H = halves.hiddenSize, D = halves.headDim
        for l in 0..<halves.layerCount {
            for (proj, heads) in [("q_proj", 4), ("k_proj", 2)] {
                let name = "model.layers.\(l).self_attn.\(proj).weight"
                let w = source.values(name)
                // reshape(n_head, 2, D/2, H).swapaxes(1, 2): new row (h, i, j) = old row (h, j, i).
                var out = [Float](repeating: 0, count: w.count)
                for h in 0..<heads { for i in 0..<(D / 2) { for j in 0..<2 {
                    let newRow = h * D + i * 2 + j, oldRow = h * D + j * (D / 2) + i
                    for c in 0..<H { out[newRow * H + c] = w[oldRow * H + c] }
                } } }
                permuted.add(name, [heads * D, H], out)
            }
        }
        let url = URL(fileURLWithPath: "/memory")
        let a = try LanguageModel.make(config: halves, source: source, naming: .huggingFace(gpt2Prefix: ""), url: url)
        let b = try LanguageModel.make(config: interleaved, source: permuted, naming: .huggingFace(gpt2Prefix: ""), url: url)
        let tokens = [1, 5, 9, 2, 33, 7, 7, 20]
        let la = try a.forward(tokens, cache: a.makeCache(), allLogits: true)
        let lb = try b.forward(tokens, cache: b.makeCache(), allLogits: true)
        let (worst, maxAbs) = compare(lb, la, atol: 1e-5, rtol: 1e-5)
        XCTAssertLessThanOrEqual(worst, 0, "max diff \(maxAbs)")
        // And the pairing matters: the unpermuted weights with interleaved pairing differ.
        let c = try LanguageModel.make(config: interleaved, source: source, naming: .huggingFace(gpt2Prefix: ""), url: url)
        let lc = try c.forward(tokens, cache: c.makeCache(), allLogits: true)
        XCTAssertGreaterThan(compare(lc, la, atol: 1e-3, rtol: 0).worstExcess, 0)
    }

    /// Dynamic NTK keeps the original frequencies until the sequence outgrows max positions.
    func testDynamicNTKDependsOnSequenceLength() {
        let rope = RoPEConfig(theta: 10000, dimension: 16, pairing: .halves, scaling: .dynamic(factor: 2, maxPositions: 32))
        let plain = RoPEFrequencies.compute(RoPEConfig(theta: 10000, dimension: 16, pairing: .halves), sequenceLength: 1).inverseFrequencies
        XCTAssertEqual(RoPEFrequencies.compute(rope, sequenceLength: 32).inverseFrequencies, plain)
        let long = RoPEFrequencies.compute(rope, sequenceLength: 64).inverseFrequencies
        XCTAssertEqual(long[0], 1)
        XCTAssertLessThan(long[7], plain[7])
    }

    /// transformers `_compute_yarn_parameters` reads `beta_fast` / `beta_slow` with `or 32` / `or 1`:
    /// an explicit 0 or null gives the same frequencies as omitting the key.
    func testYaRNZeroOrNullBetasMeanDefaults() throws {
        func table(_ extra: String) throws -> ([Float], Float) {
            let json = "{\"rope_type\": \"yarn\", \"factor\": 4, \"original_max_position_embeddings\": 4096\(extra)}"
            let params = try JSONDecoder().decode(HFRopeParameters.self, from: Data(json.utf8))
            let scaling = try HFConfig.scaling(params, maxPositions: 16384, file: "c")
            let rope = RoPEConfig(theta: 10000, dimension: 32, pairing: .halves, scaling: scaling)
            let (inv, factor) = RoPEFrequencies.compute(rope, sequenceLength: 1)
            return (inv, factor)
        }
        let omitted = try table("")
        for extra in [", \"beta_fast\": 0", ", \"beta_fast\": null", ", \"beta_slow\": 0", ", \"beta_fast\": 0.0, \"beta_slow\": null"] {
            let t = try table(extra)
            XCTAssertEqual(t.0, omitted.0, extra)
            XCTAssertEqual(t.1, omitted.1, extra)
        }
        // A non-default beta does change the table (the comparison above is not vacuous).
        XCTAssertNotEqual(try table(", \"beta_fast\": 8").0, omitted.0)
    }

    /// transformers 5.23 derives the YaRN factor as `max_position_embeddings /
    /// original_max_position_embeddings` when `factor` is null; an absent `factor` is a KeyError there.
    func testYaRNNullFactorIsDerivedFromContextLengths() throws {
        func config(_ factor: String, original: Int = 64) throws -> ModelConfig {
            let json = """
            {"model_type": "llama", "vocab_size": 37, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
             "intermediate_size": 48, "max_position_embeddings": 256,
             "rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "original_max_position_embeddings": \(original)\(factor)}}
            """
            return try HFConfig.decode(Data(json.utf8), file: "config.json").modelConfig(file: "config.json")
        }
        let derived = try config(", \"factor\": null")
        XCTAssertEqual(derived.rope?.scaling, .yarn(YaRNParameters(factor: 4, originalContextLength: 64)))
        XCTAssertEqual(derived.rope, try config(", \"factor\": 4.0").rope)
        XCTAssertThrowsError(try config("")) { error in
            XCTAssertEqual("\(error)", "config.json: missing required key \"rope_scaling.factor\"")
        }
        XCTAssertThrowsError(try config(", \"factor\": null", original: 0)) { error in
            XCTAssertEqual("\(error)", "config.json: invalid value for \"rope_scaling.original_max_position_embeddings\": 0, expected > 0")
        }
    }

    /// GGUF RoPE scaling factors must be finite and > 0 like the Hugging Face path (0 used to give inf
    /// inverse frequencies and NaN logits).
    func testGGUFRopeScalingFactorMustBePositive() throws {
        let base: [String: GGUFValue] = [
            "general.architecture": .string("llama"), "llama.embedding_length": .uint32(64),
            "llama.attention.head_count": .uint32(4), "llama.block_count": .uint32(1),
            "llama.feed_forward_length": .uint32(128), "llama.context_length": .uint32(512),
            "llama.vocab_size": .uint32(32),
        ]
        let cases: [([String: GGUFValue], String)] = [
            (["llama.rope.scale_linear": .float32(0)], "\"llama.rope.scale_linear\": 0.0"),
            (["llama.rope.scaling.type": .string("linear"), "llama.rope.scaling.factor": .float32(0)], "\"llama.rope.scaling.factor\": 0.0"),
            (["llama.rope.scaling.type": .string("yarn"), "llama.rope.scaling.factor": .float32(-2)], "\"llama.rope.scaling.factor\": -2.0"),
            (["llama.rope.scaling.type": .string("yarn"), "llama.rope.scaling.factor": .float64(.infinity)], "\"llama.rope.scaling.factor\": inf"),
        ]
        for (extra, shown) in cases {
            let meta = base.merging(extra) { $1 }
            XCTAssertThrowsError(try ModelConfig.fromGGUF(metadata: meta, tensorInfos: [:], ropeFrequencyFactors: nil, file: "m.gguf")) { error in
                XCTAssertEqual("\(error)", "m.gguf: invalid value for \(shown), expected a finite number > 0")
            }
        }
        let linear = try ModelConfig.fromGGUF(metadata: base.merging(["llama.rope.scale_linear": .float32(2)]) { $1 },
                                              tensorInfos: [:], ropeFrequencyFactors: nil, file: "m.gguf")
        XCTAssertEqual(linear.rope?.scaling, .linear(factor: 2))
    }

    /// GGUF head counts / key lengths are bounded like every other dimension, named by their GGUF key.
    func testGGUFHugeHeadCountIsRejected() {
        var meta: [String: GGUFValue] = [
            "general.architecture": .string("llama"), "llama.embedding_length": .uint32(64),
            "llama.attention.head_count": .uint64(1 << 62), "llama.attention.key_length": .uint32(4),
            "llama.block_count": .uint32(1), "llama.feed_forward_length": .uint32(128),
            "llama.context_length": .uint32(512), "llama.vocab_size": .uint32(32),
        ]
        func message() -> String {
            do { _ = try ModelConfig.fromGGUF(metadata: meta, tensorInfos: [:], ropeFrequencyFactors: nil, file: "m.gguf"); return "loaded" }
            catch { return "\(error)" }
        }
        XCTAssertEqual(message(), "m.gguf: invalid value for \"llama.attention.head_count\": 4611686018427387904, expected at most 16777216")
        meta["llama.attention.head_count"] = .uint32(4)
        meta["llama.attention.key_length"] = .uint64(UInt64(Int.max))
        XCTAssertEqual(message(), "m.gguf: invalid value for \"llama.attention.key_length\": 9223372036854775807, expected at most 16777216")
        meta["llama.attention.key_length"] = .uint32(16)
        meta["llama.vocab_size"] = .uint32(0)
        XCTAssertEqual(message(), "m.gguf: invalid value for \"llama.vocab_size\": 0, expected a positive integer")
        meta["llama.vocab_size"] = .uint32(32)
        XCTAssertEqual(message(), "loaded")
    }

    /// GGUF YaRN keys as written by convert_hf_to_gguf (`yarn_attn_factor` = HF attention_factor)
    /// and llama.cpp's extra `attn_factor` multiplier.
    func testGGUFYaRNMetadataMapping() throws {
        var meta: [String: GGUFValue] = [
            "general.architecture": .string("llama"), "llama.embedding_length": .uint32(64),
            "llama.attention.head_count": .uint32(4), "llama.block_count": .uint32(1),
            "llama.feed_forward_length": .uint32(128), "llama.context_length": .uint32(512),
            "llama.vocab_size": .uint32(32), "llama.rope.scaling.type": .string("yarn"),
            "llama.rope.scaling.factor": .float32(4), "llama.rope.scaling.original_context_length": .uint32(128),
        ]
        func yarn() throws -> YaRNParameters? {
            let c = try ModelConfig.fromGGUF(metadata: meta, tensorInfos: [:], ropeFrequencyFactors: nil, file: "m.gguf")
            if case let .yarn(p)? = c.rope?.scaling { return p }
            return nil
        }
        XCTAssertNil(try yarn()?.attentionFactor, "derived from factor like transformers")
        XCTAssertEqual(try yarn()?.originalContextLength, 128)
        meta["llama.rope.scaling.yarn_attn_factor"] = .float32(1.25)
        XCTAssertEqual(try yarn()?.attentionFactor, 1.25)
        meta["llama.rope.scaling.attn_factor"] = .float32(2)
        XCTAssertEqual(try yarn()?.attentionFactor, 2.5)
        meta["llama.rope.scaling.type"] = .string("longrope")
        XCTAssertThrowsError(try yarn()) { error in
            XCTAssertEqual("\(error)", "m.gguf: invalid value for \"llama.rope.scaling.type\": \"longrope\", expected none, linear or yarn")
        }
    }
}
