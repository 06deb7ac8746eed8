// VectorIndexError: every failure of the vector store, one clear line each.

/// Errors of `FaissIndex`, `BruteForceIndex`, `ShardedVectorStore` and `IndexSnapshot`.
public enum VectorIndexError: Error, Equatable, CustomStringConvertible {
    /// FAISS's index_factory rejected `description`.
    case badDescription(description: String, dimension: Int, message: String)
    /// A vector of the wrong dimension: `what` names the input ("queries", "snapshot index").
    case dimensionMismatch(what: String, expected: Int, found: Int)
    /// A float array that is not a whole number of `dimension`-float vectors.
    case vectorCountMismatch(what: String, floatCount: Int, dimension: Int)
    /// `add` got a different number of ids (or values/positions) than vectors.
    case idCountMismatch(what: String, expected: Int, found: Int)
    /// `k` must be at least 1.
    case invalidK(Int)
    /// An index that needs training (IVF, PQ, SQ) was searched or added to before `train`.
    case notTrained(description: String, operation: String)
    /// A search parameter the index does not have, or an invalid value.
    case badParameter(name: String, value: Int, message: String)
    /// Another FAISS failure (e.g. remove on HNSW), with FAISS's message.
    case faiss(operation: String, description: String, message: String)
    /// Invalid capacity / shard layout.
    case badCapacity(capacity: Int, shardCount: Int, reason: String)
    /// A record was asked for an id that is not stored (never added, or evicted).
    case unknownID(id: Int64, retained: Range<Int64>)
    /// A snapshot file is missing, truncated or corrupt.
    case corruptSnapshot(file: String, detail: String)
    /// A file system operation failed while saving or loading a snapshot.
    case io(file: String, detail: String)

    public var description: String {
        switch self {
        case let .badDescription(description, dimension, message):
            return "bad FAISS index description '\(description)' (dimension \(dimension)): \(message)"
        case let .dimensionMismatch(what, expected, found):
            return "\(what): expected dimension \(expected), found \(found)"
        case let .vectorCountMismatch(what, floatCount, dimension):
            return "\(what): \(floatCount) floats is not a whole number of \(dimension)-dimensional vectors"
        case let .idCountMismatch(what, expected, found):
            return "\(what): expected \(expected) (one per vector), found \(found)"
        case let .invalidK(k):
            return "k must be at least 1, found \(k)"
        case let .notTrained(description, operation):
            return "index '\(description)' is not trained: call train(_:) before \(operation)"
        case let .badParameter(name, value, message):
            return "search parameter \(name)=\(value) rejected: \(message)"
        case let .faiss(operation, description, message):
            return "FAISS \(operation) failed on index '\(description)': \(message)"
        case let .badCapacity(capacity, shardCount, reason):
            return "bad capacity \(capacity) with \(shardCount) shards: \(reason)"
        case let .unknownID(id, retained):
            return "id \(id) is not stored (retained ids: \(retained.lowerBound)..<\(retained.upperBound))"
        case let .corruptSnapshot(file, detail):
            return "corrupt snapshot file \(file): \(detail)"
        case let .io(file, detail):
            return "\(file): \(detail)"
        }
    }
}
