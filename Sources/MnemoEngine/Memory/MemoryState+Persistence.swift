// Persistent document memory (issue #5 item 8, ARCHITECTURE.md "Persistent document memory"):
// a MemoryState saved to a snapshot directory and loaded into a fresh state of the same model and
// plan, so that reading on equals never having stopped. Format: Docs/Memory.md.
import Foundation
import MnemoModels
import MnemoMemory

extension MemoryState {
    /// Saves everything the state holds — the window (every layer's cached keys, rotated to their
    /// row, and values), row positions, counters, RMT memory, the retrieval layers' window hidden
    /// states, every kNN store and retrieval datastore — with a manifest naming the model, the plan
    /// and `textChecksum`, atomically replacing any snapshot at `directory`.
    ///
    /// ```swift
    /// _ = try reader.forward(firstHalf, state: state, allLogits: false)
    /// try state.save(to: URL(fileURLWithPath: "book.memory"), textChecksum: MemorySnapshot.textChecksum(of: bytes))
    /// let restored = try reader.loadState(from: URL(fileURLWithPath: "book.memory"))
    /// _ = try reader.forward(secondHalf, state: restored, allLogits: false)   // as if never stopped
    /// ```
    /// - Parameters:
    ///   - directory: the snapshot directory (created; its parent too).
    ///   - textChecksum: any checksum of the document, recorded in the manifest (see `MemorySnapshot.textChecksum(of:)`).
    ///   - pendingTokens: ids of the document not run yet, recorded for whoever continues (each in the vocabulary).
    /// - Throws: `MemorySnapshotError.io` when the file system fails (a previous snapshot stays intact),
    ///   `.unsavableState` for a state left inconsistent by an earlier error or a bad pending token.
    /// - Complexity: O(window + stored entries); every byte written is read back once for its SHA-256.
    public func save(to directory: URL, textChecksum: String? = nil, pendingTokens: [Int] = []) throws {
        try save(to: directory, textChecksum: textChecksum, pendingTokens: pendingTokens, faultInjection: nil)
    }

    func save(to directory: URL, textChecksum: String?, pendingTokens: [Int],
              faultInjection: ((MemorySnapshot.SaveStage) throws -> Void)?) throws {
        let c = config
        let rows = cache.count
        guard rowPositions.count == rows, windowHidden.values.allSatisfy({ $0.count == rows * c.hiddenSize }),
              memory.count == reader.initialMemory.count else {
            throw MemorySnapshotError.unsavableState(detail: "the window's mirrors are out of step (\(rowPositions.count) positions for \(rows) rows): a read failed; call reset()")
        }
        let waiting = pendingTraining.values.reduce(0) { $0 + $1.positions.count }
        if waiting > 0 {
            throw MemorySnapshotError.unsavableState(detail: "\(waiting) evicted entries are still waiting for enough keys to train the \(plan.knn?.index ?? plan.retrieval?.index ?? "") index; read more of the document first, or use a Flat or HNSW index")
        }
        if let bad = pendingTokens.first(where: { $0 < 0 || $0 >= c.vocabularySize }) {
            throw MemorySnapshotError.unsavableState(detail: "pending token id \(bad) is outside the vocabulary 0..<\(c.vocabularySize)")
        }
        let identity = try reader.snapshotIdentity()
        let hiddenLayers = windowHidden.keys.sorted()
        try MemorySnapshot.writeAtomically(to: directory, faultInjection: faultInjection) { temporary in
            func write(_ data: Data, _ name: String) throws {
                try MemorySnapshot.write(data, to: temporary.appendingPathComponent(name))
                try faultInjection?(.wroteFile(name))
            }
            var window = Data()
            for layer in 0..<c.layerCount {
                let (keys, values) = cache.copyRows(layer: layer, 0..<rows)
                window.append(SnapshotBytes.data(keys))
                window.append(SnapshotBytes.data(values))
            }
            try write(window, SnapshotLayout.window)
            try write(SnapshotBytes.data(rowPositions.map(Int64.init)), SnapshotLayout.positions)
            try write(SnapshotBytes.data(hiddenLayers.flatMap { windowHidden[$0] ?? [] }), SnapshotLayout.hidden)
            try write(SnapshotBytes.data(memory), SnapshotLayout.memory)
            var knn: [MemorySnapshotManifest.Store] = []
            for layer in knnStores.keys.sorted() {
                for (head, store) in (knnStores[layer] ?? []).enumerated() {
                    let path = SnapshotLayout.knnDirectory(layer: layer, head: head)
                    try Self.saveStore(store, to: temporary.appendingPathComponent(path))
                    knn.append(.init(layer: layer, head: head, directory: path, count: store.count))
                    try faultInjection?(.wroteFile(path))
                }
            }
            var retrieval: [MemorySnapshotManifest.Store] = []
            for layer in datastores.keys.sorted() {
                guard let store = datastores[layer] else { continue }
                let path = SnapshotLayout.datastoreDirectory(layer: layer)
                try Self.saveStore(store, to: temporary.appendingPathComponent(path))
                retrieval.append(.init(layer: layer, head: nil, directory: path, count: store.count))
                try faultInjection?(.wroteFile(path))
            }
            return MemorySnapshotManifest(
                format: MemorySnapshotManifest.formatName, formatVersion: MemorySnapshotManifest.currentVersion,
                model: identity, plan: plan, textChecksum: textChecksum, pendingTokens: pendingTokens,
                tokensRead: count, evictedCount: evictedCount, segmentFill: segmentFill, windowRows: rows,
                readBlockStart: readBlockStart, hiddenLayers: hiddenLayers, memoryFloats: memory.count,
                knnStores: knn, datastores: retrieval, files: [],
                chunkReading: plan.retrieval?.encoding == .overlappingChunks
                    ? .init(readingInChunks: readingInChunks, chunkContextRows: chunkContextRows, recentTokens: recentTokens) : nil)
        }
    }

