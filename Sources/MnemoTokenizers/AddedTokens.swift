/// One added (or special) token: split out of the text before the model sees it.
struct AddedToken: Sendable, Equatable {
    var id: Int
    var content: String
    var special: Bool
    var lstrip = false
    var rstrip = false
    var normalized = false
    var singleWord = false
}

/// What the matcher needs of an added token: its (possibly normalized) bytes and flags.
struct AddedTokenPattern: Sendable {
    var bytes: [UInt8]
    var id: Int
    var lstrip = false
    var rstrip = false
    var singleWord = false
}

/// A piece of input after added tokens are split out.
enum Segment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Leftmost-longest matching of added-token contents in UTF-8 text (HF `added_vocabulary.rs`,
/// which uses Aho-Corasick with `LeftmostLongest`), honouring `lstrip` / `rstrip` (Unicode
/// whitespace) and `single_word` (no word character, i.e. letter, number or '_', right before or after).
struct AddedTokenMatcher: Sendable {
    private typealias Pattern = AddedTokenPattern
    /// Patterns grouped by first byte, longest first.
    private var byFirstByte: [[Pattern]] = Array(repeating: [], count: 256)
    private(set) var isEmpty = true

    init(_ patterns: [AddedTokenPattern]) {
        for p in patterns where !p.bytes.isEmpty {
            byFirstByte[Int(p.bytes[0])].append(p)
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
                if p.singleWord && (classBefore(b, start, range.lowerBound).0.isWord || classAt(b, end, range.upperBound).0.isWord) {
                    i = end   // HF skips this match and resumes after it
                    continue
                }
                if p.lstrip {
                    while start > textStart {
                        let (c, len) = classBefore(b, start, textStart)
                        guard c.isSpace else { break }
                        start -= len
                    }
                }
                if p.rstrip {
                    while end < range.upperBound {
                        let (c, len) = classAt(b, end, range.upperBound)
                        guard c.isSpace else { break }
                        end += len
                    }
                }
                if start > textStart { out.append(.text(textStart..<start)) }
                out.append(.token(p.id))
                textStart = end
                i = end
            }
        }
        if textStart < range.upperBound { out.append(.text(textStart..<range.upperBound)) }
        return out
    }

    /// Character class of the scalar before byte offset `i` (not before `lower`) and its byte length.
    private func classBefore(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ lower: Int) -> (ScalarKind, Int) {
        guard i > lower else { return (ScalarKind(cls: 255, isUnderscore: false), 0) }
        var j = i - 1
        while j > lower && b[j] & 0xC0 == 0x80 { j -= 1 }
        let (v, _) = decodeScalar(b, j)
        return (ScalarKind(cls: CharClass.of(v), isUnderscore: v == 0x5F), i - j)
    }

    /// Character class of the scalar at byte offset `i` (none at or after `upper`) and its byte length.
    private func classAt(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ upper: Int) -> (ScalarKind, Int) {
        guard i < upper else { return (ScalarKind(cls: 255, isUnderscore: false), 0) }
        let (v, len) = decodeScalar(b, i)
        return (ScalarKind(cls: CharClass.of(v), isUnderscore: v == 0x5F), len)
    }
}

/// A scalar's class as far as added-token matching cares.
private struct ScalarKind {
    var cls: UInt8
    var isUnderscore: Bool
    var isSpace: Bool { cls == CharClass.space }
    var isWord: Bool { cls == CharClass.letter || cls == CharClass.number || isUnderscore }
}
