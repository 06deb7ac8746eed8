// VectorStoreConfiguration: what a ShardedVectorStore stores and how much of it.

/// The layout of a `ShardedVectorStore`: key index type, value storage, capacity and retention.
public struct VectorStoreConfiguration: Sendable, Codable, Equatable {
    /// Which entries a search sees once more than `capacity` have been appended.
    public enum Retention: String, Sendable, Codable, CaseIterable {
        /// Exactly the newest `capacity` entries: older ids still held by the oldest shard are
        /// masked out of results (that shard is searched with `k + masked` and filtered).
        case exactNewest
        /// Every entry still held: the newest `capacity` plus up to `shardCapacity` older ones
        /// (eviction is per whole shard). Cheapest; no oversampling.
        case wholeShards
    }

    /// Floats per key.
    public var dimension: Int
    /// Floats per value vector (0 for keys only).
    public var valueDimension: Int
    public var valuePrecision: ValuePrecision
    public var metric: VectorMetric
    /// FAISS factory description of each shard's index ("Flat", "HNSW32", "IVF256,Flat", ...).
    public var indexDescription: String
    /// Entries guaranteed to stay searchable (the newest ones).
    public var capacity: Int
    /// Number of full shards kept; one more shard fills while they are searched.
    public var shardCount: Int
    public var retention: Retention
    /// HNSW search breadth, if set.
    public var efSearch: Int?
    /// IVF lists probed per query, if set.
    public var nprobe: Int?

    public init(dimension: Int, valueDimension: Int, valuePrecision: ValuePrecision = .f32,
                metric: VectorMetric = .innerProduct, indexDescription: String = "Flat",
                capacity: Int, shardCount: Int = 4, retention: Retention = .exactNewest,
                efSearch: Int? = nil, nprobe: Int? = nil) {
        self.dimension = dimension
        self.valueDimension = valueDimension
        self.valuePrecision = valuePrecision
        self.metric = metric
        self.indexDescription = indexDescription
        self.capacity = capacity
        self.shardCount = shardCount
        self.retention = retention
        self.efSearch = efSearch
        self.nprobe = nprobe
    }

    /// Largest accepted `dimension` / `valueDimension`.
    public static let maxDimension = 65_536
    /// Largest accepted `capacity` (and so `shardCount`).
    public static let maxCapacity = Int(Int32.max)

    /// Entries per shard: `ceil(capacity / shardCount)` (0 for a non-positive layout; never overflows).
    public var shardCapacity: Int {
        guard capacity > 0, shardCount > 0 else { return 0 }
        return capacity / shardCount + (capacity % shardCount == 0 ? 0 : 1)
    }

    /// Checks capacity and dimensions: `capacity` in 1...`maxCapacity`, `shardCount` in 1...`capacity`,
    /// `dimension` in 1...`maxDimension`, `valueDimension` in 0...`maxDimension`.
    /// - Throws: `.badCapacity`.
    public func validate() throws {
        guard capacity > 0 else { throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "capacity must be at least 1") }
        guard capacity <= Self.maxCapacity else {
            throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "capacity must be at most \(Self.maxCapacity)")
        }
        guard shardCount > 0 else { throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "shard count must be at least 1") }
        guard shardCount <= capacity else {
            throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "shard count must not exceed capacity")
        }
        guard dimension > 0 else { throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "key dimension must be at least 1, found \(dimension)") }
        guard dimension <= Self.maxDimension else {
            throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "key dimension (dimension) must be at most \(Self.maxDimension), found \(dimension)")
        }
        guard valueDimension >= 0 else { throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "value dimension must be at least 0, found \(valueDimension)") }
        guard valueDimension <= Self.maxDimension else {
            throw VectorIndexError.badCapacity(capacity: capacity, shardCount: shardCount, reason: "value dimension (valueDimension) must be at most \(Self.maxDimension), found \(valueDimension)")
        }
    }
}