    private static func saveStore(_ store: ShardedVectorStore, to url: URL) throws {
        do { try IndexSnapshot.save(store, to: url) } catch {
            throw MemorySnapshotError.io(file: url.path, detail: "cannot save the vector store: \(error)")
        }
    }

    /// The configuration every kNN store of this plan is created with (nil without kNN memory).
    var knnStoreConfiguration: VectorStoreConfiguration? {
        guard let knn = plan.knn else { return nil }
        return VectorStoreConfiguration(
            dimension: config.headDim, valueDimension: 2 * config.headDim, indexDescription: knn.index,
            capacity: knn.capacity ?? VectorStoreConfiguration.maxCapacity,
            shardCount: knn.shardCount ?? knn.capacity.map { min(4, $0) } ?? 1)
    }

    /// The configuration every retrieval datastore of this plan is created with (nil without retrieval).
    /// The key is the hidden state and so is the value: an index that keeps exact vectors (Flat, HNSW)
    /// gives it back (`ShardedVectorStore.keys(for:)`), so no value copy is stored (value dimension 0);
    /// other indexes (IVF, PQ, SQ) keep an f32 copy beside the index.
    var datastoreConfiguration: VectorStoreConfiguration? {
        guard let retrieval = plan.retrieval else { return nil }
        let copies = !FAISSDescription.keepsExactVectors(retrieval.index)
        return VectorStoreConfiguration(dimension: config.hiddenSize, valueDimension: copies ? config.hiddenSize : 0,
                                        indexDescription: retrieval.index, capacity: VectorStoreConfiguration.maxCapacity,
                                        shardCount: 1)
    }
}

extension MemoryModel {
    /// Loads a snapshot saved by `MemoryState.save(to:textChecksum:pendingTokens:)` into a fresh
    /// state of this model and plan: reading on from it equals never having stopped.
    ///
    /// Falls back to `<directory>.backup` when `directory` is missing after an interrupted save.
    /// - Throws: `MemorySnapshotError.modelMismatch` / `.planMismatch` (one line naming what differs),
    ///   `.corrupt` naming the file for any missing, truncated or corrupt file or inconsistent
    ///   manifest, `.unsupportedFormat`, `.io` when this model's files cannot be read for its checksum.
    /// - Complexity: O(snapshot bytes): every file's SHA-256 is checked before it is parsed.
    public func loadState(from directory: URL) throws -> MemoryState {
        try loadState(from: directory, read: MemorySnapshot.readFile, size: MemorySnapshot.fileSize)
    }

