/// The tokenizer of llama2.c (`run.c`: `encode`, `decode`), read from its `tokenizer.bin`.
///
/// Encoding: a dummy-prefix `" "` token, one token per UTF-8 character (or its bytes as ids
/// `byte + 3`), then repeatedly merge the adjacent pair whose concatenation is in the vocabulary with
/// the best score (leftmost on ties). Decoding: strip the leading space of a piece that follows BOS
/// (id 1); `<0xXX>` pieces are raw bytes.
struct Llama2cModel: Sendable {
    let vocab: [[UInt8]]
    let scores: [Float]
    let lookup: ByteMap
    let maxTokenLength: Int
    /// No piece has a space after another character, so the text can be cut before every space that
    /// follows a non-space without changing the result (checked at load); words are then cached.
    let splitsBeforeSpace: Bool
    static let bos = 1
    static let eos = 2

    private struct Pair {
        var key: UInt64       // ~ordered(score) << 32 | left position
        var right: Int32
        var leftID: Int32
        var rightID: Int32
        var merged: Int32
    }

    private static func orderedDescending(_ f: Float) -> UInt64 {
        let bits = f.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ordered)
    }

    /// Encodes UTF-8 `text` (no BOS/EOS), appending ids to `out`.
    /// - Complexity: O(n log n); run.c's quadratic rescan gives the same result.
    func encode(_ text: [UInt8], into out: inout [Int32]) {
        guard !text.isEmpty else { return }
        var tokens: [Int32] = []
        if let space = lookup[[UInt8(ascii: " ")]] { tokens.append(space) }
        guard splitsBeforeSpace else {
            appendCharacters(text[...], into: &tokens)
            merge(&tokens)
            out.append(contentsOf: tokens)
            return
        }
        // The dummy-prefix space belongs to the first word; cut before each space that follows a non-space.
        var cache = WordCache()
        let full = (tokens.isEmpty ? [] : [UInt8(ascii: " ")]) + text
        full.withUnsafeBufferPointer { b in
            var start = 0
            for i in 0...b.count where i == b.count || (i > start && b[i] == 0x20 && b[i - 1] != 0x20) {
                let range = start..<i
                start = i
                let hash = hashBytes(b, range)
                if let hit = cache.lookup(b, range, hash: hash) {
                    cache.idArena.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[hit])) }
                    continue
                }
                var word: [Int32] = []
                if range.lowerBound == 0 && !tokens.isEmpty {
                    word = tokens
                    appendCharacters(full[1..<range.upperBound], into: &word)
                } else {
                    appendCharacters(full[range], into: &word)
                }
                merge(&word)
                word.withUnsafeBufferPointer { cache.insert(b, range, hash: hash, ids: $0) }
                out.append(contentsOf: word)
            }
        }
    }

    /// One token per UTF-8 character, or its bytes as ids `byte + 3` (run.c `encode`, first loop).
    private func appendCharacters(_ text: ArraySlice<UInt8>, into tokens: inout [Int32]) {
        var buffer: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c & 0xC0 != 0x80 { buffer.removeAll(keepingCapacity: true) }
            buffer.append(c)
            i += 1
            if i < text.endIndex && text[i] & 0xC0 == 0x80 && buffer.count < 4 { continue }
            if let id = lookup[buffer] {
                tokens.append(id)
            } else {
                for b in buffer { tokens.append(Int32(b) + 3) }
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Merges the best-scoring adjacent pair (leftmost on ties) until none is in the vocabulary.
    private func merge(_ tokens: inout [Int32]) {
        let n = tokens.count
        guard n >= 2 else { return }
        var next = (0..<n).map { Int32($0 + 1) }
        next[n - 1] = -1
        var prev = (0..<n).map { Int32($0 - 1) }
        var heap: [Pair] = []
        func push(_ p: Pair) {
            heap.append(p)
            var c = heap.count - 1
            while c > 0 { let q = (c - 1) / 2; if heap[c].key >= heap[q].key { break }; heap.swapAt(c, q); c = q }
        }
        func pop() -> Pair? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var c = 0
                while true {
                    let l = 2 * c + 1, r = l + 1
                    var m = c
                    if l < heap.count && heap[l].key < heap[m].key { m = l }
                    if r < heap.count && heap[r].key < heap[m].key { m = r }
                    if m == c { break }
                    heap.swapAt(m, c); c = m
                }
            }
            return top
        }
        func consider(_ left: Int) {
            guard left >= 0, next[left] >= 0 else { return }
            let right = Int(next[left])
            let a = tokens[left], b = tokens[right]
            guard Int(a) < vocab.count, Int(b) < vocab.count, let id = lookup[vocab[Int(a)] + vocab[Int(b)]] else { return }
            push(Pair(key: Self.orderedDescending(scores[Int(id)]) << 32 | UInt64(left), right: Int32(right), leftID: a, rightID: b, merged: id))
        }
        for i in 0..<(n - 1) { consider(i) }
        var alive = [Bool](repeating: true, count: n)
        while let p = pop() {
            let left = Int(p.key & 0xFFFF_FFFF), right = Int(p.right)
            guard alive[left], alive[right], next[left] == p.right, tokens[left] == p.leftID, tokens[right] == p.rightID else { continue }
            tokens[left] = p.merged
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(left) }
            consider(Int(prev[left]))
            consider(left)
        }
        var result: [Int32] = []
        result.reserveCapacity(n)
        var i = 0
        while i >= 0 { result.append(tokens[i]); i = Int(next[i]) }
        tokens = result
    }

    /// Decodes ids as run.c `decode` does piece by piece.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var previous = -1
        for id in ids {
            defer { previous = id }
            guard id >= 0, id < vocab.count else { continue }
            if skipSpecialTokens && (id == Self.bos || id == Self.eos) { continue }
            var piece = vocab[id][...]
            if previous == Self.bos && piece.first == UInt8(ascii: " ") { piece = piece.dropFirst() }
            if let byte = TokenDecoder.byteToken(Array(piece)) { out.append(byte) } else { out.append(contentsOf: piece) }
        }
        return out
    }
}
