/// One added (or special) token: split out of the text before the model sees it.
struct AddedToken: Sendable, Equatable {
    var id: Int
    var content: String
    var special: Bool
    var lstrip = false
    var rstrip = false
    var normalized = false
}

/// A piece of input after added tokens are split out.
enum Segment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Leftmost-longest matching of added-token contents in UTF-8 text (HF `added_vocabulary.rs`,
/// which uses Aho-Corasick with `LeftmostLongest`), honouring `lstrip` / `rstrip`.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        var bytes: [UInt8]
        var id: Int
        var lstrip: Bool
        var rstrip: Bool
    }
    /// Patterns grouped by first byte, longest first.
    private var byFirstByte: [[Pattern]] = Array(repeating: [], count: 256)
    private(set) var isEmpty = true

    init(_ patterns: [(bytes: [UInt8], id: Int, lstrip: Bool, rstrip: Bool)]) {
        for p in patterns where !p.bytes.isEmpty {
            byFirstByte[Int(p.bytes[0])].append(Pattern(bytes: p.bytes, id: p.id, lstrip: p.lstrip, rstrip: p.rstrip))
            isEmpty = false
        }
        for i in 0..<256 { byFirstByte[i].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Splits `bytes[range]` into text and token segments.
    /// - Complexity: O(n · k) where k is the number of patterns sharing a first byte.
    func split(_ bytes: [UInt8], _ range: Range<Int>) -> [Segment] {
        if isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var out: [Segment] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        bytes.withUnsafeBufferPointer { b in
            while i < range.upperBound {
                var matched: Pattern?
                for p in byFirstByte[Int(b[i])] where i + p.bytes.count <= range.upperBound {
                    var same = true
                    for j in 1..<p.bytes.count where b[i + j] != p.bytes[j] { same = false; break }
                    if same { matched = p; break }
                }
                guard let p = matched else { i += 1; continue }
                var start = i
                var end = i + p.bytes.count
                if p.lstrip { while start > textStart && isSpace(b, start - 1) { start -= 1 } }
                if p.rstrip { while end < range.upperBound && isSpace(b, end) { end += 1 } }
                if start > textStart { out.append(.text(textStart..<start)) }
                out.append(.token(p.id))
                textStart = end
                i = end
            }
        }
        if textStart < range.upperBound { out.append(.text(textStart..<range.upperBound)) }
        return out
    }

    /// ASCII and Unicode whitespace check on a single byte (multi-byte spaces are not stripped).
    private func isSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let c = b[i]
        return c == 0x20 || (c >= 0x09 && c <= 0x0D)
    }
}
