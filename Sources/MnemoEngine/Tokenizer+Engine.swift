import MnemoTokenizers

extension StreamingDecoder: TokenTextStream {}

extension Tokenizer: TokenCodec {
    /// `makeStreamingDecoder()` (special tokens skipped).
    public func makeTextStream() -> any TokenTextStream { makeStreamingDecoder() }
}
