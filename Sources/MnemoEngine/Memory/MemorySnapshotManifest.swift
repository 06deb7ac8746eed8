import Foundation

/// `manifest.json` of a memory snapshot: what was saved, with which model and plan, and a checksum
/// of every other file. See `Docs/Memory.md`, "Persistent document memory".
public struct MemorySnapshotManifest: Codable, Sendable, Equatable {
    /// The `format` value of every memory snapshot.
    public static let formatName = "mnemo-memory"
    /// The current `formatVersion` (loading refuses any other). Version 2: `chunkReading`, and retrieval
    /// datastores over Flat/HNSW indexes store no value copy (value dimension 0).
    public static let currentVersion = 2

    /// Unlimiformer `overlappingChunks` bookkeeping (`MemoryState.readingInChunks` and the chunk context);
    /// present exactly when the plan's retrieval encoding is `overlappingChunks`.
    public struct ChunkReading: Codable, Sendable, Equatable {
        /// True while the document is still read in independent chunks (before `endDocument()`).
        public var readingInChunks: Bool
        /// Window rows at the top of the current chunk that re-encode the previous chunk's tail.
        public var chunkContextRows: Int
        /// The last `chunkOverlap` token ids read: the context of the next chunk.
        public var recentTokens: [Int]
    }

    /// One kNN store (`head` set) or retrieval datastore (`head` nil): an `IndexSnapshot` directory.
    public struct Store: Codable, Sendable, Equatable {
        public var layer: Int
        public var head: Int?
        /// Relative path of the store's directory inside the snapshot.
        public var directory: String
        /// Entries the store retains.
        public var count: Int
    }

    /// One file of the snapshot (every file except `manifest.json` and its checksum).
    public struct File: Codable, Sendable, Equatable {
        /// Relative path inside the snapshot (`/`-separated plain names).
        public var path: String
        public var bytes: Int
        /// `"sha256:<hex>"` of the file's bytes.
        public var sha256: String
    }

    public var format: String
    public var formatVersion: Int
    /// The model the memory was built with.
    public var model: ModelIdentity
    /// The plan the memory was built with (loading with another plan is refused).
    public var plan: MemoryPlan
    /// A checksum of the document's text as given by the caller (the CLI: `sha256:` of the file's bytes).
    public var textChecksum: String?
    /// Token ids of the document not yet run through the state: a continuation starts by feeding
    /// them (`mnemo index` holds back the last token, so `generate --memory` has logits to start from).
    public var pendingTokens: [Int]
    /// Tokens read since the reset (`MemoryState.count`): the position of the next token.
    public var tokensRead: Int
    /// Rows that left the window (`MemoryState.evictedCount`).
    public var evictedCount: Int
    /// Tokens of the current, unfinished segment.
    public var segmentFill: Int
    /// Rows in the window (KV cache rows of every layer).
    public var windowRows: Int
    /// First window row of the current segment's RMT read block, when one is open.
    public var readBlockStart: Int?
    /// Retrieval layers whose window hidden states are in `hidden.bin`, ascending.
    public var hiddenLayers: [Int]
    /// Floats of RMT memory in `memory.bin` (`memoryTokens.count × hiddenSize`).
    public var memoryFloats: Int
    /// kNN stores, ascending by layer then head.
    public var knnStores: [Store]
    /// Retrieval datastores, ascending by layer.
    public var datastores: [Store]
    /// Every other file with its size and checksum, sorted by path.
    public var files: [File]
    /// `overlappingChunks` plans only: where the chunked reading stands.
    public var chunkReading: ChunkReading? = nil
}

/// File names inside a snapshot directory.
enum SnapshotLayout {
    static let manifest = "manifest.json"
    /// `sha256:<hex>` of `manifest.json`'s bytes, one line.
    static let manifestChecksum = "manifest.sha256"
    /// Per layer: keys then values, `windowRows × kvWidth` f32 little-endian each.
    static let window = "window.bin"
    /// Per window row: its reading-frame position (Int64 little-endian; -1 = RMT row).
    static let positions = "positions.bin"
    /// Per retrieval layer (ascending): `windowRows × hiddenSize` f32.
    static let hidden = "hidden.bin"
    /// RMT memory, f32.
    static let memory = "memory.bin"

    static func knnDirectory(layer: Int, head: Int) -> String { "knn/layer-\(layer)-head-\(head)" }
    static func datastoreDirectory(layer: Int) -> String { "retrieval/layer-\(layer)" }
}

/// Little-endian encoding of the snapshot's arrays.
enum SnapshotBytes {
    static func data(_ floats: [Float]) -> Data {
        #if _endian(little)
        return floats.withUnsafeBytes { Data($0) }
        #else
        return Data(floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        #endif
    }

    static func data(_ ints: [Int64]) -> Data {
        #if _endian(little)
        return ints.withUnsafeBytes { Data($0) }
        #else
        return Data(ints.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
        #endif
    }

    /// `count` floats from `bytes[offset...]`; the caller has checked the length.
    static func floats(_ bytes: Data, offset: Int = 0, count: Int) -> [Float] {
        precondition(offset >= 0 && offset + count * 4 <= bytes.count, "caller checks snapshot sizes")
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + $0 * 4, as: UInt32.self))) }
        }
    }

    /// `count` Int64 values; the caller has checked the length.
    static func int64s(_ bytes: Data, count: Int) -> [Int64] {
        precondition(count * 8 <= bytes.count, "caller checks snapshot sizes")
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }
}
