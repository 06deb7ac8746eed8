import Foundation
import MnemoFormats
import MnemoTensor
@testable import MnemoModels

/// A deterministic generator (SplitMix64 from MnemoTensor) so tests never depend on unseeded randomness.
typealias SeededGenerator = SplitMix64

/// Owned f32 tensors keyed by name, served as a `TensorSource`.
final class InMemorySource: TensorSource, @unchecked Sendable {
    // @unchecked Sendable: tensors are only added before the source is handed to a model.
    private(set) var storage: [String: (shape: [Int], data: UnsafeMutablePointer<Float>)] = [:]
    private(set) var tensorInfos: [String: TensorInfo] = [:]

    deinit { for (_, v) in storage { v.data.deallocate() } }

    func add(_ name: String, _ shape: [Int], _ values: [Float]) {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        p.initialize(from: values, count: values.count)
        if let old = storage[name] { old.data.deallocate() }
        storage[name] = (shape, p)
        tensorInfos[name] = TensorInfo(name: name, dtype: .f32, typeName: "F32", shape: shape, offset: 0,
                                       byteCount: values.count * 4)
    }

    func remove(_ name: String) {
        storage[name]?.data.deallocate()
        storage[name] = nil
        tensorInfos[name] = nil
    }

    func values(_ name: String) -> [Float] {
        guard let s = storage[name] else { return [] }
        return Array(UnsafeBufferPointer(start: s.data, count: s.shape.reduce(1, *)))
    }

    func rawPointer(for name: String) throws -> UnsafeRawPointer {
        guard let s = storage[name] else { throw ModelError.missingConfig(key: name, file: "memory") }
        return UnsafeRawPointer(s.data)
    }

    func matrix(_ name: String) throws -> WeightMatrix {
        guard let s = storage[name] else { throw ModelError.missingConfig(key: name, file: "memory") }
        let cols = s.shape.last ?? 1
        let rows = s.shape.dropLast().reduce(1, *)
        return WeightMatrix(dtype: .f32, rows: rows, cols: cols, base: UnsafeRawPointer(s.data), owner: self)
    }
}

/// Random tiny models with Hugging Face tensor names.
enum TinyModels {
    static func llamaConfig(architecture: Architecture = .llama, heads: Int = 4, kvHeads: Int = 2,
                            scaling: RoPEScaling = .none, pairing: RoPEPairing = .halves,
                            tied: Bool = false) -> ModelConfig {
        ModelConfig(architecture: architecture, vocabularySize: 37, hiddenSize: 32, layerCount: 2, headCount: heads,
                    kvHeadCount: kvHeads, headDim: 32 / heads, intermediateSize: 48, contextLength: 64,
                    normEpsilon: 1e-5, tieWordEmbeddings: tied,
                    rope: RoPEConfig(theta: 10000, dimension: 32 / heads, pairing: pairing, scaling: scaling),
                    attentionBias: architecture == .qwen2)
    }

    static func gpt2Config() -> ModelConfig {
        var c = ModelConfig(architecture: .gpt2, vocabularySize: 41, hiddenSize: 24, layerCount: 2, headCount: 3,
                            kvHeadCount: 3, headDim: 8, intermediateSize: 96, contextLength: 32, normEpsilon: 1e-5,
                            tieWordEmbeddings: true, rope: nil, attentionBias: true)
        c.outputBias = true
        c.activation = .geluTanh
        return c
    }

    static func random(_ n: Int, _ g: inout SeededGenerator, scale: Float = 0.2) -> [Float] {
        (0..<n).map { _ in Float.random(in: -scale...scale, using: &g) }
    }

