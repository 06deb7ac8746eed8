// ShardedVectorStore: keys in rotating FAISS shards with oldest-first eviction, values beside them.

/// A bounded key/value store: keys searched through FAISS, each id mapped back to its value
/// vector and token position, the oldest entries evicted first.
///
/// ```swift
/// let store = try ShardedVectorStore(VectorStoreConfiguration(
///     dimension: 64, valueDimension: 64, indexDescription: "HNSW32", capacity: 65_536, shardCount: 8))
/// let ids = try store.append(keys: k, values: v, positions: p)      // consecutive ids
/// let hits = try store.search(queries, k: 32)                         // [[SearchHit]]
/// let records = try store.records(for: hits[0])                       // values + positions
/// ```
/// Ids are assigned consecutively from 0 by `append`. Keys live in `shardCount + 1` shards of
/// `shardCapacity` entries; when the newest shard is full a new one starts, and when there are
/// already `shardCount + 1` shards the oldest whole shard is dropped. So the newest `capacity`
/// entries are always held, at most `shardCapacity` more. `Retention.exactNewest` masks the
/// extra ones out of results; `.wholeShards` returns them too.
///
/// Cost: an append touches only the newest shard (FAISS add on an index of at most
/// `shardCapacity` entries) and eviction frees one shard, so insertion cost does not grow
/// with the number of entries appended. A search over Flat shards scores every retained key in one
/// pass with one heap per query (`FaissIndex.searchFlat`); over other index types it runs one FAISS
/// search per shard and merges the per-shard top-k lists.
///
/// Thread safety (`@unchecked Sendable`): shard list, ids and records change only under the
/// exclusive lock (`append`, `train`, `reset`); searches and record look-ups share the lock
/// and may run concurrently (FAISS search is const).
public final class ShardedVectorStore: @unchecked Sendable {
    /// One sub-index with the records of its consecutive ids `firstID ..< firstID + count`.
    struct Shard {
        let firstID: Int64
        let index: FaissIndex
        var records: ShardRecords
        var count: Int { records.count }
    }

    public let configuration: VectorStoreConfiguration
    /// Empty, trained index that new shards are copied from.
    let template: FaissIndex
    var shards: [Shard] = []
    /// The id the next appended entry gets (guarded by `lock`).
    var next: Int64 = 0
    /// The id the next appended entry gets.
    public var nextID: Int64 { lock.reading { next } }
    let lock = ReadWriteLock()
    /// Flat shards are searched in one pass (`FaissIndex.searchFlat`); tests turn it off to compare
    /// with the per-shard search and merge.
    var jointFlatSearch = true

    /// Creates an empty store.
    /// - Throws: `.badCapacity`, `.badDescription` (FAISS's message), `.badParameter`.
    public init(_ configuration: VectorStoreConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        template = try FaissIndex(dimension: configuration.dimension, description: configuration.indexDescription,
                                  metric: configuration.metric)
        if let ef = configuration.efSearch { try template.setSearchParameter(.efSearch, ef) }
        if let nprobe = configuration.nprobe { try template.setSearchParameter(.nprobe, nprobe) }
    }

    /// For snapshot loading.
    init(configuration: VectorStoreConfiguration, template: FaissIndex, shards: [Shard], nextID: Int64) {
        self.configuration = configuration
        self.template = template
        self.shards = shards
        self.next = nextID
    }

    /// Whether the index type is trained (IVF/PQ/SQ need `train` before `append`).
    public var isTrained: Bool { template.isTrained }

    /// The ids a search can return (the newest `capacity` for `.exactNewest`).
    public var retainedIDs: Range<Int64> {
        lock.reading { visibleRange() }
    }

    /// Number of entries a search can return.
    public var count: Int { let r = retainedIDs; return Int(r.upperBound - r.lowerBound) }

    /// Number of entries held in memory (at least `count`).
    public var storedCount: Int { lock.reading { shards.reduce(0) { $0 + $1.count } } }

    /// Trains the key index (IVF centroids, PQ codebooks) on sample keys; shards created
    /// afterwards use this training. A no-op for Flat and HNSW.
    public func train(_ sampleKeys: [Float]) throws {
        try lock.writing { try template.train(sampleKeys) }
    }

