/// Byte-pair encoding by merge rank, as Hugging Face `tokenizers` `models/bpe/model.rs`
/// (`BPE::merge_word`, `Word::merge_all`) and llama.cpp `llm_tokenizer_bpe`.
///
/// Two symbol alphabets:
/// - `byteLevel`: every UTF-8 byte starts as the id of its GPT-2 byte-level character (GPT-2, Llama 3, Qwen2).
/// - `characters`: every Unicode scalar starts as its own token, or as `<0xXX>` byte tokens when
///   `byteFallback` is set, or as the unknown token (fused when `fuseUnk`) (Llama 2, Mistral, TinyLlama).
///
/// Merging always applies the lowest-rank pair, leftmost first on ties.
struct BPEModel: Sendable {
    enum Alphabet: Sendable { case byteLevel, characters }

    let alphabet: Alphabet
    /// `byteLevel`: id of each byte's character; `characters`: id of `<0xXX>` (or -1).
    let byteIDs: [Int32]
    /// `characters`: ids of the single-scalar tokens.
    let scalarIDs: [UInt32: Int32]
    /// Vocabulary keyed by the token's raw bytes (byte-level tokens decoded to bytes).
    let vocabulary: ByteMap
    let merges: PairTable
    let unknownID: Int32
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// True when no merge result has a `▁` after another character, so a word can be cut before every
    /// `▁` that follows a non-`▁` character without changing the result (checked at load).
    let splitsBeforeMetaspace: Bool

    /// Words longer than this many symbols are merged with a heap instead of repeated scans.
    static let heapThreshold = 48

