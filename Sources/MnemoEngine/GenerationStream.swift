extension Generator {
    /// Generates from `prompt` as an async stream of `.token` events ending with one `.finished`.
    ///
    /// The work runs in a new task on a fresh `Generator` that shares this generator's model,
    /// tokenizer and options (this generator's own context is left untouched, so no
    /// non-`Sendable` state crosses tasks). An empty prompt starts from BOS. Cancelling the
    /// consuming task, or dropping the stream, cancels the producing task: it stops before the
    /// next forward pass.
    ///
    /// ```swift
    /// for try await event in generator.stream(prompt: "Once upon a time") {
    ///     switch event {
    ///     case .token(let token): print(token.text, terminator: "")
    ///     case .text(let tail): print(tail, terminator: "")
    ///     case .finished(let stats): print("\n\(stats.tokensPerSecond) tok/s")
    ///     }
    /// }
    /// ```
    /// - Returns: a stream that throws the first error (encoding, prompt too long, model).
    public func stream(prompt: String) -> AsyncThrowingStream<GenerationEvent, Error> {
        Self.stream(model: model, tokenizer: tokenizer, options: options, prompt: .text(prompt))
    }

    /// Like `stream(prompt:)` but from token ids (e.g. `[bos]`).
    public func stream(promptTokens: [Int]) -> AsyncThrowingStream<GenerationEvent, Error> {
        Self.stream(model: model, tokenizer: tokenizer, options: options, prompt: .tokens(promptTokens))
    }

    private enum Prompt: Sendable {
        case text(String)
        case tokens([Int])
    }

    private static func stream(
        model: any LogitsModel, tokenizer: any TokenCodec, options: SamplingOptions, prompt: Prompt
    ) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let generator = try Generator(model: model, tokenizer: tokenizer, options: options)
                    switch prompt {
                    case .text(let text): try generator.prefill(generator.promptTokens(for: text))
                    case .tokens(let ids): try generator.prefill(ids)
                    }
                    while !Task.isCancelled, let token = try generator.step() {
                        continuation.yield(.token(token))
                    }
                    let tail = generator.finish(reason: .cancelled)
                    if !tail.isEmpty { continuation.yield(.text(tail)) }
                    continuation.yield(.finished(generator.stats))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
