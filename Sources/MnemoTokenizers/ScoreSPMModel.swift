/// SentencePiece-style BPE by piece score, as llama.cpp `llm_tokenizer_spm` (`src/llama-vocab.cpp`)
/// for GGUF files with `tokenizer.ggml.model = llama`.
///
/// Starts from UTF-8 characters, repeatedly merges the adjacent pair whose concatenation is a
/// vocabulary piece with the highest score (leftmost on ties), then emits each symbol's piece, or its
/// bytes as `<0xXX>` tokens when the character is not in the vocabulary.
struct ScoreSPMModel: Sendable {
    let vocabulary: ByteMap
    let scores: [Float]
    let byteIDs: [Int32]
    let unknownID: Int32
    /// No piece has `▁` after another character, so words may be cut before such `▁` (checked at load).
    let splitsBeforeMetaspace: Bool

    private struct Bigram {
        var key: UInt64   // ~ordered(score) << 32 | left : smaller = higher score, then leftmost
        var right: Int32
        var size: Int32
    }

    /// Encodes `bytes[range]`, appending ids to `out`.
    /// - Complexity: O(n log n) per uncached word.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, cache: inout WordCache, into out: inout [Int32]) {
        guard splitsBeforeMetaspace else { encodeCached(bytes, range, cache: &cache, into: &out); return }
        var start = range.lowerBound
        var i = range.lowerBound
        var previousWasMeta = false
        while i < range.upperBound {
            let isMeta = bytes[i] == 0xE2 && i + 2 < range.upperBound && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81
            if isMeta {
                if !previousWasMeta && i > start { encodeCached(bytes, start..<i, cache: &cache, into: &out); start = i }
                previousWasMeta = true
                i += 3
            } else {
                previousWasMeta = false
                i += utf8Length(bytes[i])
            }
        }
        if start < range.upperBound { encodeCached(bytes, start..<range.upperBound, cache: &cache, into: &out) }
    }

    private func encodeCached(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, cache: inout WordCache, into out: inout [Int32]) {
        let hash = hashBytes(bytes, range)
        if let hit = cache.lookup(bytes, range, hash: hash) {
            cache.idArena.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[hit])) }
            return
        }
        let ids = encodeWord(Array(bytes[range]))
        ids.withUnsafeBufferPointer { cache.insert(bytes, range, hash: hash, ids: $0) }
        out.append(contentsOf: ids)
    }

    private static func orderedDescending(_ f: Float) -> UInt64 {
        let bits = f.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ordered)
    }

    /// Encodes one word (no cache).
    func encodeWord(_ text: [UInt8]) -> [Int32] {
        // Symbols: start offset and length in bytes; linked list.
        var start: [Int] = [], length: [Int] = []
        var i = 0
        while i < text.count {
            let len = min(utf8Length(text[i]), text.count - i)
            start.append(i); length.append(len)
            i += len
        }
        let n = start.count
        guard n > 0 else { return [] }
        var prev = (0..<n).map { $0 - 1 }
        var next = (0..<n).map { $0 + 1 }
        next[n - 1] = -1
        var heap: [Bigram] = []

        func less(_ a: Bigram, _ b: Bigram) -> Bool { a.key < b.key }
        func push(_ b: Bigram) {
            heap.append(b)
            var c = heap.count - 1
            while c > 0 { let p = (c - 1) / 2; if !less(heap[c], heap[p]) { break }; heap.swapAt(c, p); c = p }
        }
        func pop() -> Bigram? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var c = 0
                while true {
                    let l = 2 * c + 1, r = l + 1
                    var m = c
                    if l < heap.count && less(heap[l], heap[m]) { m = l }
                    if r < heap.count && less(heap[r], heap[m]) { m = r }
                    if m == c { break }
                    heap.swapAt(m, c); c = m
                }
            }
            return top
        }
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let piece = Array(text[start[left]..<(start[right] + length[right])])
            guard let id = vocabulary[piece], Int(id) < scores.count else { return }
            push(Bigram(key: Self.orderedDescending(scores[Int(id)]) << 32 | UInt64(left), right: Int32(right), size: Int32(piece.count)))
        }
        for k in 1..<max(n, 1) { tryAdd(k - 1, k) }
        while let b = pop() {
            let left = Int(b.key & 0xFFFF_FFFF), right = Int(b.right)
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == Int(b.size) else { continue }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            tryAdd(prev[left], left)
            tryAdd(left, next[left])
        }
        var out: [Int32] = []
        var s = 0
        while s >= 0 {
            let piece = Array(text[start[s]..<(start[s] + length[s])])
            if let id = vocabulary[piece] {
                out.append(id)
            } else {
                for b in piece {
                    let id = byteIDs[Int(b)]
                    out.append(id >= 0 ? id : unknownID)
                }
            }
            s = next[s]
        }
        return out
    }
}
