import XCTest
import MnemoModels
@testable import MnemoEngine

/// Memory snapshots: interrupted saves keep the previous snapshot loadable; another model or plan
/// is refused with one line naming what differs.
final class MemorySnapshotAtomicityTests: XCTestCase {
    private static func plan() -> MemoryPlan {
        var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        plan.knn = .init(layers: [1], topK: 4, capacity: 12, shardCount: 3)
        plan.retrieval = nil
        return plan
    }

    /// A state of `reader` that read the first `count` tokens of the test document.
    private func state(_ reader: MemoryModel, reading count: Int) throws -> MemoryState {
        let state = reader.makeMemoryState()
        _ = try reader.forward(PersistenceSupport.document(reader.model, count: count), state: state, allLogits: false)
        return state
    }

    /// `loaded` is the state that read `count` tokens: same counters, and reading on gives bitwise
    /// the same logits as a fresh state that read them.
    private func assertIsState(_ loaded: MemoryState, reading count: Int, _ what: String, line: UInt = #line) throws {
        let reader = loaded.reader
        XCTAssertEqual(loaded.count, count, what, line: line)
        let more = Array(PersistenceSupport.document(reader.model, count: count + 6)[count...])
        let reference = try state(reader, reading: count)
        let expected = try reader.forward(more, state: reference, allLogits: true)
        XCTAssertEqual(try reader.forward(more, state: loaded, allLogits: true), expected, what, line: line)
    }

    private struct Crash: Error {}

    /// A save killed after any file (the simulated kill throws where the process would die) leaves
    /// the previous snapshot loadable, and the temporary directory is cleaned up; a kill between the
    /// two renames leaves only `<name>.backup`, which loading falls back to; a kill before the backup
    /// is removed loads the new snapshot; the next save cleans up every leftover.
    func testInterruptedSaveKeepsThePreviousSnapshot() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let reader = try MemoryModel(model: try PersistenceSupport.load("llama-gqa"), plan: Self.plan())
        let url = folder.appendingPathComponent("book.memory")
        let old = try state(reader, reading: 27)
        let new = try state(reader, reading: 35)
        try old.save(to: url)
        var stages: [MemorySnapshot.SaveStage] = []
        try new.save(to: folder.appendingPathComponent("count"), textChecksum: nil, pendingTokens: []) { stages.append($0) }
        let writes = stages.filter { if case .wroteFile = $0 { return true } else { return false } }.count
        XCTAssertEqual(writes, 4 + 2 + 2, "4 data files, 2 kNN stores, manifest and its checksum: \(stages)")
        XCTAssertEqual(stages.last, .movedNewIntoPlace, "a first save has nothing to move aside")
        for stop in 1...writes {
            var seen = 0
            XCTAssertThrowsError(try new.save(to: url, textChecksum: nil, pendingTokens: []) { stage in
                if case .wroteFile = stage { seen += 1; if seen == stop { throw Crash() } }
            })
            try assertIsState(try reader.loadState(from: url), reading: 27, "killed after write \(stop)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }, [])
        }
        // Killed between the renames: no target, a complete backup.
        XCTAssertThrowsError(try new.save(to: url, textChecksum: nil, pendingTokens: []) { if $0 == .movedOldAside { throw Crash() } })
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        try assertIsState(try reader.loadState(from: url), reading: 27, "killed between the renames")
        XCTAssertEqual(try MemorySnapshot.readManifest(at: url).tokensRead, 27)
        // A later save puts the new snapshot in place and removes the backup.
        try new.save(to: url)
        try assertIsState(try reader.loadState(from: url), reading: 35, "saved after the crash")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["book.memory", "count"])
        // Killed before the backup is removed: the new snapshot is in place.
        XCTAssertThrowsError(try old.save(to: url, textChecksum: nil, pendingTokens: []) { if $0 == .movedNewIntoPlace { throw Crash() } })
        try assertIsState(try reader.loadState(from: url), reading: 27, "killed before removing the backup")
        // A hard kill leaves a half-written temporary directory: loading ignores it, the next save removes it.
        let stale = folder.appendingPathComponent(".book.memory.tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: stale.appendingPathComponent("window.bin"))
        try assertIsState(try reader.loadState(from: url), reading: 27, "next to a stale temporary directory")
        try new.save(to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["book.memory", "count"])
        try assertIsState(try reader.loadState(from: url), reading: 35, "final")
    }

    /// Another model: one line naming the first differing fact (or the weights), for both load paths.
    func testAnotherModelIsRefusedNamingWhatDiffers() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let llama = try PersistenceSupport.load("llama-gqa")
        let url = folder.appendingPathComponent("memory")
        try state(try MemoryModel(model: llama, plan: Self.plan()), reading: 20).save(to: url)

