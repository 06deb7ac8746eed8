import XCTest
import MnemoModels
import MnemoTensor
@testable import MnemoEngine

/// The equivalences that prove the memory mechanisms (issue #5, ARCHITECTURE.md): with unbounded
/// memory, or `topK` at least the stored size, each mechanism reproduces one full-attention pass
/// (per-token log-probabilities within 1e-4), on the tiny transformers-golden models (Llama with
/// GQA, Qwen2 with biases, GPT-2, Llama with YaRN, the GGUF interleaved-RoPE layout) and stories260K.
final class MemoryEquivalenceTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models").standardized

    /// (model path, document length) — documents fill most of each model's context (capped at it,
    /// so that one full-attention pass can see the whole document).
    static let cases: [(String, Int)] = [
        ("llama-gqa", 100), ("qwen2", 100), ("gpt2", 100), ("llama-yarn", 100), ("mistral", 100),
        ("llama-gqa/model-f32.gguf", 100), ("stories260K/stories260K.bin", 300),
    ]

    static func load(_ path: String) throws -> LanguageModel {
        try LanguageModel.load(from: models.appendingPathComponent(path))
    }

    /// Seeded token ids in `1 ..< vocabularySize`.
    static func document(_ model: LanguageModel, count: Int, seed: UInt64 = 7) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in 1 + Int(rng.next() % UInt64(model.config.vocabularySize - 1)) }
    }

    static func assertClose(_ a: ScoreResult, _ b: ScoreResult, tolerance: Double = 1e-4, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.logprobs.count, b.logprobs.count, what, file: file, line: line)
        var worst = 0.0
        for (x, y) in zip(a.logprobs, b.logprobs) {
            guard let x, let y else { XCTAssertTrue(x == nil && y == nil, what, file: file, line: line); continue }
            worst = max(worst, abs(x - y))
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): largest |Δ logprob| = \(worst)", file: file, line: line)
    }

    private func checkEquivalence(_ makePlan: (Int) -> MemoryPlan, _ what: String, maxLength: (Int) -> Int = { context in context }) throws {
        for (path, length) in Self.cases {
            let model = try Self.load(path)
            let n = min(length, maxLength(model.config.contextLength))
            let tokens = Self.document(model, count: n)
            let full = try Scorer(model: model).score(tokens: tokens)
            let reader = try MemoryModel(model: model, plan: makePlan(n))
            let streamed = try Scorer(model: reader).score(tokens: tokens)
            Self.assertClose(streamed, full, "\(what) on \(path)")
        }
    }

    /// XL with `memoryLength` ≥ document length equals one full forward pass.
    func testXLWithUnboundedMemoryEqualsFullAttention() throws {
        // The plan caps memoryLength at context - segmentLength, so the document is that long at most.
        try checkEquivalence({ n in MemoryPlan(segmentLength: 16, xl: .init(memoryLength: n)) }, "XL",
                             maxLength: { context in context - 16 })
    }

    /// kNN memory on every layer with an exact Flat index, `topK` ≥ stored entries, joint softmax and
    /// keys at their true positions equals full attention — the window is small, so almost every
    /// key comes back from the stores.
    func testKNNMemoryWithExactSearchEqualsFullAttention() throws {
        try checkEquivalence({ n in
            var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
            plan.knn = .init(layers: [], topK: n, index: "Flat", fusion: .jointSoftmax, positions: .trueDistance)
            return plan
        }, "kNN", allLayers: \.knn)
    }

    /// Unlimiformer retrieval from layer 0 with `topK` ≥ stored tokens equals full attention.
    func testRetrievalWithLargeTopKEqualsFullAttention() throws {
        try checkEquivalence({ n in
            var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
            plan.retrieval = .init(layerBegin: 0, topK: n, index: "Flat", positions: .trueDistance)
            return plan
        }, "retrieval")
    }

    /// The same with no XL window at all: every past token of every layer comes from the stores.
    func testRetrievalWithoutWindowEqualsFullAttention() throws {
        try checkEquivalence({ n in
            var plan = MemoryPlan(segmentLength: 5)
            plan.retrieval = .init(layerBegin: 0, topK: n, positions: .trueDistance)
            return plan
        }, "retrieval, no window")
    }

    private func checkEquivalence(_ makePlan: (Int) -> MemoryPlan, _ what: String,
                                  allLayers: WritableKeyPath<MemoryPlan, MemoryPlan.KNNMemory?>) throws {
        for (path, length) in Self.cases {
            let model = try Self.load(path)
            let n = min(length, model.config.contextLength)  // full attention must see the whole document
            let tokens = Self.document(model, count: n)
            let full = try Scorer(model: model).score(tokens: tokens)
            var plan = makePlan(n)
            plan[keyPath: allLayers]?.layers = Array(0..<model.config.layerCount)
            let streamed = try Scorer(model: MemoryModel(model: model, plan: plan)).score(tokens: tokens)
            Self.assertClose(streamed, full, "\(what) on \(path)")
        }
    }

    /// RMT with zero memory tokens (and no XL) equals processing each segment independently.
    func testRMTWithoutMemoryTokensEqualsIndependentSegments() throws {
        for (path, n) in Self.cases {
            let model = try Self.load(path)
            let tokens = Self.document(model, count: n)
            let S = 12
            var plan = MemoryPlan(segmentLength: S)
            plan.memoryTokens = .init(count: 0)
            let reader = try MemoryModel(model: model, plan: plan)
            let streamed = try reader.forward(tokens, state: reader.makeState(), allLogits: true)
            var independent: [Float] = []
            for start in stride(from: 0, to: n, by: S) {
                independent += try model.forward(Array(tokens[start ..< min(n, start + S)]), cache: model.makeCache(), allLogits: true)
            }
            XCTAssertEqual(streamed.count, independent.count)
            let worst = zip(streamed, independent).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4, "RMT m=0 on \(path): largest |Δ logit| = \(worst)")
        }
    }

    /// A bounded XL window differs from full attention (the test above is not vacuous) and is
    /// deterministic: reading the same document twice after `reset()` gives identical results.
    func testBoundedWindowDiffersFromFullAttentionAndIsRepeatable() throws {
        let model = try Self.load("llama-gqa")
        let tokens = Self.document(model, count: 100)
        let full = try Scorer(model: model).score(tokens: tokens)
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8)))
        let state = reader.makeMemoryState()
        let a = try reader.forward(tokens, state: state, allLogits: true)
        state.reset()
        let b = try reader.forward(tokens, state: state, allLogits: true)
        XCTAssertEqual(a, b)
        let windowed = try Scorer(model: reader).score(tokens: tokens)
        let differences = zip(windowed.logprobs, full.logprobs).filter { x, y in abs((x ?? 0) - (y ?? 0)) > 1e-3 }
        XCTAssertGreaterThan(differences.count, 10)
        // The first 16 tokens (one segment plus its memory) see the whole past either way.
        for i in 1..<16 { XCTAssertEqual(windowed.logprobs[i]!, full.logprobs[i]!, accuracy: 1e-4) }
    }

    /// Feeding a document in arbitrary pieces equals feeding it at once (segments are formed by the state).
    func testPiecewiseFeedingEqualsOneCall() throws {
        let model = try Self.load("qwen2")
        let tokens = Self.document(model, count: 90)
        var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 16))
        plan.knn = .init(layers: [1], topK: 4, positions: .windowEdge)
        let reader = try MemoryModel(model: model, plan: plan)
        let once = try reader.forward(tokens, state: reader.makeState(), allLogits: true)
        let state = reader.makeState()
        var pieces: [Float] = []
        var i = 0
        for size in [1, 3, 8, 13, 2, 7, 20, 36] {
            pieces += try reader.forward(Array(tokens[i ..< i + size]), state: state, allLogits: true)
            i += size
        }
        XCTAssertEqual(i, tokens.count)
        let worst = zip(once, pieces).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5)
    }

    /// kNN capacity: each store keeps exactly the newest `capacity` entries (oldest evicted first).
    func testKNNCapacityKeepsNewestEntries() throws {
        let model = try Self.load("llama-gqa")
        let tokens = Self.document(model, count: 100)
        var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        plan.knn = .init(layers: [0, 1], topK: 4, capacity: 20, shardCount: 4)
        let reader = try MemoryModel(model: model, plan: plan)
        let state = reader.makeMemoryState()
        _ = try reader.forward(tokens, state: state, allLogits: false)
        // 100 tokens: the last segment (4 tokens) and 8 of memory stay in the window; 88 left it.
        XCTAssertEqual(state.evictedCount, 88)
        for layer in [0, 1] {
            for store in state.knnStores[layer]! {
                XCTAssertEqual(store.count, 20)
                let positions = try (68..<88).map { try store.record(id: Int64($0)).position }
                XCTAssertEqual(positions, (68..<88).map(Int64.init))
                XCTAssertThrowsError(try store.record(id: 67))
            }
        }
    }

    /// Unlimiformer's own encoding: while reading, each chunk is computed on its own after re-encoding
    /// the previous chunk's last `chunkOverlap` tokens (logits equal independent forwards of those
    /// windows); after `endDocument()` every stored token is retrievable by every head of every layer.
    func testOverlappingChunksReadIndependentWindows() throws {
        let model = try Self.load("qwen2")
        let c = model.config
        let tokens = Self.document(model, count: 60)
        var plan = MemoryPlan(segmentLength: 16, xl: .init(memoryLength: 8))
        plan.retrieval = .init(layerBegin: 0, topK: 1000, chunkOverlap: 4, encoding: .overlappingChunks)
        let reader = try MemoryModel(model: model, plan: plan)
        let state = reader.makeMemoryState()
        let streamed = try reader.forward(tokens, state: state, allLogits: true)
        var expected: [Float] = []
        expected += try model.forward(Array(tokens[0..<16]), cache: model.makeCache(), allLogits: true)
        for start in stride(from: 16, to: 60, by: 12) {
            let window = Array(tokens[(start - 4) ..< min(60, start + 12)])
            let logits = try model.forward(window, cache: model.makeCache(), allLogits: true)
            expected += logits[(4 * c.vocabularySize)...]
        }
        XCTAssertEqual(streamed.count, expected.count)
        let worst = zip(streamed, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4)
        XCTAssertEqual(state.storedEntries.retrieval, 52 * c.layerCount)  // chunks before the last one
        state.endDocument()
        XCTAssertEqual(state.cache.count, 8)                                 // tokens 52..<60
        _ = try reader.forward([3], state: state, allLogits: false)
        XCTAssertEqual(state.lastRetrieved, 52 * c.headCount * c.layerCount)
    }
}
