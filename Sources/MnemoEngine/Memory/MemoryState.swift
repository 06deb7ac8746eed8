import Foundation
import MnemoModels
import MnemoMemory
import MnemoTensor

/// Everything a `MemoryModel` remembers of what it has read: the Transformer-XL window (a KV cache
/// of the last tokens), the kNN stores, the Unlimiformer datastores and the RMT memory.
///
/// **Frames.** Row `r` of the window holds a key rotated to position `r`. When the oldest rows leave
/// the window (at the start of a segment, down to `xl.memoryLength` rows) the remaining keys are
/// re-rotated by the number removed, so positions stay relative to the window. `evictedCount` rows
/// have left so far, so window row `r` is token `r + evictedCount` of the reading frame.
///
/// A state belongs to one task at a time. After an error thrown by `read` it is unusable until `reset()`.
public final class MemoryState: ModelState {
    public let reader: MemoryModel
    /// The window: keys/values of the recent tokens (and, inside a segment, its RMT read block).
    public let cache: KVCache
    /// Rows that have left the window since the last reset.
    public internal(set) var evictedCount = 0
    /// Tokens read since the last reset (the position of the next token).
    public internal(set) var count = 0
    /// Tokens of the current, unfinished segment.
    public internal(set) var segmentFill = 0
    /// Current RMT memory, `memoryTokens.count × hiddenSize`.
    public internal(set) var memory: [Float]
    /// Per window row: the token's position in the reading frame, or -1 for an RMT memory row.
    var rowPositions: [Int] = []
    /// First row of the current segment's RMT read block.
    var readBlockStart: Int?
    /// Retrieval layers: the window's normed attention inputs, `rows × hiddenSize` (mirrors the cache).
    var windowHidden: [Int: [Float]] = [:]
    /// kNN stores: per layer, one per KV head (key `headDim`; value = key ‖ value, `2 × headDim`).
    var knnStores: [Int: [ShardedVectorStore]] = [:]
    /// Unlimiformer datastores: per layer, hidden states (key and value `hiddenSize`).
    var datastores: [Int: ShardedVectorStore] = [:]
    /// Entries waiting for enough keys to train their store's index (IVF, PQ).
    var pendingTraining: [ObjectIdentifier: PendingEntries] = [:]
    /// Counters of the last `read` call.
    public internal(set) var lastRetrieved = 0
    /// Unlimiformer `overlappingChunks` encoding: true while the document is being read in
    /// independent chunks (until `endDocument()`).
    public private(set) var readingInChunks: Bool
    /// The last `chunkOverlap` tokens read (context re-encoded at the start of the next chunk).
    var recentTokens: [Int] = []
    /// Rows at the top of the current chunk that only re-encode the previous chunk's tail.
    var chunkContextRows = 0

    init(reader: MemoryModel) {
        self.reader = reader
        let plan = reader.plan
        let capacity = (plan.xl?.memoryLength ?? 0) + plan.segmentLength + 2 * (plan.memoryTokens?.count ?? 0)
        cache = reader.model.makeCache(capacity: capacity)
        memory = reader.initialMemory
        readingInChunks = plan.retrieval?.encoding == .overlappingChunks
        if let retrieval = plan.retrieval {
            for l in retrieval.layerBegin..<reader.model.config.layerCount { windowHidden[l] = [] }
        }
    }

    var config: ModelConfig { reader.model.config }
    var plan: MemoryPlan { reader.plan }

