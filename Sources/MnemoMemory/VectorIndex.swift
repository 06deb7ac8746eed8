// VectorIndex: the protocol every searchable vector store in Mnemo implements, and its value types.

/// How vectors are compared.
public enum VectorMetric: String, Sendable, Codable, CaseIterable {
    /// Inner product: larger scores are closer (cosine similarity for unit vectors).
    case innerProduct
    /// Squared Euclidean distance: smaller scores are closer.
    case l2

    /// Whether score `a` ranks strictly before score `b` under this metric.
    @inlinable
    public func ranks(_ a: Float, before b: Float) -> Bool {
        self == .innerProduct ? a > b : a < b
    }
}

/// One search result: the id given at insertion and its score (inner product, or squared L2
/// distance, as FAISS reports it).
public struct SearchHit: Sendable, Hashable {
    public var id: Int64
    public var score: Float

    public init(id: Int64, score: Float) {
        self.id = id
        self.score = score
    }
}

/// Search results as flat row-major arrays (one row of `k` entries per query, best first),
/// the layout FAISS produces. Missing entries (fewer than `k` stored vectors) have id `-1`.
public struct SearchResults: Sendable, Equatable {
    public let queryCount: Int
    public let k: Int
    public var ids: [Int64]
    public var scores: [Float]

    public init(queryCount: Int, k: Int, ids: [Int64], scores: [Float]) {
        precondition(ids.count == queryCount * k && scores.count == queryCount * k, "SearchResults: bad sizes")
        self.queryCount = queryCount
        self.k = k
        self.ids = ids
        self.scores = scores
    }

    /// Per-query hits, best first, without the missing (`-1`) entries.
    public var hits: [[SearchHit]] {
        (0..<queryCount).map { q in
            (0..<k).compactMap { j in
                let i = q * k + j
                return ids[i] < 0 ? nil : SearchHit(id: ids[i], score: scores[i])
            }
        }
    }
}

/// A searchable store of fixed-dimension `Float` vectors with caller-chosen `Int64` ids.
///
/// ```swift
/// let index = try FaissIndex(dimension: 64, description: "HNSW32", metric: .innerProduct)
/// try index.add(keys, ids: Array(0..<Int64(keys.count / 64)))
/// let hits = try index.search(queries, k: 10)   // [[SearchHit]], best first
/// ```
/// Vectors are passed row-major: `n * dimension` floats for `n` vectors.
/// Implementations are safe to search from several threads at once; writes (`train`, `add`,
/// `remove`, `reset`) take an exclusive lock, so they wait for running searches.
public protocol VectorIndex: AnyObject, Sendable {
    /// Floats per vector.
    var dimension: Int { get }
    var metric: VectorMetric { get }
    /// Vectors currently stored.
    var count: Int { get }
    /// Whether `add` and `search` may be called (false for an untrained IVF/PQ/SQ index).
    var isTrained: Bool { get }

    /// Trains the index (IVF centroids, PQ/SQ codebooks) on `vectors`; a no-op for Flat/HNSW.
    /// - Throws: `VectorIndexError.vectorCountMismatch`, `.faiss` on a FAISS failure.
    func train(_ vectors: [Float]) throws
    /// Adds `vectors` with one id per vector.
    /// - Throws: `.vectorCountMismatch`, `.idCountMismatch`, `.notTrained`.
    func add(_ vectors: [Float], ids: [Int64]) throws
    /// Searches the `k` closest stored vectors of each query; flat results.
    /// - Throws: `.invalidK`, `.vectorCountMismatch`, `.notTrained`.
    func searchResults(_ queries: [Float], k: Int) throws -> SearchResults
    /// Removes the given ids; returns how many were stored.
    /// - Throws: `.faiss` when the index type cannot remove (HNSW).
    @discardableResult
    func remove(ids: [Int64]) throws -> Int
    /// Removes every vector; training is kept.
    func reset() throws
}

extension VectorIndex {
    /// Searches the `k` closest stored vectors of each query: one array per query, best first.
    public func search(_ queries: [Float], k: Int) throws -> [[SearchHit]] {
        try searchResults(queries, k: k).hits
    }

    /// Adds one array per vector, each checked against `dimension`.
    /// - Throws: `.dimensionMismatch` naming the first bad row, then as `add(_:ids:)`.
    public func add(rows: [[Float]], ids: [Int64]) throws {
        try add(try flatten(rows, what: "vectors"), ids: ids)
    }

    /// Searches one array per query, each checked against `dimension`.
    /// - Throws: `.dimensionMismatch` naming the first bad row, then as `searchResults(_:k:)`.
    public func search(rows: [[Float]], k: Int) throws -> [[SearchHit]] {
        try search(try flatten(rows, what: "queries"), k: k)
    }

    func flatten(_ rows: [[Float]], what: String) throws -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(rows.count * dimension)
        for (i, row) in rows.enumerated() {
            guard row.count == dimension else {
                throw VectorIndexError.dimensionMismatch(what: "\(what)[\(i)]", expected: dimension, found: row.count)
            }
            flat.append(contentsOf: row)
        }
        return flat
    }

    /// Number of whole vectors in `floats`, or a `.vectorCountMismatch` error naming `what`.
    func vectorCount(_ floats: [Float], what: String) throws -> Int {
        guard floats.count % dimension == 0 else {
            throw VectorIndexError.vectorCountMismatch(what: what, floatCount: floats.count, dimension: dimension)
        }
        return floats.count / dimension
    }
}
