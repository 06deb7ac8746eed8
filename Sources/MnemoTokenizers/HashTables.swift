/// Open-addressing hash tables for the tokenizer hot paths (no per-lookup allocation).

/// Maps a pair of token ids to the merge it triggers: `(rank, merged id)`.
///
/// - Complexity: O(1) expected per lookup; linear probing over a power-of-two table at most half full.
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Inserts a merge unless the pair is already present (the first, lowest-rank merge wins).
    mutating func insertIfAbsent(left: Int32, right: Int32, rank: UInt32, merged: Int32) {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var i = Self.slot(key, mask)
        while keys[i] != Self.empty {
            if keys[i] == key { return }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// The `(rank, merged id)` packed as `rank << 32 | merged`, or `UInt64.max` if the pair never merges.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        return keys.withUnsafeBufferPointer { k in
            var i = Self.slot(key, mask)
            while true {
                let found = k[i]
                if found == key { return values[i] }
                if found == Self.empty { return UInt64.max }
                i = (i + 1) & mask
            }
        }
    }
}

/// FNV-1a over a byte range.
@inline(__always)
func hashBytes(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for i in range { h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3 }
    return h
}

/// Cache of word (byte string) → token ids, local to one `encode` call.
///
/// Keys and values live in two arenas; the table stores entry indices. Cleared when it grows past
/// `maxEntries` so memory stays bounded on huge inputs.
struct WordCache {
    private var table: [Int32]
    private var mask: Int
    private var hashes: [UInt64] = []
    private var keyStart: [Int32] = []
    private var keyLength: [Int32] = []
    private var idStart: [Int32] = []
    private var idLength: [Int32] = []
    private var keyArena: [UInt8] = []
    private(set) var idArena: [Int32] = []
    let maxEntries: Int

    init(maxEntries: Int = 1 << 18) {
        self.maxEntries = maxEntries
        table = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    /// The range in `idArena` holding the ids of `bytes[range]`, if cached.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64) -> Range<Int>? {
        var i = Int(truncatingIfNeeded: hash) & mask
        let length = range.count
        while true {
            let e = Int(table[i])
            if e < 0 { return nil }
            if hashes[e] == hash && Int(keyLength[e]) == length {
                let start = Int(keyStart[e])
                var same = true
                keyArena.withUnsafeBufferPointer { arena in
                    for j in 0..<length where arena[start + j] != bytes[range.lowerBound + j] { same = false; break }
                }
                if same { return Int(idStart[e])..<(Int(idStart[e]) + Int(idLength[e])) }
            }
            i = (i + 1) & mask
        }
    }

    /// Stores the ids of `bytes[range]`.
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64, ids: UnsafeBufferPointer<Int32>) {
        if hashes.count >= maxEntries { self = WordCache(maxEntries: maxEntries) }
        if (hashes.count + 1) * 2 > table.count { grow() }
        let e = Int32(hashes.count)
        hashes.append(hash)
        keyStart.append(Int32(keyArena.count))
        keyLength.append(Int32(range.count))
        keyArena.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
        idStart.append(Int32(idArena.count))
        idLength.append(Int32(ids.count))
        idArena.append(contentsOf: ids)
        place(Int(e))
    }

    private mutating func place(_ e: Int) {
        var i = Int(truncatingIfNeeded: hashes[e]) & mask
        while table[i] >= 0 { i = (i + 1) & mask }
        table[i] = Int32(e)
    }

    private mutating func grow() {
        table = [Int32](repeating: -1, count: table.count * 2)
        mask = table.count - 1
        for e in 0..<hashes.count { place(e) }
    }
}

/// A byte string as a dictionary key, hashed in one call over its bytes (the default `[UInt8]`
/// hashing feeds the hasher byte by byte, which dominated loading).
struct ByteKey: Hashable, Sendable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// Byte string → id map (exact bytes: no Unicode canonical equivalence, unlike `String` keys).
struct ByteMap: Sendable, Sequence {
    private var storage: [ByteKey: Int32] = [:]

    init() {}

    subscript(key: [UInt8]) -> Int32? {
        get { storage[ByteKey(bytes: key)] }
        set { storage[ByteKey(bytes: key)] = newValue }
    }

    var count: Int { storage.count }

    mutating func reserveCapacity(_ n: Int) { storage.reserveCapacity(n) }

    func makeIterator() -> AnyIterator<([UInt8], Int32)> {
        var it = storage.makeIterator()
        return AnyIterator { it.next().map { ($0.key.bytes, $0.value) } }
    }
}
