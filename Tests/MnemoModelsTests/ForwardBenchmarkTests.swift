import Foundation
import XCTest
@testable import MnemoModels

/// Opt-in timing of prefill and decode on a stories15M-sized random Llama (dim 288, 6 layers,
/// 6 heads, vocab 32000). Not a test of speed: it only runs with `MNEMO_BENCH=1` and asserts the
/// outputs are finite. `MNEMO_BENCH=1 swift test -c release --filter ForwardBenchmarkTests`
final class ForwardBenchmarkTests: XCTestCase {
    func testPrefillAndDecodeThroughput() throws {
        guard ProcessInfo.processInfo.environment["MNEMO_BENCH"] == "1" else { throw XCTSkip("set MNEMO_BENCH=1") }
        var c = TinyModels.llamaConfig(heads: 6, kvHeads: 6)
        c.vocabularySize = 32000
        c.hiddenSize = 288
        c.headDim = 48
        c.intermediateSize = 768
        c.layerCount = 6
        c.contextLength = 1024
        c.rope = RoPEConfig(theta: 10000, dimension: 48, pairing: .interleaved)
        c.tieWordEmbeddings = true
        let model = try LanguageModel.make(config: c, source: TinyModels.llamaSource(c), naming: .huggingFace(gpt2Prefix: ""),
                                           url: URL(fileURLWithPath: "/bench"))
        let prompt = (0..<256).map { ($0 * 7919) % c.vocabularySize }
        let cache = model.makeCache()
        var t0 = Date()
        var logits = try model.forward(prompt, cache: cache, allLogits: false)
        let prefill = Date().timeIntervalSince(t0)
        t0 = Date()
        let steps = 128
        for _ in 0..<steps {
            let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            logits = try model.forward([next], cache: cache, allLogits: false)
        }
        let decode = Date().timeIntervalSince(t0)
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
        print(String(format: "bench stories15M-shape: prefill %d tokens %.1f tok/s; decode %d tokens %.1f tok/s (cache to %d)",
                     prompt.count, Double(prompt.count) / prefill, steps, Double(steps) / decode, cache.count))
    }
}