    /// Encodes `bytes[range]` (one pre-token), appending ids to `out`.
    /// - Complexity: O(n) per cached word; O(n²) for short uncached words, O(n log n) for long ones.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, cache: inout WordCache, scratch: inout BPEScratch, into out: inout [Int32]) {
        if alphabet == .characters && splitsBeforeMetaspace {
            // Cut before each '▁' (E2 96 81) that follows another character.
            var start = range.lowerBound
            var i = range.lowerBound
            var previousWasMeta = false
            while i < range.upperBound {
                let isMeta = bytes[i] == 0xE2 && i + 2 < range.upperBound && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81
                if isMeta {
                    if !previousWasMeta && i > start {
                        encodeCached(bytes, start..<i, cache: &cache, scratch: &scratch, into: &out)
                        start = i
                    }
                    previousWasMeta = true
                    i += 3
                } else {
                    previousWasMeta = false
                    i += utf8Length(bytes[i])
                }
            }
            if start < range.upperBound { encodeCached(bytes, start..<range.upperBound, cache: &cache, scratch: &scratch, into: &out) }
        } else {
            encodeCached(bytes, range, cache: &cache, scratch: &scratch, into: &out)
        }
    }

    @inline(__always)
    private func encodeCached(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, cache: inout WordCache, scratch: inout BPEScratch, into out: inout [Int32]) {
        let hash = hashBytes(bytes, range)
        if let hit = cache.lookup(bytes, range, hash: hash) {
            cache.idArena.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[hit])) }
            return
        }
        encodeWord(bytes, range, scratch: &scratch)
        scratch.symbols.withUnsafeBufferPointer { ids in
            cache.insert(bytes, range, hash: hash, ids: ids)
            out.append(contentsOf: ids)
        }
    }

    /// Encodes one word into `scratch.symbols` (no cache).
    func encodeWord(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, scratch: inout BPEScratch) {
        scratch.symbols.removeAll(keepingCapacity: true)
        if ignoreMerges, let id = vocabulary[Array(bytes[range])] {
            scratch.symbols.append(id)
            return
        }
        initialSymbols(bytes, range, into: &scratch.symbols)
        if scratch.symbols.count >= Self.heapThreshold {
            mergeWithHeap(&scratch)
        } else {
            mergeByScan(&scratch)
        }
    }

    private func initialSymbols(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into symbols: inout [Int32]) {
        switch alphabet {
        case .byteLevel:
            for i in range { symbols.append(byteIDs[Int(bytes[i])]) }
        case .characters:
            var i = range.lowerBound
            var lastWasUnknown = false
            while i < range.upperBound {
                let (v, len) = decodeScalar(bytes, i)
                defer { i += len }
                if let id = scalarIDs[v] {
                    symbols.append(id); lastWasUnknown = false; continue
                }
                if byteFallback {
                    var all = true
                    for j in i..<(i + len) where byteIDs[Int(bytes[j])] < 0 { all = false; break }
                    if all {
                        for j in i..<(i + len) { symbols.append(byteIDs[Int(bytes[j])]) }
                        lastWasUnknown = false
                        continue
                    }
                }
                if unknownID >= 0 && !(fuseUnknown && lastWasUnknown) { symbols.append(unknownID) }
                lastWasUnknown = unknownID >= 0
            }
        }
    }

    /// Repeatedly merges the lowest-rank (leftmost) pair by scanning: best for short words.
    /// - Complexity: O(n²).
    func mergeByScan(_ scratch: inout BPEScratch) {
        var n = scratch.symbols.count
        guard n >= 2 else { return }
        scratch.ranks.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) { scratch.ranks.append(merges.lookup(scratch.symbols[i], scratch.symbols[i + 1])) }
        while n >= 2 {
            var best = UInt64.max
            var at = -1
            for i in 0..<(n - 1) where scratch.ranks[i] < best { best = scratch.ranks[i]; at = i }
            if at < 0 { break }
            scratch.symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            scratch.symbols.remove(at: at + 1)
            scratch.ranks.remove(at: at)
            n -= 1
            if at > 0 { scratch.ranks[at - 1] = merges.lookup(scratch.symbols[at - 1], scratch.symbols[at]) }
            if at < n - 1 { scratch.ranks[at] = merges.lookup(scratch.symbols[at], scratch.symbols[at + 1]) }
        }
    }

    /// Merges with a binary heap of `(rank, position)` over a linked list of symbols: for long words.
    /// - Complexity: O(n log n).
    func mergeWithHeap(_ scratch: inout BPEScratch) {
        let n = scratch.symbols.count
        guard n >= 2 else { return }
        var next = [Int32](0..<Int32(n)).map { $0 + 1 }
        next[n - 1] = -1
        var prev = [Int32](0..<Int32(n)).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            let v = merges.lookup(scratch.symbols[i], scratch.symbols[i + 1])
            if v != UInt64.max { heap.push((v >> 32) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = Int(next[pos])
            let v = merges.lookup(scratch.symbols[pos], scratch.symbols[right])
            guard v != UInt64.max, v >> 32 == rank else { continue }
            scratch.symbols[pos] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(pos) }
            if prev[pos] >= 0 {
                let p = Int(prev[pos])
                let w = merges.lookup(scratch.symbols[p], scratch.symbols[pos])
                if w != UInt64.max { heap.push((w >> 32) << 32 | UInt64(p)) }
            }
            if next[pos] >= 0 {
                let w = merges.lookup(scratch.symbols[pos], scratch.symbols[Int(next[pos])])
                if w != UInt64.max { heap.push((w >> 32) << 32 | UInt64(pos)) }
            }
        }
        var k = 0
        var i = 0
        while i >= 0 {
            scratch.symbols[k] = scratch.symbols[i]
            k += 1
            i = Int(next[i])
        }
        scratch.symbols.removeLast(n - k)
    }
}

/// Reusable buffers for `BPEModel`.
struct BPEScratch {
    var symbols: [Int32] = []
    var ranks: [UInt64] = []
}

/// A binary min-heap of packed `UInt64` keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p] <= items[i] { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && items[l] < items[m] { m = l }
            if r < n && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(m, i)
            i = m
        }
        return first
    }
}
