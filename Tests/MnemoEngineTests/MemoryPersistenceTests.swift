import XCTest
import MnemoModels
import MnemoTensor
@testable import MnemoEngine

/// Issue #5: "saving and loading document memory, then continuing, equals never having stopped".
///
/// For every plan below, on llama-gqa (GQA), qwen2 (q/k/v biases) and stories260K (llama2.c): read
/// the first part of a document (stopping mid-segment and on a segment boundary), save, load into a
/// fresh state, read the rest. The logits of the rest must be bitwise equal to never stopping: on a
/// segment boundary, to one call over the whole document; inside a segment, to a state that read the
/// same two parts without saving (one call would batch the split segment differently, which rounds
/// differently: see `MemoryEquivalenceTests.testPiecewiseFeedingEqualsOneCall`).
final class MemoryPersistenceTests: XCTestCase {
    static let modelPaths = ["llama-gqa", "qwen2", "stories260K/stories260K.bin"]

    /// Plans over a model with `layers` layers; names say what is exercised.
    static func plans(layers: Int) -> [(String, MemoryPlan)] {
        var out: [(String, MemoryPlan)] = []
        out.append(("XL", MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 16))))
        out.append(("independent segments", MemoryPlan(segmentLength: 8)))
        var gate = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        gate.knn = .init(layers: [0], topK: 4, capacity: 12, fusion: .gate(.value(0.3)), shardCount: 2)
        out.append(("XL + kNN gate, bounded store", gate))
        var joint = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        joint.knn = .init(layers: [layers - 1], topK: 6, index: "HNSW32", fusion: .jointSoftmax, normalizeKeys: false,
                          positions: .trueDistance)
        out.append(("XL + kNN joint softmax, HNSW", joint))
        var retrieval = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        retrieval.retrieval = .init(layerBegin: 0, topK: 6, positions: .windowEdge)
        out.append(("XL + Unlimiformer retrieval", retrieval))
        var bare = MemoryPlan(segmentLength: 5)
        bare.retrieval = .init(layerBegin: 0, topK: 40, positions: .trueDistance)
        out.append(("Unlimiformer retrieval without window", bare))
        var combo = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        combo.knn = .init(layers: [0], topK: 4, capacity: 30, shardCount: 3)
        combo.retrieval = .init(layerBegin: 1, topK: 5)
        out.append(("XL + kNN + retrieval", combo))
        return out
    }

    /// The rest of the document after `stop` tokens, read (a) without stopping, (b) after save and load.
    /// On a segment boundary "without stopping" is one call over the whole document (the same
    /// batches); inside a segment it is a state that read the same two parts without saving (one
    /// call batches the split segment differently, which rounds differently).
    /// - Returns: the state that was saved.
    @discardableResult
    private func checkResume(reader: MemoryModel, tokens: [Int], stop: Int, folder: URL, what: String,
                             viaManifestPlan: Bool = false) throws -> MemoryState {
        let first = Array(tokens[..<stop]), rest = Array(tokens[stop...])
        let V = reader.vocabularySize
        let expected: [Float]
        if stop % reader.plan.segmentLength == 0 {
            expected = Array(try reader.forward(tokens, state: reader.makeState(), allLogits: true)[(stop * V)...])
        } else {
            let reference = reader.makeMemoryState()
            _ = try reader.forward(first, state: reference, allLogits: false)
            expected = try reader.forward(rest, state: reference, allLogits: true)
        }
        let saving = reader.makeMemoryState()
        _ = try reader.forward(first, state: saving, allLogits: false)
        let url = folder.appendingPathComponent("memory-\(stop)")
        try saving.save(to: url, textChecksum: "sha256:test", pendingTokens: [rest[0]])
        let loaded = viaManifestPlan ? try MemoryModel.loadState(from: url, model: reader.model) : try reader.loadState(from: url)
        XCTAssertEqual(loaded.count, saving.count, what)
        XCTAssertEqual(loaded.evictedCount, saving.evictedCount, what)
        XCTAssertEqual(loaded.segmentFill, saving.segmentFill, what)
        XCTAssertEqual(loaded.readBlockStart, saving.readBlockStart, what)
        XCTAssertEqual(loaded.cache.count, saving.cache.count, what)
        XCTAssertEqual(loaded.rowPositions, saving.rowPositions, what)
        XCTAssertEqual(loaded.storedEntries.knn, saving.storedEntries.knn, what)
        XCTAssertEqual(loaded.storedEntries.retrieval, saving.storedEntries.retrieval, what)
        XCTAssertEqual(loaded.memory, saving.memory, what)
        let resumed = try loaded.reader.forward(rest, state: loaded, allLogits: true)
        XCTAssertEqual(resumed.count, rest.count * V, what)
        XCTAssertTrue(resumed == expected, "\(what): resumed logits differ from never stopping by up to \(PersistenceSupport.maxDifference(resumed, expected))")
        let manifest = try MemorySnapshot.readManifest(at: url)
        XCTAssertEqual(manifest.textChecksum, "sha256:test")
        XCTAssertEqual(manifest.pendingTokens, [rest[0]])
        XCTAssertEqual(manifest.tokensRead, stop)
        XCTAssertEqual(manifest.plan, reader.plan)
        return saving
    }

    /// Stops for segment length `S`: inside the fourth segment, and at its end.
    static func stops(_ S: Int) -> [Int] { [3 * S + 3, 4 * S] }

    func testSaveLoadContinueEqualsNeverStopping() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        for path in Self.modelPaths {
            let model = try PersistenceSupport.load(path)
            let tokens = PersistenceSupport.document(model, count: 40)
            for (name, plan) in Self.plans(layers: model.config.layerCount) {
                let reader = try MemoryModel(model: model, plan: plan)
                for stop in Self.stops(plan.segmentLength) {
                    let saved = try checkResume(reader: reader, tokens: tokens, stop: stop, folder: folder,
                                                what: "\(name) on \(path), stop at \(stop)", viaManifestPlan: stop % 2 == 0)
                    // The saved memory was not empty (otherwise the test would prove little).
                    if plan.knn != nil { XCTAssertGreaterThan(saved.storedEntries.knn, 0, "\(name) on \(path)") }
                    if plan.retrieval != nil { XCTAssertGreaterThan(saved.storedEntries.retrieval, 0, "\(name) on \(path)") }
                    if plan.xl != nil { XCTAssertGreaterThan(saved.evictedCount, 0, "\(name) on \(path)") }
                }
            }
        }
    }

    /// RMT memory tokens (with XL, and alone), on llama-gqa given a seeded `memory_cell.memory`:
    /// the saved RMT memory and, mid-segment, the open read block resume exactly.
    func testRMTMemoryTokensResumeExactly() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let url = try PersistenceSupport.modelWithMemoryCell(base: "llama-gqa", count: 3, in: folder)
        let model = try LanguageModel.load(from: url)
        let tokens = PersistenceSupport.document(model, count: 40)
        var withXL = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 16))
        withXL.memoryTokens = .init(count: 3)
        var alone = MemoryPlan(segmentLength: 8)
        alone.memoryTokens = .init(count: 3)
        var withKNN = withXL
        withKNN.knn = .init(layers: [1], topK: 4)
        for (name, plan) in [("RMT + XL", withXL), ("RMT", alone), ("RMT + XL + kNN", withKNN)] {
            let reader = try MemoryModel(model: model, plan: plan)
            for stop in Self.stops(plan.segmentLength) {
                let saved = try checkResume(reader: reader, tokens: tokens, stop: stop, folder: folder, what: "\(name), stop at \(stop)",
                                            viaManifestPlan: stop % 2 == 1)
                // The memory moved away from its initial value; mid-segment a read block is open.
                XCTAssertNotEqual(saved.memory, reader.initialMemory, name)
                XCTAssertEqual(saved.readBlockStart != nil, stop % plan.segmentLength != 0, "\(name), stop at \(stop)")
            }
        }
    }

    /// Greedy generation after loading equals generation from a state that never stopped (same token
    /// ids and bitwise equal log-probabilities), and the same ids as prefilling the whole text at once.
    func testGenerationAfterLoadEqualsNeverStopping() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        for path in Self.modelPaths {
            let session = try MnemoSession.load(model: PersistenceSupport.models.appendingPathComponent(path))
            let tokens = PersistenceSupport.document(session.model, count: 30, seed: 3)
            let options = SamplingOptions(temperature: 0, maxTokens: 4, stopAtEndOfSequence: false)
            let kinds: Set = ["XL + kNN gate, bounded store", "Unlimiformer retrieval without window", "XL + kNN + retrieval"]
            for (name, plan) in Self.plans(layers: session.model.config.layerCount) where kinds.contains(name) {
                let reader = try MemoryModel(model: session.model, plan: plan)
                let stop = 19
                func generate(_ generator: Generator) throws -> [GeneratedToken] {
                    var out: [GeneratedToken] = []
                    while let token = try generator.step() { out.append(token) }
                    return out
                }
                let whole = try Generator(model: reader, tokenizer: session.tokenizer, options: options)
                try whole.prefill(tokens)
                let fromWhole = try generate(whole)

                let unstopped = reader.makeMemoryState()
                _ = try reader.forward(Array(tokens[..<stop]), state: unstopped, allLogits: false)
                let continuing = try Generator(model: reader, tokenizer: session.tokenizer, options: options, continuing: unstopped)
                try continuing.prefill(continuing: Array(tokens[stop...]))
                let fromUnstopped = try generate(continuing)

                let saving = reader.makeMemoryState()
                _ = try reader.forward(Array(tokens[..<stop]), state: saving, allLogits: false)
                let url = folder.appendingPathComponent("gen")
                try saving.save(to: url)
                let loaded = try reader.loadState(from: url)
                let resumed = try Generator(model: reader, tokenizer: session.tokenizer, options: options, continuing: loaded)
                try resumed.prefill(continuing: Array(tokens[stop...]))
                let fromLoaded = try generate(resumed)

                let what = "\(name) on \(path)"
                XCTAssertEqual(fromLoaded.count, 4, what)
                XCTAssertEqual(fromLoaded.map(\.id), fromUnstopped.map(\.id), what)
                XCTAssertEqual(fromLoaded.map(\.logprob), fromUnstopped.map(\.logprob), what)
                XCTAssertEqual(fromLoaded.map(\.id), fromWhole.map(\.id), what)
                XCTAssertEqual(resumed.tokens, Array(tokens[stop...]) + fromLoaded.map(\.id), what)
                XCTAssertEqual(loaded.count, tokens.count + 3, "\(what): the last generated token is not fed")
            }
        }
    }

    /// A continuing generator keeps the loaded state (the shared `Generator(continuing:)` API of the
    /// stream branch); `prefill(_:)` still resets it.
    func testContinuingGeneratorKeepsALoadedState() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let session = try MnemoSession.load(model: PersistenceSupport.models.appendingPathComponent("llama-gqa"))
        let reader = try MemoryModel(model: session.model, plan: MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8)))
        let state = reader.makeMemoryState()
        _ = try reader.forward([5, 6, 7], state: state, allLogits: false)
        try state.save(to: folder.appendingPathComponent("m"))
        let loaded = try reader.loadState(from: folder.appendingPathComponent("m"))
        let generator = try Generator(model: reader, tokenizer: session.tokenizer,
                                      options: SamplingOptions(temperature: 0, maxTokens: 2), continuing: loaded)
        XCTAssertThrowsError(try generator.prefill(continuing: [])) { XCTAssertEqual($0 as? GenerationError, .emptyContinuation) }
        try generator.prefill(continuing: [8, 9])
        XCTAssertEqual(loaded.count, 5)
        try generator.prefill([8, 9])
        XCTAssertEqual(loaded.count, 2)
    }
}
