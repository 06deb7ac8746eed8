import Foundation

/// Text ↔ token ids for Hugging Face `tokenizer.json` (BPE), GGUF-embedded vocabularies and
/// llama2.c `tokenizer.bin` files.
///
/// ```swift
/// let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: "models/llama2/tokenizer.json"))
/// let ids = tokenizer.encode("Hello world")          // [1, 15043, 3186]
/// let text = tokenizer.decode(ids)                    // "Hello world"
/// ```
/// Immutable after loading, so one instance can be shared across threads.
public final class Tokenizer: Sendable {
    enum Model: Sendable {
        case bpe(BPEModel)
        case scoreSPM(ScoreSPMModel)
        case llama2c(Llama2cModel)
    }

    let model: Model
    /// Added tokens matched on the raw text (HF `normalized: false`; GGUF control/user-defined tokens).
    let rawMatcher: AddedTokenMatcher
    /// Added tokens matched on normalized text (HF `normalized: true`), with normalized contents.
    let normalizedMatcher: AddedTokenMatcher
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let decoder: TokenDecoder?
    let postProcessor: PostProcessor
    /// UTF-8 bytes of each id's token string (the decoder's input).
    let pieces: [[UInt8]]
    /// Ids skipped by `decode(_:skipSpecialTokens: true)`.
    let special: [Bool]

    /// The beginning-of-sequence token, if the tokenizer has one.
    public let bosTokenID: Int?
    /// Tokens that end generation.
    public let eosTokenIDs: [Int]
    /// Number of ids (largest id + 1).
    public let vocabularySize: Int
    /// The Jinja chat template from `tokenizer_config.json` or GGUF `tokenizer.chat_template`, unparsed.
    public let chatTemplate: String?
    /// Where `chatTemplate` came from (`…/tokenizer_config.json: chat_template`), for messages.
    public let chatTemplateOrigin: String?
    /// Special token strings by their transformers names (`bos_token`, `eos_token`, `unk_token`,
    /// `pad_token`), as chat templates receive them: from `tokenizer_config.json`, or for GGUF the
    /// tokens at `tokenizer.ggml.*_token_id`.
    public let specialTokens: [String: String]
    /// `chatTemplate` parsed once at load time (nil without a template).
    let parsedChatTemplate: Result<ChatTemplate, ChatTemplateError>?

    init(model: Model, rawMatcher: AddedTokenMatcher, normalizedMatcher: AddedTokenMatcher, normalizer: Normalizer?,
         preTokenizer: PreTokenizer?, decoder: TokenDecoder?, postProcessor: PostProcessor, pieces: [[UInt8]],
         special: [Bool], bosTokenID: Int?, eosTokenIDs: [Int], chatTemplate: String?,
         chatTemplateOrigin: String? = nil, specialTokens: [String: String] = [:]) {
        self.model = model
        self.rawMatcher = rawMatcher
        self.normalizedMatcher = normalizedMatcher
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.decoder = decoder
        self.postProcessor = postProcessor
        self.pieces = pieces
        self.special = special
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.vocabularySize = pieces.count
        self.chatTemplate = chatTemplate
        self.chatTemplateOrigin = chatTemplate == nil ? nil : (chatTemplateOrigin ?? "chat template")
        self.specialTokens = specialTokens
        self.parsedChatTemplate = chatTemplate.map { Tokenizer.parseChatTemplate($0, origin: chatTemplateOrigin ?? "chat template") }
    }

    private static func parseChatTemplate(_ source: String, origin: String) -> Result<ChatTemplate, ChatTemplateError> {
        do {
            return .success(try ChatTemplate(source, origin: origin))
        } catch let error as ChatTemplateError {
            return .failure(error)
        } catch {
            return .failure(.syntax(origin: origin, line: 1, message: "\(error)"))
        }
    }

    /// The token string of `id` (byte-level or `▁`-escaped as stored in the vocabulary), or nil.
    public func tokenString(_ id: Int) -> String? {
        guard id >= 0, id < pieces.count else { return nil }
        return String(decoding: pieces[id], as: UTF8.self)
    }

