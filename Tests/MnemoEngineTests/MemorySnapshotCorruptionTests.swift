import XCTest
import MnemoModels
@testable import MnemoEngine

/// Memory snapshots: every truncation and corruption of every file throws a typed error naming the
/// file; a manifest that is well-formed but inconsistent throws naming the field; no cut traps.
final class MemorySnapshotCorruptionTests: XCTestCase {
    /// A snapshot exercising every file kind: window, positions, hidden states, RMT memory, kNN
    /// stores (two KV heads) and a retrieval datastore, saved mid-segment (an open read block).
    private func makeSnapshot(in folder: URL) throws -> (reader: MemoryModel, url: URL) {
        let modelURL = try PersistenceSupport.modelWithMemoryCell(base: "llama-gqa", count: 2, in: folder)
        let model = try LanguageModel.load(from: modelURL)
        var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        plan.knn = .init(layers: [0], topK: 4, capacity: 12, shardCount: 3)
        plan.retrieval = .init(layerBegin: 1, topK: 4)
        plan.memoryTokens = .init(count: 2)
        let reader = try MemoryModel(model: model, plan: plan)
        let state = reader.makeMemoryState()
        _ = try reader.forward(PersistenceSupport.document(model, count: 29), state: state, allLogits: false)
        let url = folder.appendingPathComponent("snap")
        try state.save(to: url, textChecksum: "sha256:doc", pendingTokens: [7])
        return (reader, url)
    }

    /// Files of the snapshot by relative path, and an in-memory reader over them with one file replaced.
    private func contents(of url: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for path in try PersistenceSupport.files(under: url) { out[path] = try Data(contentsOf: url.appendingPathComponent(path)) }
        return out
    }

    private func reader(_ files: [String: Data], root: URL, replacing name: String, with bytes: Data) -> (URL) throws -> Data {
        let prefix = root.standardizedFileURL.path + "/"
        return { url in
            let relative = String(url.standardizedFileURL.path.dropFirst(prefix.count))
            if relative == name { return bytes }
            guard let data = files[relative] else { throw MemorySnapshotError.corrupt(file: url.path, detail: "missing (test reader)") }
            return data
        }
    }