    /// Entries held by the kNN stores and the retrieval datastores.
    public var storedEntries: (knn: Int, retrieval: Int) {
        (knnStores.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } },
         datastores.values.reduce(0) { $0 + $1.count })
    }

    /// Forgets everything: window, stores, memory tokens.
    public func reset() {
        cache.reset()
        evictedCount = 0
        count = 0
        segmentFill = 0
        memory = reader.initialMemory
        rowPositions = []
        readBlockStart = nil
        readingInChunks = plan.retrieval?.encoding == .overlappingChunks
        recentTokens = []
        chunkContextRows = 0
        for key in windowHidden.keys { windowHidden[key] = [] }
        for stores in knnStores.values { for store in stores { store.reset() } }
        for store in datastores.values { store.reset() }
        pendingTraining = [:]
    }

    /// Starts a new document: the window and RMT memory restart; kNN stores are cleared when the plan
    /// says `knn.resetOnDocument`, retrieval datastores always (they index one document).
    public func beginDocument() {
        let keepKNN = plan.knn.map { !$0.resetOnDocument } ?? false
        let stores = knnStores
        let pending = pendingTraining.filter { id, _ in stores.values.contains { $0.contains { ObjectIdentifier($0) == id } } }
        if keepKNN { knnStores = [:] }  // detached, so reset() leaves them alone
        reset()
        if keepKNN {
            knnStores = stores
            pendingTraining = pending
        }
    }

    // MARK: - Reading

    /// Learned position embeddings (GPT-2) cannot be re-based: they index window rows, except when a
    /// mechanism asks for true positions, where they index the reading frame (bounded by the model's
    /// learned positions).
    var learnedPositionOffset: Int {
        plan.knn?.positions == .trueDistance || plan.retrieval?.positions == .trueDistance ? evictedCount : 0
    }

    /// Runs `tokens` segment by segment; returns logits for every token (`allLogits`) or the last one.
    func read(_ tokens: [Int], allLogits: Bool) throws -> [Float] {
        let S = plan.segmentLength
        let m = plan.memoryTokens?.count ?? 0
        let H = config.hiddenSize
        let V = config.vocabularySize
        var logits: [Float] = []
        if allLogits { logits.reserveCapacity(tokens.count * V) }
        lastRetrieved = 0
        var i = 0
        while i < tokens.count {
            if segmentFill == 0 { try beginSegment() }
            // A chunk after the first re-encodes `chunkOverlap` tokens, so it takes that many fewer new ones.
            let capacity = S - chunkContextRows
            let take = min(capacity - segmentFill, tokens.count - i)
            let completes = segmentFill + take == capacity
            var inputs: [ModelInput] = []
            var positions: [Int] = []
            if segmentFill == 0 && m > 0 {
                readBlockStart = cache.count
                for j in 0..<m { inputs.append(.embedding(Array(memory[j * H ..< (j + 1) * H]))) }
                positions += Array(repeating: -1, count: m)
            }
            let tokenRows = inputs.count ..< inputs.count + take
            inputs += tokens[i ..< i + take].map(ModelInput.token)
            positions += (0..<take).map { count + $0 }
            var writeRows = 0..<0
            if completes && m > 0 {
                writeRows = inputs.count ..< inputs.count + m
                for j in 0..<m { inputs.append(.embedding(Array(memory[j * H ..< (j + 1) * H]))) }
                positions += Array(repeating: -1, count: m)
            }
            let logitRows = allLogits || i + take == tokens.count ? (allLogits ? tokenRows : (tokenRows.upperBound - 1)..<tokenRows.upperBound) : 0..<0
            let output = try reader.model.forward(inputs: inputs, cache: cache, hook: self, logitRows: logitRows,
                                                  hiddenRows: writeRows, positionOffset: learnedPositionOffset)
            rowPositions += positions
            if allLogits { logits += output.logits } else if !output.logits.isEmpty { logits = output.logits }
            if !writeRows.isEmpty {
                memory = output.hidden
                removeRows((cache.count - m) ..< cache.count)
                if let start = readBlockStart { removeRows(start ..< start + m) }
                readBlockStart = nil
            }
            segmentFill = completes ? 0 : segmentFill + take
            count += take
            if let overlap = plan.retrieval?.chunkOverlap, readingInChunks, overlap > 0 {
                recentTokens = Array((recentTokens + tokens[i ..< i + take]).suffix(overlap))
            }
            i += take
        }
        return logits
    }

    /// Ends the document being read. With Unlimiformer's `overlappingChunks` encoding this closes
    /// the chunked reading: the window keeps the last chunk minus the re-encoded context rows (they
    /// are already in the datastores), and from then on tokens (a question, generation) are run
    /// with retrieval over the whole document. With the other encodings nothing changes.
    public func endDocument() {
        guard readingInChunks else { return }
        if chunkContextRows > 0 {
            let dropped = chunkContextRows
            removeRows(0..<dropped)
            evictedCount += dropped
        }
        chunkContextRows = 0
        segmentFill = 0
        readingInChunks = false
    }

    /// Unlimiformer's own encoding: each chunk is read on its own (fresh window) after re-encoding
    /// the previous chunk's last `chunkOverlap` tokens as context; the previous chunk's new tokens
    /// go to the datastores (each token stored once, from the first chunk that read it as new).
    private func beginChunk() throws {
        let H = config.hiddenSize
        if cache.count > chunkContextRows {
            let rows = chunkContextRows ..< cache.count
            let positions = rowPositions[rows].map { Int64($0) }
            for layer in windowHidden.keys.sorted() {
                let store = try datastoreFor(layer: layer)
                let states = Array(windowHidden[layer]![rows.lowerBound * H ..< rows.upperBound * H])
                try add(to: store, keys: states, values: store.configuration.valueDimension > 0 ? states : [], positions: positions)
            }
        }
        cache.reset()
        rowPositions = []
        for key in Array(windowHidden.keys) { windowHidden[key] = [] }
        let context = recentTokens
        evictedCount = count - context.count
        chunkContextRows = context.count
        guard !context.isEmpty else { return }
        _ = try reader.model.forward(inputs: context.map(ModelInput.token), cache: cache, hook: self, logitRows: 0..<0)
        rowPositions = (0..<context.count).map { evictedCount + $0 }
    }

    /// Sets the chunk bookkeeping of a loaded snapshot (`SnapshotRestorer` has checked it).
    func restoreChunkReading(inChunks: Bool, contextRows: Int, recentTokens tokens: [Int]) {
        readingInChunks = inChunks
        chunkContextRows = contextRows
        recentTokens = tokens
    }

    /// At a segment start: the oldest rows beyond `xl.memoryLength` leave the window for the stores.
    private func beginSegment() throws {
        if readingInChunks { return try beginChunk() }
        let keep = plan.xl?.memoryLength ?? 0
        if cache.count > keep { try evict(cache.count - keep) }
    }

    /// Removes window rows `range` (RMT blocks) from the cache and its mirrors.
    private func removeRows(_ range: Range<Int>) {
        cache.removeRows(range)
        rowPositions.removeSubrange(range)
        let H = config.hiddenSize
        for key in Array(windowHidden.keys) { windowHidden[key]!.removeSubrange(range.lowerBound * H ..< range.upperBound * H) }
    }

    /// Moves the oldest `n` window rows into the kNN stores and retrieval datastores.
    private func evict(_ n: Int) throws {
        let c = config
        let D = c.headDim, kvW = c.kvWidth, H = c.hiddenSize
        let positions = rowPositions[0..<n].map { Int64($0) }
        if let knn = plan.knn {
            for layer in knn.layers {
                let stores = try knnStoresFor(layer: layer)
                let (keys, values) = cache.copyRows(layer: layer, 0..<n)
                for g in 0..<c.kvHeadCount {
                    var k = [Float](repeating: 0, count: n * D)
                    var stored = [Float](repeating: 0, count: n * 2 * D)
                    for r in 0..<n {
                        for d in 0..<D { k[r * D + d] = keys[r * kvW + g * D + d] }
                    }
                    k.withUnsafeMutableBufferPointer { p in
                        switch knn.positions {
                        case .trueDistance:
                            cache.rotate(p.baseAddress!, rows: n, heads: 1, delta: evictedCount)
                        case .windowEdge:
                            for r in 0..<n { cache.rotate(p.baseAddress! + r * D, rows: 1, heads: 1, delta: -r) }
                        }
                    }
                    for r in 0..<n {
                        for d in 0..<D {
                            stored[r * 2 * D + d] = k[r * D + d]
                            stored[r * 2 * D + D + d] = values[r * kvW + g * D + d]
                        }
                    }
                    if knn.normalizeKeys { Self.normalize(&k, dimension: D) }
                    try add(to: stores[g], keys: k, values: stored, positions: positions)
                }
            }
        }
        for layer in windowHidden.keys.sorted() {
            let store = try datastoreFor(layer: layer)
            let rows = Array(windowHidden[layer]![0 ..< n * H])
            try add(to: store, keys: rows, values: store.configuration.valueDimension > 0 ? rows : [], positions: positions)
            windowHidden[layer]!.removeFirst(n * H)
        }
        cache.removeRows(0..<n)
        rowPositions.removeFirst(n)
        evictedCount += n
    }

    private func knnStoresFor(layer: Int) throws -> [ShardedVectorStore] {
        if let stores = knnStores[layer] { return stores }
        guard let configuration = knnStoreConfiguration else { return [] }
        let stores = try (0..<config.kvHeadCount).map { _ in try ShardedVectorStore(configuration) }
        knnStores[layer] = stores
        return stores
    }

    private func datastoreFor(layer: Int) throws -> ShardedVectorStore {
        if let store = datastores[layer] { return store }
        guard let configuration = datastoreConfiguration else { throw MemoryPlanError.invalidPlan([]) }
        let store = try ShardedVectorStore(configuration)
        datastores[layer] = store
        return store
    }

    static func normalize(_ v: inout [Float], dimension d: Int) {
        for r in 0..<(v.count / d) {
            var sum: Float = 0
            for i in 0..<d { sum += v[r * d + i] * v[r * d + i] }
            guard sum > 0 else { continue }
            let inv = 1 / sum.squareRoot()
            for i in 0..<d { v[r * d + i] *= inv }
        }
    }
}

