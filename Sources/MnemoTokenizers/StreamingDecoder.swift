/// Incremental detokenizer: feed generated ids one by one, get text that never ends inside a UTF-8
/// character (works for `<0xXX>` byte-fallback and byte-level tokens alike).
///
/// Port of Hugging Face `tokenizers` `DecodeStream` (`tokenizer/mod.rs`, `step_decode_stream`),
/// on bytes: the ids since the last emitted boundary are re-decoded together with the previous
/// token as context, so decoders that depend on position (leading-space `Strip`, `Metaspace`) see
/// the same context as a full decode. Invalid byte sequences become U+FFFD here as Swift decodes them
/// (one per maximal invalid subsequence), which can differ from `decode`'s HF rule of one per byte token.
/// ```swift
/// var stream = tokenizer.makeStreamingDecoder()
/// for id in generated { print(stream.append(id), terminator: "") }
/// print(stream.flush())
/// ```
public struct StreamingDecoder: Sendable {
    let tokenizer: Tokenizer
    let skipSpecialTokens: Bool
    private var ids: [Int] = []
    private var prefix: [UInt8] = []
    private var prefixIndex = 0

    init(tokenizer: Tokenizer, skipSpecialTokens: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text that became complete (possibly empty).
    /// - Complexity: O(k) where k is the number of ids since the last complete character.
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        let full = tokenizer.decodeBytes(ids, skipSpecialTokens: skipSpecialTokens, streaming: true)
        guard full.count > prefix.count, full.starts(with: prefix) else { return "" }
        let fresh = full[prefix.count...]
        guard completeUTF8Prefix(fresh) == fresh.count else { return "" }
        let text = String(decoding: fresh, as: UTF8.self)
        let newPrefixIndex = ids.count - prefixIndex
        ids.removeFirst(prefixIndex)
        prefix = tokenizer.decodeBytes(ids, skipSpecialTokens: skipSpecialTokens, streaming: true)
        prefixIndex = newPrefixIndex
        return text
    }

    /// Returns whatever is still held back (an incomplete character becomes U+FFFD) and resets.
    public mutating func flush() -> String {
        let full = tokenizer.decodeBytes(ids, skipSpecialTokens: skipSpecialTokens, streaming: true)
        var text = ""
        if full.count > prefix.count, full.starts(with: prefix) {
            text = String(decoding: full[prefix.count...], as: UTF8.self)
        }
        ids.removeAll()
        prefix.removeAll()
        prefixIndex = 0
        return text
    }
}
