import Foundation
import MnemoModels
import MnemoMemory

/// Checks a verified snapshot's manifest against the plan and model (every count, range and file
/// size) and fills a fresh `MemoryState` from it. Files have passed their SHA-256 check already; these
/// checks catch a manifest that is well-formed but inconsistent, so nothing traps or over-allocates.
struct SnapshotRestorer {
    let manifest: MemorySnapshotManifest
    let manifestPath: String
    let directory: URL
    /// Top-level files by name.
    let contents: [String: Data]
    let state: MemoryState

    private func bad(_ detail: String) -> MemorySnapshotError { .corrupt(file: manifestPath, detail: detail) }

    func restore() throws {
        let c = state.config
        let plan = state.plan
        let m = manifest
        let S = plan.segmentLength
        let memoryTokens = plan.memoryTokens?.count ?? 0
        let keep = plan.xl?.memoryLength ?? 0
        let rows = m.windowRows

        // Counters.
        guard m.tokensRead >= 0, m.evictedCount >= 0, m.evictedCount <= m.tokensRead else {
            throw bad("evictedCount \(m.evictedCount) and tokensRead \(m.tokensRead) must satisfy 0 <= evictedCount <= tokensRead")
        }
        let chunked = plan.retrieval?.encoding == .overlappingChunks
        if chunked {
            try checkChunkReading(S: S)
        } else {
            guard m.chunkReading == nil else { throw bad("chunkReading is set, but the plan's retrieval encoding is not overlappingChunks") }
            guard m.segmentFill == m.tokensRead % S else {
                throw bad("segmentFill \(m.segmentFill), expected tokensRead % segmentLength = \(m.tokensRead % S)")
            }
        }
        let maxRows = keep + S + 2 * memoryTokens  // the window's capacity (plan values are validated, no overflow)
        guard rows >= 0, rows <= maxRows else { throw bad("windowRows \(rows) outside 0...\(maxRows)") }
        let openBlock = memoryTokens > 0 && m.segmentFill > 0
        if let start = m.readBlockStart {
            guard openBlock, start >= 0, start <= rows - memoryTokens else {
                throw bad("readBlockStart \(start) with \(rows) window rows, \(memoryTokens) memory tokens and segmentFill \(m.segmentFill)")
            }
        } else if openBlock {
            throw bad("readBlockStart is missing inside a segment with \(memoryTokens) memory tokens")
        }
        let retrievalLayers = plan.retrieval.map { Array($0.layerBegin ..< c.layerCount) } ?? []
        guard m.hiddenLayers == retrievalLayers else {
            throw bad("hiddenLayers \(m.hiddenLayers), the plan's retrieval layers are \(retrievalLayers)")
        }
        guard m.memoryFloats == state.reader.initialMemory.count else {
            throw bad("memoryFloats \(m.memoryFloats), expected \(state.reader.initialMemory.count) (memory tokens x hiddenSize)")
        }
        if let token = m.pendingTokens.first(where: { $0 < 0 || $0 >= c.vocabularySize }) {
            throw bad("pending token id \(token) is outside the vocabulary 0..<\(c.vocabularySize)")
        }

        // File sizes (rows <= maxRows keeps every product small).
        let kvW = c.kvWidth, H = c.hiddenSize
        let window = try file(SnapshotLayout.window, floats: 2 * c.layerCount * rows * kvW)
        let positionsData = try file(SnapshotLayout.positions, bytes: rows * 8)
        let hidden = try file(SnapshotLayout.hidden, floats: m.hiddenLayers.count * rows * H)
        let memory = try file(SnapshotLayout.memory, floats: m.memoryFloats)

        // Positions: token rows are evictedCount ..< tokensRead in order; -1 exactly on the read block.
        let positions = SnapshotBytes.int64s(positionsData, count: rows)
        var nextToken = Int64(m.evictedCount)
        for (r, p) in positions.enumerated() {
            let inBlock = m.readBlockStart.map { r >= $0 && r < $0 + memoryTokens } ?? false
            if inBlock {
                guard p == -1 else { throw bad("positions.bin row \(r) is \(p), expected -1 (RMT read block)") }
            } else {
                guard p == nextToken else { throw bad("positions.bin row \(r) is \(p), expected \(nextToken)") }
                nextToken += 1
            }
        }
        guard nextToken == Int64(m.tokensRead) else {
            throw bad("the window's token rows end at position \(nextToken), tokensRead is \(m.tokensRead)")
        }

        // Stores.
        let knnStores = try loadKNNStores()
        let datastores = try loadDatastores(retrievalLayers: retrievalLayers)

        // Fill the fresh state.
        var keys: [[Float]] = [], values: [[Float]] = []
        for layer in 0..<c.layerCount {
            let base = 2 * layer * rows * kvW * 4
            keys.append(SnapshotBytes.floats(window, offset: base, count: rows * kvW))
            values.append(SnapshotBytes.floats(window, offset: base + rows * kvW * 4, count: rows * kvW))
        }
        do { try state.cache.appendRows(keys: keys, values: values, rows: rows) } catch {
            throw bad("window.bin does not fit the model's cache: \(error)")
        }
        state.rowPositions = positions.map { Int($0) }
        state.evictedCount = m.evictedCount
        state.count = m.tokensRead
        state.segmentFill = m.segmentFill
        state.readBlockStart = m.readBlockStart
        state.memory = m.memoryFloats > 0 ? SnapshotBytes.floats(memory, count: m.memoryFloats) : state.reader.initialMemory
        for (i, layer) in m.hiddenLayers.enumerated() {
            state.windowHidden[layer] = SnapshotBytes.floats(hidden, offset: i * rows * H * 4, count: rows * H)
        }
        state.knnStores = knnStores
        state.datastores = datastores
        if let chunks = m.chunkReading {
            state.restoreChunkReading(inChunks: chunks.readingInChunks, contextRows: chunks.chunkContextRows, recentTokens: chunks.recentTokens)
        }
    }

