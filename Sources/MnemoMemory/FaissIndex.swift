// FaissIndex: a FAISS index (any factory description) behind the CMnemoFAISS C shim.
private import CMnemoFAISS

/// A FAISS-backed `VectorIndex` created from a FAISS factory description.
///
/// ```swift
/// let index = try FaissIndex(dimension: 64, description: "IVF1024,Flat", metric: .innerProduct)
/// try index.train(sample)                     // IVF/PQ/SQ only
/// try index.setSearchParameter(.nprobe, 16)
/// try index.add(keys, ids: ids)
/// let hits = try index.search(queries, k: 8)
/// ```
/// Descriptions are passed to `faiss::index_factory` unchanged ("Flat", "HNSW32",
/// "IVF1024,Flat", "IVF1024,PQ16", "SQ8", "PCA32,IVF256,Flat", ...). Indexes without native
/// ids (all but IVF) are wrapped in FAISS's `IndexIDMap2`, so `add(_:ids:)` works for every type.
///
/// Thread safety (`@unchecked Sendable`): the class owns one FAISS index handle. FAISS's
/// `search` is `const` and thread-safe, so searches run concurrently under a shared lock;
/// every mutation (`train`, `add`, `remove`, `reset`, `setSearchParameter`) takes the exclusive
/// lock, so it never overlaps a search. FAISS itself parallelises each call with OpenMP.
public final class FaissIndex: VectorIndex, @unchecked Sendable {
    /// FAISS search-time parameters.
    public enum SearchParameter: String, Sendable, Codable, CaseIterable {
        /// HNSW: size of the dynamic candidate list (FAISS default 16). Larger = better recall.
        case efSearch
        /// IVF: number of inverted lists visited (FAISS default 1). Larger = better recall.
        case nprobe
    }

    public let dimension: Int
    public let metric: VectorMetric
    /// The FAISS factory description this index was created from.
    public let indexDescription: String
    private let handle: OpaquePointer
    private let lock = ReadWriteLock()
    /// Search parameters set so far (reapplied by `emptyCopy`); written under the exclusive lock.
    private var searchParameters: [SearchParameter: Int] = [:]
    /// The value set for `parameter` with `setSearchParameter`, if any.
    public func searchParameter(_ parameter: SearchParameter) -> Int? { lock.reading { searchParameters[parameter] } }

    /// Creates an empty index.
    /// - Parameters:
    ///   - dimension: floats per vector (> 0).
    ///   - description: a FAISS factory string such as "Flat", "HNSW32", "IVF1024,PQ16".
    ///   - metric: `.innerProduct` or `.l2`.
    /// - Throws: `VectorIndexError.badDescription` with FAISS's message.
    public init(dimension: Int, description: String, metric: VectorMetric) throws {
        guard dimension > 0, dimension <= Int(Int32.max) else {
            throw VectorIndexError.badDescription(description: description, dimension: dimension,
                                                  message: "dimension must be > 0")
        }
        var out: OpaquePointer?
        let code: Int32 = metric == .innerProduct ? Int32(MNEMO_FAISS_METRIC_INNER_PRODUCT) : Int32(MNEMO_FAISS_METRIC_L2)
        let status = mnemo_faiss_index_create(Int32(dimension), description, code, &out)
        guard status == MNEMO_FAISS_OK, let created = out else {
            throw VectorIndexError.badDescription(description: description, dimension: dimension,
                                                  message: Self.lastError())
        }
        self.handle = created
        self.dimension = dimension
        self.metric = metric
        self.indexDescription = description
    }

    /// Wraps a handle from clone/deserialize.
    private init(handle: OpaquePointer, description: String, metric: VectorMetric) {
        self.handle = handle
        self.dimension = Int(mnemo_faiss_index_dimension(handle))
        self.metric = metric
        self.indexDescription = description
    }

    deinit { mnemo_faiss_index_free(handle) }

    public var count: Int { lock.reading { Int(mnemo_faiss_index_ntotal(handle)) } }
    public var isTrained: Bool { lock.reading { mnemo_faiss_index_is_trained(handle) != 0 } }

    public func train(_ vectors: [Float]) throws {
        let n = try vectorCount(vectors, what: "training vectors")
        try lock.writing {
            let status = vectors.withUnsafeBufferPointer { mnemo_faiss_index_train(handle, Int64(n), $0.baseAddress) }
            try check(status, operation: "train")
        }
    }

