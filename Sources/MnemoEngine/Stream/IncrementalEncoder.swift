/// Text that arrives in pieces, turned into the token ids the whole text encodes to.
///
/// **The problem.** `encode(a) + encode(b)` is not `encode(a + b)`: a word cut in two encodes to other
/// tokens, SentencePiece-style tokenizers put a dummy `▁` before the text's first word, and BOS comes
/// once. So pieces are buffered and only text before a *safe cut* is encoded.
///
/// **Cuts.** A candidate cut is the start of a line whose first character is not whitespace, not a
/// combining mark and not a control or format character (`"…dark.\n|The…"`). Byte-level BPE
/// tokenizers (GPT-2, Llama 3, Qwen2 pre-tokenizer regexes) always split there, so no token crosses
/// it; SentencePiece-style BPE merges over the whole text, so a token could cross it only if the
/// vocabulary had a token holding a newline followed by more text. Rather than trust a vocabulary,
/// every cut is **checked with the real text**: text is committed up to the second-to-last cut `k1`
/// of the buffer, and only when (a) the line before `k1` encodes to a prefix of itself followed by
/// the lines after `k1` (up to the last cut), and (b) the committed context before the chunk encodes
/// to a prefix of the context followed by the chunk. A cut that fails is not used (the text stays
/// buffered and is encoded with a later cut), so a tokenizer that merges across every line start
/// degrades to encoding the whole text at `finish()`.
///
/// **Continuation encoding.** The ids of a chunk that does not start the document are those of
/// `encode(context + chunk)` after the ids of `encode(context)`, where `context` is the committed line
/// just before it: the dummy prefix and every other start-of-text effect land on the context, whose
/// ids are dropped. Special tokens (`addSpecialTokens`) are found once by comparing
/// `encode("a", true)` with `encode("a", false)`, then emitted at the start and at `finish()`.
///
/// Cost: each byte is encoded about twice (once in its chunk, once as context or in a check), plus
/// a retry when a check fails; a text without cuts (one giant line) is encoded once, at `finish()`.
/// ```swift
/// var encoder = IncrementalEncoder(tokenizer: tokenizer, addSpecialTokens: true)
/// var ids = try encoder.append("Once upon a ti")
/// ids += try encoder.append("me.\nThe end.")
/// ids += try encoder.finish()          // == tokenizer.encode("Once upon a time.\nThe end.", addSpecialTokens: true)
/// ```
public struct IncrementalEncoder: Sendable {
    /// The tokenizer.
    public let tokenizer: any TokenCodec
    /// Whether the special tokens of `encode(_:addSpecialTokens: true)` (e.g. BOS) are emitted.
    public let addSpecialTokens: Bool
    /// UTF-8 bytes of text turned into ids so far (committed; excludes buffered text).
    public private(set) var committedBytes = 0
    /// UTF-8 bytes received and not yet committed.
    public var bufferedBytes: Int { pending.count }

    /// Special ids before and after the text; nil when they could not be located (then the whole
    /// text is encoded at `finish()`).
    private let specialPrefix: [Int]?
    private let specialSuffix: [Int]
    /// Text after the last commit.
    private var pending: [UInt8] = []
    /// Candidate cuts in `pending` (offsets > 0), ascending.
    private var cuts: [Int] = []
    /// `pending` offset from which new cuts are searched.
    private var scanned = 0
    /// The committed text just before `pending` (starting at a cut or at the document start) and its ids.
    private var context: [UInt8] = []
    private var contextIDs: [Int] = []
    private var atStart = true
    private var isFinished = false
    /// After a failed check, the next attempt waits until `pending` reaches this size (amortised O(n)).
    private var retrySize = 0

    /// - Parameters:
    ///   - tokenizer: any codec; `encode` must be deterministic.
    ///   - addSpecialTokens: emit the tokenizer's special tokens (BOS...) as `encode(text, addSpecialTokens: true)` does.
    public init(tokenizer: any TokenCodec, addSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.addSpecialTokens = addSpecialTokens
        guard addSpecialTokens else {
            specialPrefix = []
            specialSuffix = []
            return
        }
        let plain = tokenizer.encode("a", addSpecialTokens: false)
        let full = tokenizer.encode("a", addSpecialTokens: true)
        if !plain.isEmpty, let at = Self.find(plain, in: full) {
            specialPrefix = Array(full[..<at])
            specialSuffix = Array(full[(at + plain.count)...])
        } else {
            specialPrefix = nil
            specialSuffix = []
        }
    }