    /// Loads a snapshot with the plan recorded in its manifest: the model is checked first, then a
    /// `MemoryModel` is made for `model` and that plan (it is the returned state's `reader`).
    /// - Throws: as `loadState(from:)`.
    public static func loadState(from directory: URL, model: LanguageModel) throws -> MemoryState {
        let resolved = MemorySnapshot.resolve(directory)
        let (manifest, path) = try MemorySnapshot.readManifest(in: resolved, read: MemorySnapshot.readFile)
        let identity = try ModelIdentityRegistry.shared.identity(of: model)
        var saved = manifest.model
        saved.planTensors = nil
        if let difference = saved.difference(from: identity) {
            throw MemorySnapshotError.modelMismatch(snapshot: resolved.path, detail: difference)
        }
        let reader: MemoryModel
        do { reader = try MemoryModel(model: model, plan: manifest.plan) } catch {
            throw MemorySnapshotError.corrupt(file: path, detail: "its plan does not fit the model: \(MemorySnapshot.oneLine("\(error)", limit: 300))")
        }
        return try reader.loadState(from: resolved)
    }

    /// This model's identity with the checkpoint values the plan reads.
    func snapshotIdentity() throws -> ModelIdentity {
        var identity = try ModelIdentityRegistry.shared.identity(of: model)
        identity.planTensors = ModelIdentity.checksum(of: gates.keys.sorted().compactMap { gates[$0] } + [initialMemory])
        return identity
    }

    /// `loadState(from:)` with the file reader injectable (tests cut files in memory).
    func loadState(from directory: URL, read: (URL) throws -> Data, size: (URL) throws -> Int) throws -> MemoryState {
        let resolved = MemorySnapshot.resolve(directory)
        let (manifest, manifestPath) = try MemorySnapshot.readManifest(in: resolved, read: read)
        // Model and plan first (cheap, and the likeliest mistake), then every file's size and checksum.
        if let difference = manifest.model.difference(from: try snapshotIdentity()) {
            throw MemorySnapshotError.modelMismatch(snapshot: resolved.path, detail: difference)
        }
        if manifest.plan != plan {
            let (path, saved, current) = MemoryPlan.firstDifference(manifest.plan, plan)
            throw MemorySnapshotError.planMismatch(snapshot: resolved.path, path: path, saved: saved, current: current)
        }
        let contents = try MemorySnapshot.verifyFiles(manifest, in: resolved, manifestPath: manifestPath, read: read, size: size)
        let state = makeMemoryState()
        try SnapshotRestorer(manifest: manifest, manifestPath: manifestPath, directory: resolved, contents: contents, state: state).restore()
        return state
    }
}

extension MemoryPlan {
    /// The first key path where two plans' JSON forms differ, with both values as compact JSON.
    static func firstDifference(_ a: MemoryPlan, _ b: MemoryPlan) -> (path: String, a: String, b: String) {
        func object(_ plan: MemoryPlan) -> Any {
            guard let data = try? plan.jsonData(), let value = try? JSONSerialization.jsonObject(with: data) else {
                return "\(plan)"  // a plan that cannot be encoded (non-finite gate value): compare descriptions
            }
            return value
        }
        func text(_ value: Any?) -> String {
            guard let value else { return "absent" }
            if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
                return String(decoding: data, as: UTF8.self)
            }
            return "\(value)"
        }
        func walk(_ x: Any?, _ y: Any?, _ path: String) -> (String, String, String)? {
            if let x = x as? [String: Any], let y = y as? [String: Any] {
                for key in Set(x.keys).union(y.keys).sorted() {
                    if let found = walk(x[key], y[key], path.isEmpty ? key : path + "." + key) { return found }
                }
                return nil
            }
            if let x = x as? [Any], let y = y as? [Any], x.count == y.count {
                for i in x.indices { if let found = walk(x[i], y[i], "\(path)[\(i)]") { return found } }
                return nil
            }
            let (tx, ty) = (text(x), text(y))
            return tx == ty ? nil : (path.isEmpty ? "plan" : path, tx, ty)
        }
        return walk(object(a), object(b), "") ?? ("plan", "\(a)", "\(b)")
    }
}