    /// Llama-family weights with HF names.
    static func llamaSource(_ c: ModelConfig, seed: UInt64 = 1) -> InMemorySource {
        var g = SeededGenerator(seed: seed)
        let s = InMemorySource()
        let H = c.hiddenSize, I = c.intermediateSize, qW = c.queryWidth, kvW = c.kvWidth
        s.add("model.embed_tokens.weight", [c.vocabularySize, H], random(c.vocabularySize * H, &g, scale: 1))
        for l in 0..<c.layerCount {
            let n = "model.layers.\(l)."
            s.add(n + "input_layernorm.weight", [H], (0..<H).map { _ in Float.random(in: 0.8...1.2, using: &g) })
            s.add(n + "self_attn.q_proj.weight", [qW, H], random(qW * H, &g))
            s.add(n + "self_attn.k_proj.weight", [kvW, H], random(kvW * H, &g))
            s.add(n + "self_attn.v_proj.weight", [kvW, H], random(kvW * H, &g))
            if c.attentionBias {
                s.add(n + "self_attn.q_proj.bias", [qW], random(qW, &g))
                s.add(n + "self_attn.k_proj.bias", [kvW], random(kvW, &g))
                s.add(n + "self_attn.v_proj.bias", [kvW], random(kvW, &g))
            }
            s.add(n + "self_attn.o_proj.weight", [H, qW], random(H * qW, &g))
            s.add(n + "post_attention_layernorm.weight", [H], (0..<H).map { _ in Float.random(in: 0.8...1.2, using: &g) })
            s.add(n + "mlp.gate_proj.weight", [I, H], random(I * H, &g))
            s.add(n + "mlp.up_proj.weight", [I, H], random(I * H, &g))
            s.add(n + "mlp.down_proj.weight", [H, I], random(H * I, &g))
        }
        s.add("model.norm.weight", [H], (0..<H).map { _ in Float.random(in: 0.8...1.2, using: &g) })
        if !c.tieWordEmbeddings { s.add("lm_head.weight", [c.vocabularySize, H], random(c.vocabularySize * H, &g)) }
        return s
    }

    /// GPT-2 weights with HF names (Conv1D `[in, out]`).
    static func gpt2Source(_ c: ModelConfig, seed: UInt64 = 2) -> InMemorySource {
        var g = SeededGenerator(seed: seed)
        let s = InMemorySource()
        let H = c.hiddenSize, I = c.intermediateSize
        s.add("transformer.wte.weight", [c.vocabularySize, H], random(c.vocabularySize * H, &g, scale: 1))
        s.add("transformer.wpe.weight", [c.contextLength, H], random(c.contextLength * H, &g, scale: 0.5))
        for l in 0..<c.layerCount {
            let n = "transformer.h.\(l)."
            for ln in ["ln_1", "ln_2"] {
                s.add(n + ln + ".weight", [H], (0..<H).map { _ in Float.random(in: 0.8...1.2, using: &g) })
                s.add(n + ln + ".bias", [H], random(H, &g))
            }
            s.add(n + "attn.c_attn.weight", [H, 3 * H], random(3 * H * H, &g))
            s.add(n + "attn.c_attn.bias", [3 * H], random(3 * H, &g))
            s.add(n + "attn.c_proj.weight", [H, H], random(H * H, &g))
            s.add(n + "attn.c_proj.bias", [H], random(H, &g))
            s.add(n + "mlp.c_fc.weight", [H, I], random(H * I, &g))
            s.add(n + "mlp.c_fc.bias", [I], random(I, &g))
            s.add(n + "mlp.c_proj.weight", [I, H], random(I * H, &g))
            s.add(n + "mlp.c_proj.bias", [H], random(H, &g))
        }
        s.add("transformer.ln_f.weight", [H], (0..<H).map { _ in Float.random(in: 0.8...1.2, using: &g) })
        s.add("transformer.ln_f.bias", [H], random(H, &g))
        return s
    }
}

/// Locates `Fixtures/...` from this file.
func fixtureURL(_ relative: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/\(relative)").standardized
}

/// Largest violation of `|a - b| <= atol + rtol |b|`, as `excess` (≤ 0 means within tolerance)
/// plus the largest absolute difference.
func compare(_ a: [Float], _ b: [Float], atol: Float, rtol: Float) -> (worstExcess: Float, maxAbs: Float) {
    var worst = -Float.infinity, maxAbs: Float = 0
    for i in 0..<min(a.count, b.count) {
        let d = abs(a[i] - b[i])
        maxAbs = max(maxAbs, d)
        worst = max(worst, d - (atol + rtol * abs(b[i])))
    }
    return (worst, maxAbs)
}