    /// - Complexity: FAISS's add cost for the index type (Flat: O(n), HNSW: O(n log N)).
    public func add(_ vectors: [Float], ids: [Int64]) throws {
        let n = try vectorCount(vectors, what: "vectors")
        guard ids.count == n else { throw VectorIndexError.idCountMismatch(what: "ids", expected: n, found: ids.count) }
        guard n > 0 else { return }
        try lock.writing {
            let status = vectors.withUnsafeBufferPointer { v in
                ids.withUnsafeBufferPointer { i in
                    mnemo_faiss_index_add_with_ids(handle, Int64(n), v.baseAddress, i.baseAddress)
                }
            }
            try check(status, operation: "add")
        }
    }

    /// - Complexity: FAISS's search cost (Flat: O(n·N·d) via BLAS; HNSW ~O(n·efSearch·log N)).
    public func searchResults(_ queries: [Float], k: Int) throws -> SearchResults {
        guard k > 0 else { throw VectorIndexError.invalidK(k) }
        let n = try vectorCount(queries, what: "queries")
        var ids = [Int64](repeating: -1, count: n * k)
        var scores = [Float](repeating: 0, count: n * k)
        try lock.reading {
            let status = queries.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { s in
                    ids.withUnsafeMutableBufferPointer { l in
                        mnemo_faiss_index_search(handle, Int64(n), q.baseAddress, Int64(k), s.baseAddress, l.baseAddress)
                    }
                }
            }
            try check(status, operation: "search")
        }
        return SearchResults(queryCount: n, k: k, ids: ids, scores: scores)
    }

    /// Exact top-`k` over several `"Flat"` indexes (same dimension and metric) as if they were one
    /// (`mnemo_faiss_flat_search_many`: one heap per query across all of them), skipping ids below
    /// `minimumID`. Missing results have id -1. Equal to searching each index for `k` and merging the
    /// lists (up to the order of equal scores), at one heap pass instead of one per index.
    /// - Throws: `.invalidK`, `.vectorCountMismatch`, `.faiss` when an index is not Flat or they differ.
    /// - Complexity: O(n · N · d) BLAS plus about O(n · k · log k · ln(N/k)) heap work for N stored vectors.
    static func searchFlat(_ indexes: [FaissIndex], minimumID: Int64, queries: [Float], k: Int) throws -> SearchResults {
        guard k > 0 else { throw VectorIndexError.invalidK(k) }
        guard let first = indexes.first else { throw VectorIndexError.faiss(operation: "search", description: "Flat", message: "no indexes") }
        let n = try first.vectorCount(queries, what: "queries")
        var ids = [Int64](repeating: -1, count: n * k)
        var scores = [Float](repeating: 0, count: n * k)
        // Every index's shared lock is held for the call (no write may overlap a search).
        func locked(_ rest: ArraySlice<FaissIndex>, _ handles: [OpaquePointer?]) -> Int32 {
            guard let index = rest.first else {
                return queries.withUnsafeBufferPointer { q in
                    scores.withUnsafeMutableBufferPointer { s in
                        ids.withUnsafeMutableBufferPointer { l in
                            handles.withUnsafeBufferPointer { h in
                                mnemo_faiss_flat_search_many(h.baseAddress, Int64(h.count), minimumID, Int64(n), q.baseAddress, Int64(k),
                                                             s.baseAddress, l.baseAddress)
                            }
                        }
                    }
                }
            }
            return index.lock.reading { locked(rest.dropFirst(), handles + [index.handle]) }
        }
        try first.check(locked(indexes[...], []), operation: "search")
        return SearchResults(queryCount: n, k: k, ids: ids, scores: scores)
    }

    /// The stored vectors of `ids`, `ids.count * dimension` floats in order: exact copies for Flat
    /// and HNSW (Flat storage), decoded approximations for quantized indexes.
    /// - Throws: `VectorIndexError.faiss` for an id that is not stored or an index type that cannot
    ///   reconstruct (IVF without a direct map).
    /// - Complexity: O(ids.count · dimension) plus FAISS's id look-up.
    public func reconstruct(ids: [Int64]) throws -> [Float] {
        var out = [Float](repeating: 0, count: ids.count * dimension)
        guard !ids.isEmpty else { return out }
        try lock.reading {
            let status = ids.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    mnemo_faiss_index_reconstruct(handle, Int64(ids.count), i.baseAddress, o.baseAddress)
                }
            }
            try check(status, operation: "reconstruct")
        }
        return out
    }

    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        try lock.writing {
            var removed: Int64 = 0
            let status = ids.withUnsafeBufferPointer {
                mnemo_faiss_index_remove_ids(handle, Int64(ids.count), $0.baseAddress, &removed)
            }
            try check(status, operation: "remove")
            return Int(removed)
        }
    }

    public func reset() throws {
        try lock.writing { try check(mnemo_faiss_index_reset(handle), operation: "reset") }
    }

    /// Sets a search-time parameter (`efSearch` for HNSW, `nprobe` for IVF).
    /// - Throws: `VectorIndexError.badParameter` if the index has no such parameter or `value < 1`.
    public func setSearchParameter(_ parameter: SearchParameter, _ value: Int) throws {
        try lock.writing {
            let status = mnemo_faiss_index_set_parameter(handle, parameter.rawValue, Double(value))
            guard status == MNEMO_FAISS_OK else {
                throw VectorIndexError.badParameter(name: parameter.rawValue, value: value, message: Self.lastError())
            }
            searchParameters[parameter] = value
        }
    }

    /// An empty copy with the same training and search parameters (e.g. a new shard from a
    /// trained IVF template).
    public func emptyCopy() throws -> FaissIndex {
        let (copy, parameters): (FaissIndex, [SearchParameter: Int]) = try lock.reading {
            var out: OpaquePointer?
            let status = mnemo_faiss_index_clone(handle, &out)
            try check(status, operation: "clone")
            guard let cloned = out else {
                throw VectorIndexError.faiss(operation: "clone", description: indexDescription, message: "no index returned")
            }
            return (FaissIndex(handle: cloned, description: indexDescription, metric: metric), searchParameters)
        }
        try copy.reset()
        for (parameter, value) in parameters { try copy.setSearchParameter(parameter, value) }
        return copy
    }

    /// The index in FAISS's serialization format (`faiss::write_index`).
    public func serialized() throws -> [UInt8] {
        try lock.reading {
            var out: OpaquePointer?
            try check(mnemo_faiss_index_serialize(handle, &out), operation: "serialize")
            guard let buffer = out else {
                throw VectorIndexError.faiss(operation: "serialize", description: indexDescription, message: "no buffer returned")
            }
            defer { mnemo_faiss_buffer_free(buffer) }
            let size = mnemo_faiss_buffer_size(buffer)
            guard size > 0, let data = mnemo_faiss_buffer_data(buffer) else { return [] }
            return Array(UnsafeBufferPointer(start: data, count: size))
        }
    }

    /// Reads an index written by `serialized()`. Pass only bytes whose checksum was verified:
    /// FAISS's reader trusts the sizes inside the stream.
    /// - Throws: `.corruptSnapshot(file:detail:)` naming `file` when FAISS rejects the bytes or
    ///   the index has another dimension or metric than expected.
    public static func deserialize(_ bytes: [UInt8], description: String, metric: VectorMetric,
                                   dimension: Int, file: String) throws -> FaissIndex {
        var out: OpaquePointer?
        let status = bytes.withUnsafeBufferPointer { mnemo_faiss_index_deserialize($0.baseAddress, $0.count, &out) }
        guard status == MNEMO_FAISS_OK, let handle = out else {
            throw VectorIndexError.corruptSnapshot(file: file, detail: "FAISS could not read the index: \(lastError())")
        }
        let index = FaissIndex(handle: handle, description: description, metric: metric)
        let expectedMetric: Int32 = metric == .innerProduct ? Int32(MNEMO_FAISS_METRIC_INNER_PRODUCT) : Int32(MNEMO_FAISS_METRIC_L2)
        guard mnemo_faiss_index_metric(handle) == expectedMetric else {
            throw VectorIndexError.corruptSnapshot(file: file, detail: "index metric differs from the manifest's \(metric.rawValue)")
        }
        guard index.dimension == dimension else {
            throw VectorIndexError.corruptSnapshot(
                file: file, detail: "index dimension \(index.dimension) differs from the manifest's \(dimension)")
        }
        return index
    }

    /// Sets the number of OpenMP threads FAISS uses for every index (process-wide).
    public static func setThreadCount(_ count: Int) { mnemo_faiss_set_num_threads(Int32(clamping: count)) }
    /// The number of OpenMP threads FAISS uses.
    public static var threadCount: Int { Int(mnemo_faiss_get_num_threads()) }

    private static func lastError() -> String { String(cString: mnemo_faiss_last_error()) }

    private func check(_ status: Int32, operation: String) throws {
        guard status != MNEMO_FAISS_OK else { return }
        if status == MNEMO_FAISS_ERROR_NOT_TRAINED {
            throw VectorIndexError.notTrained(description: indexDescription, operation: operation)
        }
        throw VectorIndexError.faiss(operation: operation, description: indexDescription, message: Self.lastError())
    }
}