    /// Loading must throw `.corrupt` naming `name` (or the manifest, for its checksum file).
    private func expectCorrupt(_ body: () throws -> Void, naming name: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("\(what): loaded", file: file, line: line)
        } catch let MemorySnapshotError.corrupt(path, detail) {
            let expected = name == SnapshotLayout.manifestChecksum ? SnapshotLayout.manifest : name
            XCTAssertTrue(path.hasSuffix("/" + expected), "\(what): error names \(path) (\(detail))", file: file, line: line)
            XCTAssertFalse(detail.contains("\n"), file: file, line: line)
        } catch {
            XCTFail("\(what): untyped or unexpected error \(error)", file: file, line: line)
        }
    }

    func testEveryTruncationOfEveryFileThrows() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let (memoryReader, url) = try makeSnapshot(in: folder)
        let files = try contents(of: url)
        let kinds = Set(files.keys.map { $0.split(separator: "/").first.map(String.init) ?? "" })
        XCTAssertEqual(kinds, ["manifest.json", "manifest.sha256", "window.bin", "positions.bin", "hidden.bin", "memory.bin", "knn", "retrieval"])
        XCTAssertGreaterThan(files["memory.bin"]?.count ?? 0, 0)
        var cutsTried = 0
        for (name, original) in files.sorted(by: { $0.key < $1.key }) {
            // Every offset for files up to 128 bytes, else ~64 evenly spaced cuts plus the last bytes.
            let step = original.count <= 128 ? 1 : original.count / 64
            var cuts = Set(stride(from: 0, to: original.count, by: step))
            cuts.formUnion([max(0, original.count - 1), max(0, original.count - 2)])
            cuts.remove(original.count)
            for cut in cuts.sorted() {
                let read = reader(files, root: url, replacing: name, with: original.prefix(cut))
                expectCorrupt({ _ = try memoryReader.loadState(from: url, read: read, size: { try read($0).count }) }, naming: name, "\(name) cut at \(cut) of \(original.count)")
                cutsTried += 1
            }
        }
        XCTAssertGreaterThan(cutsTried, 1000, "\(files.count) files")
        // A missing file, on disk, through the public API.
        let window = url.appendingPathComponent(SnapshotLayout.window)
        let saved = try Data(contentsOf: window)
        try FileManager.default.removeItem(at: window)
        expectCorrupt({ _ = try memoryReader.loadState(from: url) }, naming: SnapshotLayout.window, "window.bin removed")
        try saved.prefix(saved.count / 2).write(to: window)
        expectCorrupt({ _ = try memoryReader.loadState(from: url) }, naming: SnapshotLayout.window, "window.bin halved")
        try saved.write(to: window)
        XCTAssertEqual(try memoryReader.loadState(from: url).count, 29)
    }

    func testFlippedBytesFailTheirChecksum() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let (memoryReader, url) = try makeSnapshot(in: folder)
        let files = try contents(of: url)
        for (name, original) in files.sorted(by: { $0.key < $1.key }) where !original.isEmpty {
            for offset in Set([0, original.count / 3, original.count / 2, original.count - 1]) {
                var bytes = original
                bytes[offset] ^= 0x21
                let read = reader(files, root: url, replacing: name, with: bytes)
                expectCorrupt({ _ = try memoryReader.loadState(from: url, read: read, size: { try read($0).count }) }, naming: name, "\(name) flipped at \(offset)")
            }
        }
    }

    /// A manifest edited consistently with its checksum file (so only the structural checks stand
    /// between it and the state) throws naming the field; no arithmetic traps, nothing huge is allocated.
    func testEditedManifestsThrowNamingTheField() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let (memoryReader, url) = try makeSnapshot(in: folder)
        let manifestURL = url.appendingPathComponent(SnapshotLayout.manifest)
        let original = try Data(contentsOf: manifestURL)
        func load(_ edit: (inout [String: Any]) throws -> Void) throws -> Error? {
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            try edit(&json)
            let bytes = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            try bytes.write(to: manifestURL)
            try Data((SHA256.tagged(bytes) + "\n").utf8).write(to: url.appendingPathComponent(SnapshotLayout.manifestChecksum))
            do { _ = try memoryReader.loadState(from: url); return nil } catch { return error }
        }
        func expect(_ edit: (inout [String: Any]) throws -> Void, _ parts: [String], line: UInt = #line) throws {
            let error = try load(edit)
            guard let error = error as? MemorySnapshotError else { return XCTFail("expected a MemorySnapshotError, got \(String(describing: error))", line: line) }
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), line: line)
            for part in parts { XCTAssertTrue(text.contains(part), "'\(text)' lacks '\(part)'", line: line) }
        }
        func edit<T>(_ key: String, _ change: @escaping (T) -> Any) -> (inout [String: Any]) throws -> Void {
            { json in json[key] = change(try XCTUnwrap(json[key] as? T)) }
        }
        try expect({ $0["windowRows"] = NSNumber(value: Int64(1) << 62) }, ["windowRows 4611686018427387904 outside"])
        try expect(edit("windowRows") { (n: Int) in n + 1 }, ["window.bin", "bytes, the manifest's counts need"])
        try expect(edit("segmentFill") { (n: Int) in n + 1 }, ["segmentFill"])
        try expect({ $0["evictedCount"] = NSNumber(value: Int.max) }, ["evictedCount \(Int.max)"])
        try expect(edit("tokensRead") { (n: Int) in n + 8 }, ["token rows end at position 29, tokensRead is 37"])
        try expect({ $0["readBlockStart"] = nil }, ["readBlockStart is missing"])
        try expect({ $0["readBlockStart"] = 1000 }, ["readBlockStart 1000"])
        try expect({ $0["hiddenLayers"] = [0, 1] }, ["hiddenLayers [0, 1]"])
        try expect(edit("memoryFloats") { (n: Int) in n - 1 }, ["memoryFloats"])
        try expect({ $0["pendingTokens"] = [512] }, ["pending token id 512"])
        try expect(edit("knnStores") { (s: [Any]) in Array(s.dropLast()) }, ["not a whole number of layers"])
        try expect(edit("knnStores") { (s: [[String: Any]]) in s.map { var e = $0; e["layer"] = 1; return e } }, ["kNN store layer 1"])
        try expect(edit("knnStores") { (s: [[String: Any]]) in Array(s.reversed()) }, ["kNN store 0 is layer 0 head 1"])
        try expect(edit("knnStores") { (s: [[String: Any]]) in s.map { var e = $0; e["directory"] = "../../etc"; return e } }, ["'../../etc'"])
        try expect(edit("knnStores") { (s: [[String: Any]]) in s.map { var e = $0; e["count"] = 5; return e } }, ["store holds", "the manifest says 5"])
        try expect(edit("datastores") { (s: [[String: Any]]) in s.map { var e = $0; e["layer"] = 0; return e } }, ["retrieval datastore layer 0"])
        try expect(edit("files") { (s: [[String: Any]]) in s + [["path": "../evil", "bytes": 0, "sha256": "x"]] }, ["file path '../evil'"])
        try expect(edit("files") { (s: [[String: Any]]) in s.filter { ($0["path"] as? String) != "hidden.bin" } }, ["hidden.bin is not listed"])
        try expect({ $0["format"] = "zip" }, ["unsupported memory snapshot format 'zip', expected 'mnemo-memory'"])
        try expect({ $0["formatVersion"] = 3 }, ["unsupported memory snapshot format version 3, expected version 2"])
        try expect({ $0["plan"] = ["segmentLength": 8, "xl": ["memoryLength": 8], "knn": ["layers": [0], "topk": 3]] }, ["not a valid manifest", "topk"])
        try expect(edit("plan") { (p: [String: Any]) in var p = p; p["segmentLength"] = 16; return p },
                   ["was made with another plan: segmentLength is 16 in the snapshot, 8 in the current plan"])
        try expect(edit("model") { (m: [String: Any]) in var m = m; m["layerCount"] = 3; return m },
                   ["was made with another model: layerCount is 3 in the snapshot"])
        try expect(edit("model") { (m: [String: Any]) in var m = m; m["checksum"] = "sha256:00"; return m },
                   ["same shape, different weights", "sha256:00 in the snapshot"])
        try expect(edit("model") { (m: [String: Any]) in var m = m; m["planTensors"] = "sha256:11"; return m },
                   ["the checkpoint values the plan reads", "sha256:11 in the snapshot"])
        // The unedited manifest (re-encoded) still loads.
        XCTAssertNil(try load { _ in })
    }

    func testCorruptManifestJSONIsOneLineError() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let (memoryReader, url) = try makeSnapshot(in: folder)
        let bytes = Data("{\"format\": \"mnemo-memory\",\n \"formatVersion\": 1}".utf8)
        try bytes.write(to: url.appendingPathComponent(SnapshotLayout.manifest))
        try Data((SHA256.tagged(bytes) + "\n").utf8).write(to: url.appendingPathComponent(SnapshotLayout.manifestChecksum))
        expectCorrupt({ _ = try memoryReader.loadState(from: url) }, naming: SnapshotLayout.manifest, "a manifest without fields")
        XCTAssertThrowsError(try MemorySnapshot.readManifest(at: folder.appendingPathComponent("nothing-here"))) { error in
            XCTAssertTrue("\(error)".contains("nothing-here/manifest.json: missing or unreadable"), "\(error)")
        }
    }
}