// MARK: - The attention hook

extension MemoryState: AttentionHook {
    public func attention(layer: Int, input: LayerAttentionInput) throws -> ExtraAttention? {
        let H = config.hiddenSize
        if windowHidden[layer] != nil {
            windowHidden[layer]! += UnsafeBufferPointer(start: input.normedInput, count: input.count * H)
            if !readingInChunks, let store = datastores[layer], store.count > 0 { return try retrievalAttention(layer: layer, store: store, input: input) }
            return nil
        }
        if let stores = knnStores[layer], stores.contains(where: { $0.count > 0 }) {
            return try knnAttention(layer: layer, stores: stores, input: input)
        }
        return nil
    }

    /// Memorizing Transformers: each query head searches its KV head's store (before the current
    /// segment is stored), the retrieved keys are placed in the window frame.
    private func knnAttention(layer: Int, stores: [ShardedVectorStore], input: LayerAttentionInput) throws -> ExtraAttention {
        guard let knn = plan.knn else { preconditionFailure("kNN stores without a kNN plan") }
        let c = config
        let T = input.count, Hq = c.headCount, D = c.headDim, qW = c.queryWidth
        let group = c.headCount / c.kvHeadCount
        let fusion: ExtraAttention.Fusion = reader.gates[layer].map { .gate($0) } ?? .jointSoftmax
        let extra = ExtraAttention(rows: T, headCount: Hq, headDim: D, capacity: knn.topK, fusion: fusion)
        for g in 0..<c.kvHeadCount where stores[g].count > 0 {
            var queries = [Float](repeating: 0, count: group * T * D)
            for hg in 0..<group {
                let h = g * group + hg
                for t in 0..<T {
                    (queries.withUnsafeMutableBufferPointer { $0.baseAddress! } + (hg * T + t) * D)
                        .update(from: input.queries + t * qW + h * D, count: D)
                }
            }
            queries.withUnsafeMutableBufferPointer { p in
                // A query at row r, true position r + evictedCount; window-edge keys sit at row -1.
                let delta = knn.positions == .trueDistance ? evictedCount : 1
                cache.rotate(p.baseAddress!, rows: group * T, heads: 1, delta: delta)
            }
            if knn.normalizeKeys { Self.normalize(&queries, dimension: D) }
            let hits = try stores[g].search(queries, k: knn.topK)
            for hg in 0..<group {
                let h = g * group + hg
                for t in 0..<T {
                    let records = try stores[g].records(for: hits[hg * T + t])
                    extra.counts[t * Hq + h] = Int32(records.count)
                    lastRetrieved += records.count
                    for (j, record) in records.enumerated() {
                        let o = extra.offset(row: t, head: h, entry: j)
                        for d in 0..<D {
                            extra.keys[o + d] = record.value[d]
                            extra.values[o + d] = record.value[D + d]
                        }
                    }
                }
            }
        }
        let delta = knn.positions == .trueDistance ? -evictedCount : -1
        extra.keys.withUnsafeMutableBufferPointer { p in
            cache.rotate(p.baseAddress!, rows: p.count / D, heads: 1, delta: delta)
        }
        return extra
    }

