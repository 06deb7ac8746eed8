// Generator+Continuation: generating after what a state already holds (a document read by
// `SegmentStream`, kept in a `MemoryState`), instead of from an empty context.

extension Generator {
    /// A generator over an existing `state` of `model`, which it continues instead of resetting.
    ///
    /// Use `prefill(continuing:lastLogits:)` to start: it runs the prompt after the tokens the state
    /// already holds. (`prefill(_:)` still starts over: it resets the state, memory included.)
    /// ```swift
    /// let memory = reader.makeMemoryState()
    /// _ = try reader.forward(documentTokens, state: memory, allLogits: false)
    /// let generator = try Generator(model: reader, tokenizer: tokenizer, options: options, continuing: memory)
    /// try generator.prefill(continuing: tokenizer.encode("\nQuestion:", addSpecialTokens: false))
    /// ```
    /// `tokens` and `stats` cover only this generator's prompt and output, not what the state held.
    /// - Parameter state: a state made by `model.makeState()` (or `MemoryModel.makeMemoryState()`).
    /// - Throws: `GenerationError.invalidOption` when `options` is out of range.
    public convenience init(model: any LogitsModel, tokenizer: any TokenCodec, options: SamplingOptions,
                            continuing state: any ModelState) throws {
        try self.init(model: model, tokenizer: tokenizer, options: options, state: state)
    }

    /// Starts generating after the tokens the state already holds, without resetting it.
    ///
    /// - Parameters:
    ///   - promptTokens: ids run after the state's tokens (no BOS is added); may be empty when
    ///     `lastLogits` is given.
    ///   - lastLogits: the logits after the state's last token, sampled from when the prompt is empty.
    /// - Throws: `GenerationError.emptyContinuation` for an empty prompt without logits,
    ///   `.promptTooLong` when state and prompt exceed the model's context, `.tokenOutOfRange`,
    ///   `.logitsSizeMismatch`, or the model's error.
    public func prefill(continuing promptTokens: [Int], lastLogits: [Float]? = nil) throws {
        guard !promptTokens.isEmpty || lastLogits != nil else { throw GenerationError.emptyContinuation }
        try start(promptTokens, continuing: true, lastLogits: lastLogits)
    }
}