    /// `overlappingChunks`: the chunk bookkeeping fits the plan and the counters. While reading in chunks
    /// a chunk holds `chunkContextRows` re-encoded rows and up to `segmentLength - chunkContextRows` new
    /// tokens (`segmentFill`, 0 right after a chunk completes); after `endDocument()` segments restart
    /// where the document ended, so `segmentFill` is only bounded by the segment length.
    private func checkChunkReading(S: Int) throws {
        let m = manifest
        guard let chunks = m.chunkReading else { throw bad("chunkReading is missing for an overlappingChunks plan") }
        let overlap = state.plan.retrieval?.chunkOverlap ?? 0
        // While reading: the last min(chunkOverlap, tokensRead) ids; after the end they stay as they were then.
        let expected = chunks.readingInChunks ? min(overlap, m.tokensRead) ..< min(overlap, m.tokensRead) + 1 : 0 ..< overlap + 1
        guard expected.contains(chunks.recentTokens.count) else {
            throw bad("chunkReading.recentTokens has \(chunks.recentTokens.count) ids, expected \(expected.lowerBound)...\(expected.upperBound - 1) (chunkOverlap \(overlap), tokensRead \(m.tokensRead))")
        }
        if let token = chunks.recentTokens.first(where: { $0 < 0 || $0 >= state.config.vocabularySize }) {
            throw bad("chunkReading.recentTokens id \(token) is outside the vocabulary 0..<\(state.config.vocabularySize)")
        }
        if chunks.readingInChunks {
            guard chunks.chunkContextRows >= 0, chunks.chunkContextRows <= overlap,
                  m.segmentFill >= 0, m.segmentFill < S - chunks.chunkContextRows else {
                throw bad("chunkReading.chunkContextRows \(chunks.chunkContextRows) and segmentFill \(m.segmentFill) do not fit chunkOverlap \(overlap) and segmentLength \(S)")
            }
            guard m.windowRows <= S else { throw bad("windowRows \(m.windowRows) exceed one chunk (\(S) rows)") }
        } else {
            guard chunks.chunkContextRows == 0, m.segmentFill >= 0, m.segmentFill < S else {
                throw bad("chunkReading.chunkContextRows \(chunks.chunkContextRows) and segmentFill \(m.segmentFill) after the document's end (expected 0 and < \(S))")
            }
        }
    }