    /// Appends entries and returns their ids.
    /// - Parameters:
    ///   - keys: `n * dimension` floats.
    ///   - values: `n * valueDimension` floats.
    ///   - positions: `n` token positions.
    /// - Throws: `.vectorCountMismatch`, `.idCountMismatch`, `.notTrained`.
    /// - Complexity: O(n) shard operations; independent of how many entries are stored.
    @discardableResult
    public func append(keys: [Float], values: [Float], positions: [Int64]) throws -> Range<Int64> {
        let d = configuration.dimension, dv = configuration.valueDimension
        guard keys.count % d == 0 else { throw VectorIndexError.vectorCountMismatch(what: "keys", floatCount: keys.count, dimension: d) }
        let n = keys.count / d
        guard values.count == n * dv else { throw VectorIndexError.idCountMismatch(what: "values (floats)", expected: n * dv, found: values.count) }
        guard positions.count == n else { throw VectorIndexError.idCountMismatch(what: "positions", expected: n, found: positions.count) }
        return try lock.writing {
            guard template.isTrained else {
                throw VectorIndexError.notTrained(description: configuration.indexDescription, operation: "append")
            }
            let first = next
            var offset = 0
            let shardCapacity = configuration.shardCapacity
            while offset < n {
                if shards.isEmpty || shards[shards.count - 1].count == shardCapacity {
                    if shards.count == configuration.shardCount + 1 { shards.removeFirst() }
                    // Reserve for this append only: a large capacity must not allocate up front.
                    let records = ShardRecords(valueDimension: dv, precision: configuration.valuePrecision,
                                               capacity: min(shardCapacity, n - offset))
                    shards.append(Shard(firstID: next, index: try template.emptyCopy(), records: records))
                }
                let last = shards.count - 1
                let take = min(n - offset, shardCapacity - shards[last].count)
                let ids = (0..<Int64(take)).map { next + $0 }
                try shards[last].index.add(Array(keys[offset * d ..< (offset + take) * d]), ids: ids)
                shards[last].records.append(values: values[offset * dv ..< (offset + take) * dv],
                                            positions: positions[offset ..< offset + take])
                next += Int64(take)
                offset += take
            }
            return first ..< next
        }
    }

    /// Searches the `k` closest retained keys of each query: one array per query, best first;
    /// ties (equal scores) are ordered by smaller id first.
    /// - Throws: `.invalidK`, `.vectorCountMismatch`, `.notTrained`.
    /// - Complexity: Flat: one pass over every retained key (BLAS) with one heap per query; other
    ///   indexes: one FAISS search per shard plus O(queries · shards · k · log) merging.
    public func search(_ queries: [Float], k: Int) throws -> [[SearchHit]] {
        guard k > 0 else { throw VectorIndexError.invalidK(k) }
        let d = configuration.dimension
        guard queries.count % d == 0 else { throw VectorIndexError.vectorCountMismatch(what: "queries", floatCount: queries.count, dimension: d) }
        let n = queries.count / d
        return try lock.reading {
            guard template.isTrained else {
                throw VectorIndexError.notTrained(description: configuration.indexDescription, operation: "search")
            }
            let cutoff = visibleRange().lowerBound
            // Flat shards: one exact pass over all of them with one heap per query (searching each
            // shard for k and merging made heap updates, not scoring, most of a small search's cost),
            // scoring blocks of keys against all queries with sgemm (FAISS scans the keys once per
            // query below 20 queries: a generated token's few heads over a whole book).
            let live = shards.filter { $0.firstID + Int64($0.count) > cutoff }
            if jointFlatSearch, !live.isEmpty, template.indexDescription == "Flat" {
                // Already best first with the same tie rule; unfilled slots (id -1) are last.
                let results = try FaissIndex.searchFlat(live.map(\.index), minimumID: cutoff, queries: queries, k: k)
                return (0..<n).map { q in
                    (0..<k).compactMap { j in
                        let id = results.ids[q * k + j]
                        return id >= cutoff ? SearchHit(id: id, score: results.scores[q * k + j]) : nil
                    }
                }
            }
            var merged = [[SearchHit]](repeating: [], count: n)
            for shard in live {
                let masked = Int(max(0, min(Int64(shard.count), cutoff - shard.firstID)))
                // A partly evicted shard: ask for enough extra hits to expect k retained ones (masked
                // ids are interleaved with retained ones in score order), then redo the few queries that
                // came up short with the exact bound k + masked. Asking every query for k + masked
                // made FAISS keep heaps of up to a shard's size per query.
                let valid = shard.count - masked
                let exact = min(shard.count, k + masked)
                let fetch = masked == 0 ? min(shard.count, k) : min(exact, k + 2 * ((k * masked + valid - 1) / valid) + 8)
                let results = try shard.index.searchResults(queries, k: fetch)
                var short: [Int] = []
                for q in 0..<n {
                    var kept = 0
                    for j in 0..<results.k {
                        let id = results.ids[q * results.k + j]
                        if id >= cutoff {
                            merged[q].append(SearchHit(id: id, score: results.scores[q * results.k + j]))
                            kept += 1
                        }
                    }
                    if kept < min(k, valid) && fetch < exact { short.append(q) }
                }
                guard !short.isEmpty else { continue }
                var again: [Float] = []
                again.reserveCapacity(short.count * d)
                for q in short { again += queries[q * d ..< (q + 1) * d] }
                let retry = try shard.index.searchResults(again, k: exact)
                for (r, q) in short.enumerated() {
                    merged[q].removeAll { $0.id >= shard.firstID && $0.id < shard.firstID + Int64(shard.count) }
                    for j in 0..<retry.k {
                        let id = retry.ids[r * retry.k + j]
                        if id >= cutoff { merged[q].append(SearchHit(id: id, score: retry.scores[r * retry.k + j])) }
                    }
                }
            }
            let metric = configuration.metric
            return merged.map { hits in
                Array(hits.sorted { a, b in a.score == b.score ? a.id < b.id : metric.ranks(a.score, before: b.score) }.prefix(k))
            }
        }
    }