    /// Adds a piece of text; returns the ids it completes (possibly none).
    /// - Throws: `SegmentStreamError.finished` after `finish()`; `.tokenizationDiverged` if a committed
    ///   cut turns out unsafe (a tokenizer merging across a line start seen only with more text).
    /// - Complexity: amortised O(piece length + length of the lines around the cut).
    public mutating func append(_ text: String) throws -> [Int] {
        guard !isFinished else { throw SegmentStreamError.finished }
        guard !text.isEmpty else { return [] }
        pending.append(contentsOf: text.utf8)
        findCuts()
        guard specialPrefix != nil, cuts.count >= 2, pending.count >= retrySize else { return [] }
        return try commit()
    }

    /// Encodes the buffered rest; returns its ids (and the special suffix, e.g. EOS, if any).
    /// - Throws: `SegmentStreamError.finished` when called twice, `.tokenizationDiverged` as `append`.
    public mutating func finish() throws -> [Int] {
        guard !isFinished else { throw SegmentStreamError.finished }
        isFinished = true
        guard let prefix = specialPrefix else {
            let text = String(decoding: pending, as: UTF8.self)
            committedBytes += pending.count
            pending = []
            return tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
        }
        var out = atStart ? prefix : []
        if !pending.isEmpty {
            out += try continuation(of: pending[...])
            committedBytes += pending.count
            pending = []
        }
        return out + specialSuffix
    }

    // MARK: - Cuts

    /// Records the candidate cuts in the newly appended bytes.
    private mutating func findCuts() {
        var p = max(scanned, 1)
        let n = pending.count
        pending.withUnsafeBufferPointer { b in
            while p < n {
                if b[p - 1] == 0x0A, Self.startsLine(b, at: p) { cuts.append(p) }
                p += 1
            }
        }
        scanned = n
    }

    /// True when the character at `p` may start a chunk: not whitespace, not a mark that would
    /// combine with what precedes it, not a control or format character.
    static func startsLine(_ b: UnsafeBufferPointer<UInt8>, at p: Int) -> Bool {
        let lead = b[p]
        if lead < 0x80 { return lead > 0x20 && lead != 0x7F }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, p + length <= b.count else { return false }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for i in 1..<length { value = value << 6 | (UInt32(b[p + i]) & 0x3F) }
        guard let scalar = Unicode.Scalar(value) else { return false }
        if scalar.properties.isWhitespace { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .control, .format, .lineSeparator,
             .paragraphSeparator, .spaceSeparator, .surrogate, .unassigned, .privateUse:
            return false
        default:
            return true
        }
    }

    // MARK: - Commit

    /// Commits `pending` up to its second-to-last cut when both checks pass.
    private mutating func commit() throws -> [Int] {
        let k1 = cuts[cuts.count - 2], k2 = cuts[cuts.count - 1]
        let lineStart = cuts.count >= 3 ? cuts[cuts.count - 3] : 0
        // (a) The cut at k1 holds with the lines after it.
        let line = tokenizer.encode(String(decoding: pending[lineStart ..< k1], as: UTF8.self), addSpecialTokens: false)
        let lineAndNext = tokenizer.encode(String(decoding: pending[lineStart ..< k2], as: UTF8.self), addSpecialTokens: false)
        guard lineAndNext.count > line.count, lineAndNext.starts(with: line) else {
            retrySize = pending.count * 2
            return []
        }
        // (b) The chunk continues the context without changing it.
        let combined = tokenizer.encode(String(decoding: context + pending[..<k1], as: UTF8.self), addSpecialTokens: false)
        guard combined.starts(with: contextIDs) else {
            if atStart || context.isEmpty { retrySize = pending.count * 2; return [] }
            throw SegmentStreamError.tokenizationDiverged(byteOffset: committedBytes)
        }
        var out = atStart ? (specialPrefix ?? []) : []
        out += combined[contextIDs.count...]
        context = Array(pending[lineStart ..< k1])
        contextIDs = line
        committedBytes += k1
        pending.removeFirst(k1)
        cuts = [k2 - k1]
        scanned = pending.count
        atStart = false
        retrySize = 0
        return out
    }

    /// Ids of `chunk` following the committed context.
    private func continuation(of chunk: ArraySlice<UInt8>) throws -> [Int] {
        let combined = tokenizer.encode(String(decoding: context + chunk, as: UTF8.self), addSpecialTokens: false)
        guard combined.starts(with: contextIDs) else {
            throw SegmentStreamError.tokenizationDiverged(byteOffset: committedBytes)
        }
        return Array(combined[contextIDs.count...])
    }

    /// Offset of the first occurrence of `needle` in `haystack`.
    private static func find(_ needle: [Int], in haystack: [Int]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0 ... haystack.count - needle.count where haystack[i ..< i + needle.count].elementsEqual(needle) { return i }
        return nil
    }
}