    /// A top-level file whose size must be exactly `bytes`.
    private func file(_ name: String, bytes: Int) throws -> Data {
        guard let data = contents[name] else { throw bad("file \(name) is not listed") }
        guard data.count == bytes else {
            throw MemorySnapshotError.corrupt(file: directory.appendingPathComponent(name).path,
                                              detail: "\(data.count) bytes, the manifest's counts need \(bytes)")
        }
        return data
    }

    private func file(_ name: String, floats: Int) throws -> Data { try file(name, bytes: floats * 4) }

    /// kNN stores: only the plan's layers, each with one store per KV head, in order.
    private func loadKNNStores() throws -> [Int: [ShardedVectorStore]] {
        let entries = manifest.knnStores
        guard let expected = state.knnStoreConfiguration, let knn = state.plan.knn else {
            guard entries.isEmpty else { throw bad("\(entries.count) kNN stores, but the plan has no kNN memory") }
            return [:]
        }
        let heads = state.config.kvHeadCount
        guard entries.count % heads == 0 else { throw bad("\(entries.count) kNN stores is not a whole number of layers of \(heads) KV heads") }
        var stores: [Int: [ShardedVectorStore]] = [:]
        var previousLayer = -1
        for start in stride(from: 0, to: entries.count, by: heads) {
            let layer = entries[start].layer
            guard knn.layers.contains(layer), layer > previousLayer else {
                throw bad("kNN store layer \(layer) is not a new layer of the plan's \(knn.layers) in ascending order")
            }
            previousLayer = layer
            var layerStores: [ShardedVectorStore] = []
            for head in 0..<heads {
                let entry = entries[start + head]
                guard entry.layer == layer, entry.head == head,
                      entry.directory == SnapshotLayout.knnDirectory(layer: layer, head: head) else {
                    throw bad("kNN store \(start + head) is layer \(entry.layer) head \(entry.head.map(String.init) ?? "none") at '\(entry.directory)', expected layer \(layer) head \(head)")
                }
                layerStores.append(try loadStore(entry, expected: expected))
            }
            stores[layer] = layerStores
        }
        return stores
    }

    /// Retrieval datastores: only retrieval layers, ascending.
    private func loadDatastores(retrievalLayers: [Int]) throws -> [Int: ShardedVectorStore] {
        let entries = manifest.datastores
        guard let expected = state.datastoreConfiguration else {
            guard entries.isEmpty else { throw bad("\(entries.count) retrieval datastores, but the plan has no retrieval") }
            return [:]
        }
        var stores: [Int: ShardedVectorStore] = [:]
        var previousLayer = -1
        for entry in entries {
            guard retrievalLayers.contains(entry.layer), entry.layer > previousLayer, entry.head == nil,
                  entry.directory == SnapshotLayout.datastoreDirectory(layer: entry.layer) else {
                throw bad("retrieval datastore layer \(entry.layer) at '\(entry.directory)' is not a new retrieval layer in ascending order")
            }
            previousLayer = entry.layer
            stores[entry.layer] = try loadStore(entry, expected: expected)
        }
        return stores
    }

    private func loadStore(_ entry: MemorySnapshotManifest.Store, expected: VectorStoreConfiguration) throws -> ShardedVectorStore {
        let url = directory.appendingPathComponent(entry.directory)
        guard manifest.files.contains(where: { $0.path == entry.directory + "/manifest.json" }) else {
            throw bad("the store manifest \(entry.directory)/manifest.json is not listed with a checksum")
        }
        let store: ShardedVectorStore
        do { store = try IndexSnapshot.load(from: url) } catch {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "vector store: \(MemorySnapshot.oneLine("\(error)", limit: 300))")
        }
        guard store.configuration == expected else {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "store configuration \(store.configuration) does not match the plan's \(expected)")
        }
        guard store.count == entry.count else {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "store holds \(store.count) entries, the manifest says \(entry.count)")
        }
        return store
    }
}