    /// Encodes `text` to token ids.
    ///
    /// Added/special tokens written in the text are recognised (HF added tokens; GGUF control,
    /// user-defined and unknown tokens, as llama.cpp with `parse_special`; not for llama2.c, like run.c).
    /// `addSpecialTokens` adds the post-processor's BOS/EOS (or those `tokenizer_config.json` / GGUF
    /// metadata ask for; llama2.c: BOS only, as run.c).
    /// - Complexity: O(n) in the text length for cached words; see `BPEModel` for uncached words.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var out: [Int32] = []
        let bytes = Array(text.utf8)
        out.reserveCapacity(bytes.count / 3 + 4)
        if addSpecialTokens { out.append(contentsOf: postProcessor.prefix.map { Int32($0) }) }
        if case .llama2c(let m) = model {
            m.encode(bytes, into: &out)
        } else {
            var state = EncodeState()
            for segment in rawMatcher.split(bytes, 0..<bytes.count) {
                switch segment {
                case .token(let id):
                    out.append(Int32(id))
                case .text(let r):
                    var buffer = Array(bytes[r])
                    if let normalizer { buffer = normalizer.apply(buffer) }
                    for inner in normalizedMatcher.split(buffer, 0..<buffer.count) {
                        switch inner {
                        case .token(let id): out.append(Int32(id))
                        case .text(let r2):
                            encodeText(buffer, r2, isFirstSegment: r.lowerBound == 0 && r2.lowerBound == 0, state: &state, into: &out)
                        }
                    }
                }
            }
        }
        if addSpecialTokens { out.append(contentsOf: postProcessor.suffix.map { Int32($0) }) }
        return out.map { Int($0) }
    }

    /// Per-call buffers and word cache.
    struct EncodeState {
        var cache = WordCache()
        var bpe = BPEScratch()
        var split = SplitScratch()
    }

    private func encodeText(_ normalized: [UInt8], _ range: Range<Int>, isFirstSegment: Bool, state: inout EncodeState, into out: inout [Int32]) {
        var buffer: [UInt8]
        var pieces: [Range<Int>]
        if let preTokenizer {
            buffer = Array(normalized[range])
            pieces = [0..<buffer.count]
            preTokenizer.apply(&buffer, &pieces, isFirstSegment: isFirstSegment, scratch: &state.split)
        } else {
            buffer = normalized
            pieces = [range]
        }
        buffer.withUnsafeBufferPointer { b in
            switch model {
            case .bpe(let m):
                for p in pieces where !p.isEmpty { m.encode(b, p, cache: &state.cache, scratch: &state.bpe, into: &out) }
            case .scoreSPM(let m):
                for p in pieces where !p.isEmpty { m.encode(b, p, cache: &state.cache, into: &out) }
            case .llama2c:
                break
            }
        }
    }

    /// Decodes ids to text; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    /// Ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    /// Decodes ids to raw bytes (before UTF-8 validation); `streaming` as in `TokenDecoder.apply`.
    func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool, streaming: Bool = false) -> [UInt8] {
        if case .llama2c(let m) = model { return m.decode(ids, skipSpecialTokens: skipSpecialTokens) }
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(ids.count)
        for id in ids where id >= 0 && id < pieces.count {
            if skipSpecialTokens && special[id] { continue }
            tokens.append(pieces[id])
        }
        if let decoder { tokens = decoder.apply(tokens, streaming: streaming) }
        var out: [UInt8] = []
        for t in tokens { out.append(contentsOf: t) }
        return out
    }

    /// A decoder for generated tokens that only ever returns whole UTF-8 characters.
    public func makeStreamingDecoder() -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: true)
    }

    /// A decoder for generated tokens that only ever returns whole UTF-8 characters.
    public func makeStreamingDecoder(skipSpecialTokens: Bool) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }
}
