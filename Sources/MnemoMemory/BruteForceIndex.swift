// BruteForceIndex: exact search by a plain loop, the reference FAISS results are tested against.

/// An exact `VectorIndex` that scores every stored vector with a plain loop (no BLAS, no FAISS),
/// so it is an independent reference for `FaissIndex("Flat")` and a fallback without FAISS.
///
/// Scores are accumulated in `Double` and rounded to `Float`. Ties are broken by insertion
/// order (the earlier vector first); FAISS leaves tie order unspecified, so tests use tie-free data.
///
/// Thread safety (`@unchecked Sendable`): the stored arrays are only mutated under the
/// exclusive lock; searches hold the shared lock and may run concurrently.
public final class BruteForceIndex: VectorIndex, @unchecked Sendable {
    public let dimension: Int
    public let metric: VectorMetric
    private var vectors: [Float] = []
    private var ids: [Int64] = []
    private let lock = ReadWriteLock()

    /// - Throws: `VectorIndexError.badDescription` for `dimension <= 0`.
    public init(dimension: Int, metric: VectorMetric) throws {
        guard dimension > 0 else {
            throw VectorIndexError.badDescription(description: "BruteForce", dimension: dimension, message: "dimension must be > 0")
        }
        self.dimension = dimension
        self.metric = metric
    }

    public var count: Int { lock.reading { ids.count } }
    public var isTrained: Bool { true }

    public func train(_ vectors: [Float]) throws { _ = try vectorCount(vectors, what: "training vectors") }

    public func add(_ vectors: [Float], ids newIDs: [Int64]) throws {
        let n = try vectorCount(vectors, what: "vectors")
        guard newIDs.count == n else { throw VectorIndexError.idCountMismatch(what: "ids", expected: n, found: newIDs.count) }
        lock.writing {
            self.vectors.append(contentsOf: vectors)
            self.ids.append(contentsOf: newIDs)
        }
    }

    /// - Complexity: O(queries · count · (dimension + k)).
    public func searchResults(_ queries: [Float], k: Int) throws -> SearchResults {
        guard k > 0 else { throw VectorIndexError.invalidK(k) }
        let n = try vectorCount(queries, what: "queries")
        var outIDs = [Int64](repeating: -1, count: n * k)
        var outScores = [Float](repeating: 0, count: n * k)
        lock.reading {
            let d = dimension
            let stored = ids.count
            vectors.withUnsafeBufferPointer { base in
                queries.withUnsafeBufferPointer { query in
                    for q in 0..<n {
                        // Row of the current best, sorted best first; `filled` entries valid.
                        var filled = 0
                        let rowStart = q * k
                        for i in 0..<stored {
                            var acc = 0.0
                            for j in 0..<d {
                                let a = Double(query[q * d + j]), b = Double(base[i * d + j])
                                acc += metric == .innerProduct ? a * b : (a - b) * (a - b)
                            }
                            let score = Float(acc)
                            if filled == k && !metric.ranks(score, before: outScores[rowStart + k - 1]) { continue }
                            // Insert after every entry that ranks before or ties (earlier insertion wins ties).
                            var slot = min(filled, k - 1)
                            while slot > 0 && metric.ranks(score, before: outScores[rowStart + slot - 1]) {
                                outScores[rowStart + slot] = outScores[rowStart + slot - 1]
                                outIDs[rowStart + slot] = outIDs[rowStart + slot - 1]
                                slot -= 1
                            }
                            outScores[rowStart + slot] = score
                            outIDs[rowStart + slot] = ids[i]
                            filled = min(filled + 1, k)
                        }
                    }
                }
            }
        }
        return SearchResults(queryCount: n, k: k, ids: outIDs, scores: outScores)
    }

    @discardableResult
    public func remove(ids toRemove: [Int64]) throws -> Int {
        let doomed = Set(toRemove)
        return lock.writing {
            var keptVectors: [Float] = []
            var keptIDs: [Int64] = []
            for (i, id) in ids.enumerated() where !doomed.contains(id) {
                keptIDs.append(id)
                keptVectors.append(contentsOf: vectors[i * dimension ..< (i + 1) * dimension])
            }
            let removed = ids.count - keptIDs.count
            ids = keptIDs
            vectors = keptVectors
            return removed
        }
    }

    public func reset() throws {
        lock.writing {
            vectors.removeAll()
            ids.removeAll()
        }
    }
}
