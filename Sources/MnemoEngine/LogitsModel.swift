// The two small seams the engine is written against: a model that turns token ids into
// next-token logits, and a tokenizer that turns ids into text. `LanguageModel` and `Tokenizer`
// conform in `LanguageModel+Engine.swift`; tests use fake models without weights.

/// Mutable per-sequence state of a `LogitsModel` (for a transformer: its KV cache).
///
/// Owned by one `Generator`/`Scorer` call at a time; not `Sendable`.
public protocol ModelState: AnyObject {
    /// Number of positions already stored (the position the next token will take).
    var count: Int { get }
    /// Forgets every stored position.
    func reset()
}

/// A causal language model seen from the engine: token ids in, next-token logits out.
///
/// Implementations keep their weights immutable so one model can be shared by many
/// generators (hence `Sendable`); all per-sequence state lives in a `ModelState`.
public protocol LogitsModel: AnyObject, Sendable {
    /// Number of logits per position.
    var vocabularySize: Int { get }
    /// Largest number of positions a state can hold.
    var contextLength: Int { get }
    /// End-of-sequence ids declared by the model's own configuration (may be empty).
    var endOfSequenceTokenIDs: [Int] { get }
    /// A fresh, empty state.
    func makeState() -> any ModelState
    /// Runs `tokens` at positions `state.count ..< state.count + tokens.count` and appends them to `state`.
    ///
    /// - Parameters:
    ///   - tokens: token ids, each in `0 ..< vocabularySize`.
    ///   - state: a state made by this model's `makeState()`.
    ///   - allLogits: when true returns `tokens.count * vocabularySize` floats (row `t` = logits
    ///     after token `t`), else only the `vocabularySize` logits after the last token.
    /// - Throws: when a token id is out of range, the context is full or `state` is foreign.
    func forward(_ tokens: [Int], state: any ModelState, allLogits: Bool) throws -> [Float]
}

/// Incremental detokenizer: returns only text that is complete UTF-8.
public protocol TokenTextStream {
    /// Adds one token and returns the text it completes (possibly empty).
    mutating func append(_ id: Int) -> String
    /// Returns whatever is still buffered (an incomplete UTF-8 tail is replaced by U+FFFD).
    mutating func flush() -> String
}

/// A tokenizer seen from the engine.
public protocol TokenCodec: Sendable {
    /// Token ids of `text`, with BOS and friends when `addSpecialTokens`.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// Text of `ids`.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// Beginning-of-sequence id, if the vocabulary has one.
    var bosTokenID: Int? { get }
    /// End-of-sequence ids (generation stops on any of them).
    var eosTokenIDs: [Int] { get }
    /// A fresh incremental detokenizer.
    func makeTextStream() -> any TokenTextStream
}