    /// The value and position stored for `id`.
    /// - Throws: `.unknownID` if `id` was never appended or is no longer retained.
    public func record(id: Int64) throws -> VectorRecord {
        try lock.reading { try recordLocked(id: id) }
    }

    /// The records of `hits`, in the same order.
    public func records(for hits: [SearchHit]) throws -> [VectorRecord] {
        try lock.reading { try hits.map { try recordLocked(id: $0.id) } }
    }

    /// The keys stored for `ids`, read back from the FAISS shards (`ids.count * dimension` floats, in
    /// order): a store whose index keeps exact vectors (Flat, HNSW) needs no value copy of its keys.
    /// - Throws: `.unknownID` for an id that is not retained, `.faiss` when the index cannot reconstruct.
    /// - Complexity: O(ids.count · (shards + dimension)).
    public func keys(for ids: [Int64]) throws -> [Float] {
        let d = configuration.dimension
        return try lock.reading {
            let visible = visibleRange()
            if let missing = ids.first(where: { !visible.contains($0) }) {
                throw VectorIndexError.unknownID(id: missing, retained: visible)
            }
            var out = [Float](repeating: 0, count: ids.count * d)
            for shard in shards {
                let end = shard.firstID + Int64(shard.count)
                let inShard = ids.indices.filter { ids[$0] >= shard.firstID && ids[$0] < end }
                guard !inShard.isEmpty else { continue }
                let rows = try shard.index.reconstruct(ids: inShard.map { ids[$0] })
                for (j, i) in inShard.enumerated() { out.replaceSubrange(i * d ..< (i + 1) * d, with: rows[j * d ..< (j + 1) * d]) }
            }
            return out
        }
    }

    /// Removes every entry and restarts ids at 0; training and search parameters are kept.
    public func reset() {
        lock.writing {
            shards.removeAll()
            next = 0
        }
    }

    // MARK: - Internals (callers hold the lock)

    func visibleRange() -> Range<Int64> {
        guard let oldest = shards.first else { return next ..< next }
        if configuration.retention == .exactNewest {
            return max(oldest.firstID, next - Int64(configuration.capacity)) ..< next
        }
        return oldest.firstID ..< next
    }

    private func recordLocked(id: Int64) throws -> VectorRecord {
        let visible = visibleRange()
        guard visible.contains(id) else { throw VectorIndexError.unknownID(id: id, retained: visible) }
        for shard in shards where id >= shard.firstID && id < shard.firstID + Int64(shard.count) {
            return shard.records.record(at: Int(id - shard.firstID), id: id)
        }
        throw VectorIndexError.unknownID(id: id, retained: visible)
    }
}
