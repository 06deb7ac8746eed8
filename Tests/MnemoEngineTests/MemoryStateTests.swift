import XCTest
import MnemoModels
import MnemoTensor
@testable import MnemoEngine

/// MemoryState bookkeeping: document boundaries and indexes that need training.
final class MemoryStateTests: XCTestCase {
    private func model() throws -> LanguageModel { try MemoryEquivalenceTests.load("llama-gqa") }

    /// `beginDocument()` clears the window and retrieval stores always, kNN stores only with `resetOnDocument`.
    func testBeginDocumentKeepsKNNStoresWhenAsked() throws {
        let model = try model()
        let tokens = MemoryEquivalenceTests.document(model, count: 60)
        for reset in [true, false] {
            var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
            plan.knn = .init(layers: [0], topK: 4, resetOnDocument: reset)
            let reader = try MemoryModel(model: model, plan: plan)
            let state = reader.makeMemoryState()
            _ = try reader.forward(tokens, state: state, allLogits: false)
            let stored = state.storedEntries.knn
            XCTAssertEqual(stored, 48 * model.config.kvHeadCount)  // 6 segment starts × 8 rows
            state.beginDocument()
            XCTAssertEqual(state.count, 0)
            XCTAssertEqual(state.cache.count, 0)
            XCTAssertEqual(state.storedEntries.knn, reset ? 0 : stored)
        }
    }

    /// An IVF store is trained once enough keys have left the window (39 per list); before that the
    /// keys wait and nothing is retrieved, afterwards all of them are searchable.
    func testIVFStoreTrainsWhenEnoughKeysArrived() throws {
        XCTAssertEqual(MemoryState.trainingPoints(for: "IVF4,Flat"), 156)
        XCTAssertEqual(MemoryState.trainingPoints(for: "IVF1024,PQ16"), 39 * 1024)
        XCTAssertEqual(MemoryState.trainingPoints(for: "PQ8"), 39 * 256)
        XCTAssertEqual(MemoryState.trainingPoints(for: "HNSW32"), 0)
        XCTAssertEqual(MemoryState.trainingPoints(for: "Flat"), 0)
        let model = try model()
        var plan = MemoryPlan(segmentLength: 16, xl: .init(memoryLength: 16))
        plan.knn = .init(layers: [1], topK: 8, index: "IVF4,Flat")
        let reader = try MemoryModel(model: model, plan: plan)
        let state = reader.makeMemoryState()
        _ = try reader.forward(MemoryEquivalenceTests.document(model, count: 112), state: state, allLogits: false)
        XCTAssertEqual(state.evictedCount, 80)             // < 156: still waiting
        XCTAssertEqual(state.storedEntries.knn, 0)
        _ = try reader.forward(MemoryEquivalenceTests.document(model, count: 96, seed: 9), state: state, allLogits: false)
        XCTAssertEqual(state.evictedCount, 176)            // ≥ 156: trained, everything stored
        XCTAssertEqual(state.storedEntries.knn, 176 * model.config.kvHeadCount)
        XCTAssertTrue(state.pendingTraining.isEmpty)
        XCTAssertGreaterThan(state.lastRetrieved, 0)
    }

    /// States the snapshot format cannot describe yet are refused with a clear error, never saved wrong.
    func testUnsavableStatesAreRefused() throws {
        let model = try model()
        var ivf = MemoryPlan(segmentLength: 16, xl: .init(memoryLength: 16))
        ivf.knn = .init(layers: [1], topK: 8, index: "IVF4,Flat")
        for (plan, message) in [(ivf, "waiting for enough keys")] {
            let reader = try MemoryModel(model: model, plan: plan)
            let state = reader.makeMemoryState()
            _ = try reader.forward(MemoryEquivalenceTests.document(model, count: 64), state: state, allLogits: false)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-unsavable-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            XCTAssertThrowsError(try state.save(to: directory)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path))
        }
    }
}
