extension SegmentStream {
    /// Reads text pieces as they arrive, in a task of its own, as an async stream of per-segment events.
    ///
    /// The stream is made inside the producing task from these `Sendable` inputs; the events are
    /// one `.segment` per segment read, then `.finished(summary, stream)`, which hands the stream
    /// (its memory of the document) to the consumer to generate with.
    /// ```swift
    /// for try await event in SegmentStream.events(model: reader, tokenizer: tokenizer, pieces: lines) {
    ///     switch event {
    ///     case .segment(let report): print(report.index, report.nll ?? .nan, report.knnEntries)
    ///     case .finished(let summary, let stream):
    ///         print(summary.perplexity ?? .nan)
    ///         let generator = try stream.makeGenerator(prompt: "\nIn short,", options: options)
    ///     }
    /// }
    /// ```
    /// Cancellation: when the consuming task is cancelled or stops iterating, the producing task is
    /// cancelled and stops before the next segment (a forward pass already running completes); the
    /// stream then ends without `.finished`.
    /// - Parameters: as `init(model:tokenizer:segmentLength:addSpecialTokens:)`; `pieces` is the text, in order.
    /// - Returns: a stream that throws the first error (construction, input, tokenization, model).
    public static func events<Pieces: AsyncSequence & Sendable>(
        model: any LogitsModel, tokenizer: any TokenCodec, segmentLength: Int? = nil, addSpecialTokens: Bool = true,
        pieces: Pieces
    ) -> AsyncThrowingStream<SegmentEvent, any Error> where Pieces.Element == String {
        run(model: model, tokenizer: tokenizer, segmentLength: segmentLength, addSpecialTokens: addSpecialTokens) { stream, emit in
            for try await piece in pieces {
                if Task.isCancelled { return false }
                try stream.append(text: piece)
                guard try emit(stream) else { return false }
            }
            return true
        }
    }

    /// `events(...)` over a whole text, fed in pieces of about `pieceBytes` UTF-8 bytes (so the first
    /// segments come before the whole text is tokenized).
    public static func events(model: any LogitsModel, tokenizer: any TokenCodec, segmentLength: Int? = nil,
                              addSpecialTokens: Bool = true, text: String, pieceBytes: Int = 16_384)
    -> AsyncThrowingStream<SegmentEvent, any Error> {
        let pieces = Self.pieces(of: text, bytes: pieceBytes)
        return run(model: model, tokenizer: tokenizer, segmentLength: segmentLength, addSpecialTokens: addSpecialTokens) { stream, emit in
            for piece in pieces {
                if Task.isCancelled { return false }
                try stream.append(text: piece)
                guard try emit(stream) else { return false }
            }
            return true
        }
    }

    /// `events(...)` over token ids (no tokenization: `tokens` are read as given).
    public static func events(model: any LogitsModel, tokenizer: any TokenCodec, segmentLength: Int? = nil, tokens: [Int])
    -> AsyncThrowingStream<SegmentEvent, any Error> {
        run(model: model, tokenizer: tokenizer, segmentLength: segmentLength, addSpecialTokens: false) { stream, emit in
            try stream.append(tokens: tokens)
            return try emit(stream)
        }
    }

    /// Splits `text` into pieces of about `bytes` UTF-8 bytes (a little more to finish a scalar), at
    /// Unicode scalar boundaries: a whole text fed to `feed(text:)` piece by piece.
    public static func pieces(of text: String, bytes: Int) -> [String] {
        let utf8 = Array(text.utf8)
        let size = max(bytes, 4)
        var out: [String] = []
        var start = 0
        while start < utf8.count {
            var end = min(start + size, utf8.count)
            while end < utf8.count, utf8[end] & 0xC0 == 0x80 { end += 1 }  // never split a scalar
            out.append(String(decoding: utf8[start ..< end], as: UTF8.self))
            start = end
        }
        return out
    }

    /// The producing task: builds the stream, lets `feed` buffer input (calling `emit` to read and
    /// yield the full segments; `emit` returns false once cancelled), then finishes the document.
    private static func run(
        model: any LogitsModel, tokenizer: any TokenCodec, segmentLength: Int?, addSpecialTokens: Bool,
        feed: @escaping @Sendable (SegmentStream, (SegmentStream) throws -> Bool) async throws -> Bool
    ) -> AsyncThrowingStream<SegmentEvent, any Error> {
        let (events, continuation) = AsyncThrowingStream<SegmentEvent, any Error>.makeStream()
        let task = Task {
            do {
                let stream = try SegmentStream(model: model, tokenizer: tokenizer, segmentLength: segmentLength,
                                               addSpecialTokens: addSpecialTokens)
                let emit: (SegmentStream) throws -> Bool = { stream in
                    while !Task.isCancelled, let report = try stream.readSegment() { continuation.yield(.segment(report)) }
                    return !Task.isCancelled
                }
                guard try await feed(stream, emit) else { continuation.finish(); return }
                try stream.endInput()
                guard try emit(stream) else { continuation.finish(); return }
                continuation.yield(.finished(stream.summary, stream))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return events
    }
}