    /// Unlimiformer: every head's query is rewritten into hidden-state space (`W_k,hᵀ R q_h`, the key
    /// placed at the window edge), one datastore serves all heads; retrieved hidden states are
    /// projected to keys and values and joined with the window in one softmax.
    private func retrievalAttention(layer: Int, store: ShardedVectorStore, input: LayerAttentionInput) throws -> ExtraAttention {
        guard let retrieval = plan.retrieval, let projection = reader.projections[layer] else {
            preconditionFailure("retrieval datastore without a retrieval plan")
        }
        let c = config
        let T = input.count, Hq = c.headCount, D = c.headDim, qW = c.queryWidth, H = c.hiddenSize, kvW = c.kvWidth
        let group = c.headCount / c.kvHeadCount
        // Rotated queries, head-major: row (h * T + t).
        var rotated = [Float](repeating: 0, count: Hq * T * D)
        rotated.withUnsafeMutableBufferPointer { p in
            for h in 0..<Hq {
                for t in 0..<T { (p.baseAddress! + (h * T + t) * D).update(from: input.queries + t * qW + h * D, count: D) }
            }
            cache.rotate(p.baseAddress!, rows: Hq * T, heads: 1, delta: 1)
        }
        var folded = [Float](repeating: 0, count: Hq * T * H)
        rotated.withUnsafeBufferPointer { q in
            projection.key.withUnsafeBufferPointer { wk in
                folded.withUnsafeMutableBufferPointer { out in
                    for h in 0..<Hq {
                        let kvh = h / group
                        BLAS.sgemm(m: T, n: H, k: D, a: q.baseAddress! + h * T * D, lda: D,
                                   b: wk.baseAddress! + kvh * D * H, ldb: H, c: out.baseAddress! + h * T * H, ldc: H)
                    }
                }
            }
        }
        let hits = try store.search(folded, k: retrieval.topK)
        // The union of retrieved ids, projected once.
        var slot: [Int64: Int] = [:]
        var ids: [Int64] = []
        var states: [Float] = []
        var positions: [Int] = []
        for list in hits {
            for hit in list where slot[hit.id] == nil {
                let record = try store.record(id: hit.id)
                slot[hit.id] = positions.count
                ids.append(hit.id)
                states += record.value
                positions.append(Int(record.position))
            }
        }
        // A datastore without a value copy gives the hidden states back from its index.
        if store.configuration.valueDimension == 0 { states = try store.keys(for: ids) }
        let U = positions.count
        var keys = [Float](repeating: 0, count: U * kvW)
        var values = [Float](repeating: 0, count: U * kvW)
        states.withUnsafeBufferPointer { x in
            projection.key.withUnsafeBufferPointer { wk in
                keys.withUnsafeMutableBufferPointer { k in
                    BLAS.sgemm(transB: .transpose, m: U, n: kvW, k: H, a: x.baseAddress!, lda: H, b: wk.baseAddress!, ldb: H,
                               c: k.baseAddress!, ldc: kvW)
                }
            }
            projection.value.withUnsafeBufferPointer { wv in
                values.withUnsafeMutableBufferPointer { v in
                    BLAS.sgemm(transB: .transpose, m: U, n: kvW, k: H, a: x.baseAddress!, lda: H, b: wv.baseAddress!, ldb: H,
                               c: v.baseAddress!, ldc: kvW)
                }
            }
        }
        for u in 0..<U {
            if let b = projection.keyBias { for i in 0..<kvW { keys[u * kvW + i] += b[i] } }
            if let b = projection.valueBias { for i in 0..<kvW { values[u * kvW + i] += b[i] } }
        }
        keys.withUnsafeMutableBufferPointer { k in
            switch retrieval.positions {
            case .windowEdge:
                cache.encodeRotation(k.baseAddress!, rows: U, heads: c.kvHeadCount, position: -1)
            case .trueDistance:
                for u in 0..<U {
                    cache.encodeRotation(k.baseAddress! + u * kvW, rows: 1, heads: c.kvHeadCount,
                                         position: positions[u] - evictedCount)
                }
            }
        }
        let extra = ExtraAttention(rows: T, headCount: Hq, headDim: D, capacity: retrieval.topK, fusion: .jointSoftmax)
        for h in 0..<Hq {
            let kvh = h / group
            for t in 0..<T {
                let list = hits[h * T + t]
                extra.counts[t * Hq + h] = Int32(list.count)
                lastRetrieved += list.count
                for (j, hit) in list.enumerated() {
                    let u = slot[hit.id]!
                    let o = extra.offset(row: t, head: h, entry: j)
                    for d in 0..<D {
                        extra.keys[o + d] = keys[u * kvW + kvh * D + d]
                        extra.values[o + d] = values[u * kvW + kvh * D + d]
                    }
                }
            }
        }
        return extra
    }
}