        let qwen = try PersistenceSupport.load("qwen2")
        for load in [{ try MemoryModel(model: qwen, plan: Self.plan()).loadState(from: url) },
                     { try MemoryModel.loadState(from: url, model: qwen) }] {
            XCTAssertThrowsError(try load()) { error in
                guard case .modelMismatch = error as? MemorySnapshotError else { return XCTFail("\(error)") }
                XCTAssertEqual("\(error)".split(separator: "\n").count, 1)
                XCTAssertTrue("\(error)".hasPrefix("memory snapshot \(url.path) was made with another model: architecture is llama in the snapshot (model llama-gqa), qwen2 in the loaded model qwen2 (model checksum sha256:"), "\(error)")
            }
        }
        // The same weights exported as GGUF: same shape, other files.
        let gguf = try PersistenceSupport.load("llama-gqa/model-f32.gguf")
        XCTAssertThrowsError(try MemoryModel.loadState(from: url, model: gguf)) { error in
            XCTAssertTrue("\(error)".contains("was made with another model: same shape, different weights: snapshot model llama-gqa, loaded model model-f32.gguf"), "\(error)")
        }
        // A copy of the model folder elsewhere is the same model.
        let copy = folder.appendingPathComponent("copied-llama")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: false)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: PersistenceSupport.models.appendingPathComponent("llama-gqa/\(name)"), to: copy.appendingPathComponent(name))
        }
        XCTAssertEqual(try MemoryModel.loadState(from: url, model: try LanguageModel.load(from: copy)).count, 20)
    }

    func testAnotherPlanIsRefusedNamingTheKey() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let model = try PersistenceSupport.load("llama-gqa")
        let url = folder.appendingPathComponent("memory")
        try state(try MemoryModel(model: model, plan: Self.plan()), reading: 20).save(to: url)
        var longer = Self.plan()
        longer.xl = .init(memoryLength: 24)
        XCTAssertThrowsError(try MemoryModel(model: model, plan: longer).loadState(from: url)) { error in
            XCTAssertEqual(error as? MemorySnapshotError, .planMismatch(snapshot: url.path, path: "xl.memoryLength", saved: "8", current: "24"))
            XCTAssertEqual("\(error)", "memory snapshot \(url.path) was made with another plan: xl.memoryLength is 8 in the snapshot, 24 in the current plan")
        }
        var noKNN = Self.plan()
        noKNN.knn = nil
        XCTAssertThrowsError(try MemoryModel(model: model, plan: noKNN).loadState(from: url)) { error in
            XCTAssertTrue("\(error)".contains("was made with another plan: knn is {\""), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("} in the snapshot, absent in the current plan"), "\(error)")
        }
        var otherLayer = Self.plan()
        otherLayer.knn?.layers = [0]
        XCTAssertThrowsError(try MemoryModel(model: model, plan: otherLayer).loadState(from: url)) { error in
            XCTAssertTrue("\(error)".hasSuffix("knn.layers[0] is 1 in the snapshot, 0 in the current plan"), "\(error)")
        }
    }

    /// Saving a state whose pending token is outside the vocabulary is refused before anything is written.
    func testBadPendingTokenIsRefused() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let reader = try MemoryModel(model: try PersistenceSupport.load("llama-gqa"), plan: Self.plan())
        XCTAssertThrowsError(try state(reader, reading: 3).save(to: folder.appendingPathComponent("m"), pendingTokens: [-1])) { error in
            XCTAssertEqual("\(error)", "cannot save the memory state: pending token id -1 is outside the vocabulary 0..<512")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }
}

extension MemorySnapshotAtomicityTests {
    /// A save never replaces a file or a non-empty directory that is not a memory snapshot.
    func testSaveRefusesToReplaceSomethingElse() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let reader = try MemoryModel(model: try PersistenceSupport.load("llama-gqa"), plan: MemoryPlan(segmentLength: 8))
        let state = reader.makeMemoryState()
        _ = try reader.forward([1, 2, 3], state: state, allLogits: false)
        let documents = folder.appendingPathComponent("Documents")
        try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: false)
        try Data("keep me".utf8).write(to: documents.appendingPathComponent("thesis.txt"))
        XCTAssertThrowsError(try state.save(to: documents)) { error in
            XCTAssertEqual("\(error)", "\(documents.path): exists and is not a memory snapshot (no manifest.sha256); refusing to replace it")
        }
        XCTAssertEqual(try String(contentsOf: documents.appendingPathComponent("thesis.txt"), encoding: .utf8), "keep me")
        let file = folder.appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try state.save(to: file)) { XCTAssertTrue("\($0)".contains("exists and is a file"), "\($0)") }
        // An empty directory and an existing snapshot are fine.
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try state.save(to: empty)
        try state.save(to: empty)
        XCTAssertEqual(try reader.loadState(from: empty).count, 3)
    }
}
