import XCTest
import Foundation
@testable import MnemoModels

/// The model-side pieces the memory mechanisms stand on: fusion of retrieved attention with local
/// attention (checked against hand-computed formulas) and re-basing of cached keys.
final class MemoryAttentionTests: XCTestCase {
    // One head, d = 2; the query at row 1 sees cache rows 0 and 1 and one retrieved pair.
    private let keys: [Float] = [2, 0, 0, 1]
    private let values: [Float] = [1, 0, 0, 1]
    private let query: [Float] = [1, 0]

    private func run(_ fusion: ExtraAttention.Fusion) -> [Float] {
        let shape = AttentionShape(headCount: 1, kvHeadCount: 1, headDim: 2)
        let extra = ExtraAttention(rows: 1, headCount: 1, headDim: 2, capacity: 3, fusion: fusion)
        extra.keys[0] = 1; extra.keys[1] = 0
        extra.values[0] = 3; extra.values[1] = 3
        extra.counts[0] = 1
        var out = [Float](repeating: 0, count: 2)
        Attention.causal(shape, query: query, keys: keys, values: values, start: 1, count: 1, extra: extra,
                         scratch: ScratchBuffer(), into: &out)
        return out
    }

    /// y = (1 - g) softmax(local) V + g softmax(mem) V_mem with g = sigmoid(0.5).
    func testGateFusionMatchesHandComputation() {
        let g = 1 / (1 + exp(-0.5))
        let s0 = 2 / sqrt(2.0), s1 = 0.0
        let p0 = exp(s0) / (exp(s0) + exp(s1)), p1 = exp(s1) / (exp(s0) + exp(s1))
        let expected = [(1 - g) * p0 + g * 3, (1 - g) * p1 + g * 3]
        let out = run(.gate([Float(g)]))
        XCTAssertEqual(Double(out[0]), expected[0], accuracy: 1e-6)
        XCTAssertEqual(Double(out[1]), expected[1], accuracy: 1e-6)
    }

    /// Joint softmax: one softmax over the two local scores and the retrieved one.
    func testJointSoftmaxMatchesHandComputation() {
        let s = [2 / sqrt(2.0), 0, 1 / sqrt(2.0)]
        let z = s.map(exp).reduce(0, +)
        let p = s.map { exp($0) / z }
        let expected = [p[0] * 1 + p[2] * 3, p[1] * 1 + p[2] * 3]
        let out = run(.jointSoftmax)
        XCTAssertEqual(Double(out[0]), expected[0], accuracy: 1e-6)
        XCTAssertEqual(Double(out[1]), expected[1], accuracy: 1e-6)
    }

    /// A row without retrieved entries keeps plain local attention under either fusion.
    func testNoRetrievedEntriesIsPlainAttention() {
        let shape = AttentionShape(headCount: 1, kvHeadCount: 1, headDim: 2)
        var plain = [Float](repeating: 0, count: 2)
        Attention.causal(shape, query: query, keys: keys, values: values, start: 1, count: 1, scratch: ScratchBuffer(), into: &plain)
        for fusion in [ExtraAttention.Fusion.jointSoftmax, .gate([0.9])] {
            let extra = ExtraAttention(rows: 1, headCount: 1, headDim: 2, capacity: 4, fusion: fusion)
            var out = [Float](repeating: 0, count: 2)
            Attention.causal(shape, query: query, keys: keys, values: values, start: 1, count: 1, extra: extra,
                             scratch: ScratchBuffer(), into: &out)
            XCTAssertEqual(out[0], plain[0], accuracy: 1e-6)
            XCTAssertEqual(out[1], plain[1], accuracy: 1e-6)
        }
    }

    /// Re-basing a window equals computing it fresh: after removing rows, layer 0's keys (which depend
    /// only on the token and its position) equal those of a cache computed from scratch with the
    /// remaining tokens at their new positions. Both RoPE pairings, and YaRN's attention factor.
    func testRemovingRowsEqualsComputingFresh() throws {
        for path in ["llama-gqa", "llama-gqa/model-f32.gguf", "llama-yarn", "qwen2"] {
            let model = try LanguageModel.load(from: fixtureURL("models/" + path))
            let tokens = (0..<40).map { 1 + ($0 * 37) % (model.config.vocabularySize - 1) }
            for removed in [0..<7, 5..<9, 30..<40, 0..<0] {
                let cache = model.makeCache()
                _ = try model.forward(tokens, cache: cache, allLogits: false)
                cache.removeRows(removed)
                let fresh = model.makeCache()
                var remaining = tokens
                remaining.removeSubrange(removed)
                _ = try model.forward(remaining, cache: fresh, allLogits: false)
                XCTAssertEqual(cache.count, fresh.count)
                let a = cache.copyRows(layer: 0, 0..<cache.count), b = fresh.copyRows(layer: 0, 0..<fresh.count)
                let worstKey = zip(a.keys, b.keys).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worstKey, 2e-5, "\(path) removing \(removed)")
                // Values carry no position; they differ only by the rounding of a different batch size.
                let worstValue = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worstValue, 1e-5, "\(path) removing \(removed)")
            }
        }
    }

    /// `encodeRotation` of a raw projected key equals the key the forward pass stores.
    func testEncodeRotationEqualsForwardKeys() throws {
        for path in ["llama-gqa", "llama-yarn"] {
            let model = try LanguageModel.load(from: fixtureURL("models/" + path))
            let c = model.config
            let tokens = [5, 9, 13, 17, 21, 25]
            let cache = model.makeCache()
            _ = try model.forward(tokens, cache: cache, allLogits: false)
            // Layer 0 input: the normed embedding of the token; project with W_k and rotate.
            let projection = model.attentionProjection(layer: 0)
            let stored = cache.copyRows(layer: 0, 0..<tokens.count).keys
            var embedding = [Float](repeating: 0, count: c.hiddenSize)
            for (row, token) in tokens.enumerated() {
                embedding.withUnsafeMutableBufferPointer { model.weights.embedding.dequantizeRow(token, into: $0.baseAddress!) }
                let weight = model.weights.layers[0].attentionNorm
                var sum: Float = 0
                for x in embedding { sum += x * x }
                let scale = 1 / (sum / Float(c.hiddenSize) + c.normEpsilon).squareRoot()
                let normed = (0..<c.hiddenSize).map { embedding[$0] * scale * weight[$0] }
                var key = (0..<c.kvWidth).map { i in (0..<c.hiddenSize).reduce(Float(0)) { $0 + projection.key[i * c.hiddenSize + $1] * normed[$1] } }
                key.withUnsafeMutableBufferPointer { cache.encodeRotation($0.baseAddress!, rows: 1, heads: c.kvHeadCount, position: row) }
                let worst = zip(key, stored[row * c.kvWidth ..< (row + 1) * c.kvWidth]).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 2e-5, "\(path) row \(row)")
            }
        }
    }
}
