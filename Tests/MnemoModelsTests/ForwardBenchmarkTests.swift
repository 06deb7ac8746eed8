import Foundation
import MnemoTensor
import XCTest
@testable import MnemoModels

/// Opt-in timing of prefill and decode. Not a test of speed: it only runs with `MNEMO_BENCH=1`
/// and asserts the outputs are finite.
///
/// `MNEMO_BENCH=1 [MNEMO_BENCH_MODEL=path.gguf] swift test -c release --filter ForwardBenchmarkTests`
/// Without `MNEMO_BENCH_MODEL` a stories15M-shaped random Llama (dim 288, 6 layers, vocab 32000)
/// is built in memory. `MNEMO_BENCH_PROMPT` / `MNEMO_BENCH_STEPS` set the sizes (256 / 128),
/// `MNEMO_BENCH_THREADS` the kernel and BLAS thread count.
final class ForwardBenchmarkTests: XCTestCase {
    func testPrefillAndDecodeThroughput() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["MNEMO_BENCH"] == "1" else { throw XCTSkip("set MNEMO_BENCH=1") }
        if let threads = Int(env["MNEMO_BENCH_THREADS"] ?? "") { Threading.threadCount = threads }
        let model: LanguageModel
        if let path = env["MNEMO_BENCH_MODEL"] {
            model = try LanguageModel.load(from: URL(fileURLWithPath: path))
        } else {
            var c = TinyModels.llamaConfig(heads: 6, kvHeads: 6)
            c.vocabularySize = 32000
            c.hiddenSize = 288
            c.headDim = 48
            c.intermediateSize = 768
            c.layerCount = 6
            c.contextLength = 1024
            c.rope = RoPEConfig(theta: 10000, dimension: 48, pairing: .interleaved)
            c.tieWordEmbeddings = true
            model = try LanguageModel.make(config: c, source: TinyModels.llamaSource(c), naming: .huggingFace(gpt2Prefix: ""),
                                           url: URL(fileURLWithPath: "/bench"))
        }
        let c = model.config
        let promptLength = Int(env["MNEMO_BENCH_PROMPT"] ?? "") ?? 256
        let steps = Int(env["MNEMO_BENCH_STEPS"] ?? "") ?? 128
        let prompt = (0..<promptLength).map { ($0 * 7919 + 3) % c.vocabularySize }
        // Warm-up (page in the mapped weights).
        _ = try model.forward(Array(prompt.prefix(8)), cache: model.makeCache(), allLogits: false)
        let cache = model.makeCache()
        var t0 = Date()
        var logits = try model.forward(prompt, cache: cache, allLogits: false)
        let prefill = Date().timeIntervalSince(t0)
        t0 = Date()
        for _ in 0..<steps {
            let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            logits = try model.forward([next], cache: cache, allLogits: false)
        }
        let decode = Date().timeIntervalSince(t0)
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
        print(String(format: "bench %@: %d params; prefill %d tokens %.1f tok/s; decode %d tokens %.1f tok/s",
                     model.url.lastPathComponent, model.parameterCount, prompt.count, Double(prompt.count) / prefill,
                     steps, Double(steps) / decode))
    }
}
