import Foundation

/// Per-token log-probabilities of a token sequence under a model.
public struct ScoreResult: Sendable, Codable, Equatable {
    /// The scored token ids (usually BOS first).
    public var tokens: [Int]
    /// `logprobs[0]` is nil (nothing predicts the first token); `logprobs[i]` is
    /// `log p(tokens[i] | tokens[..<i])` (see `Scorer` for texts longer than the context).
    public var logprobs: [Double?]
    /// Mean negative log-likelihood over the scored tokens (`tokens.count - 1` of them), in nats.
    public var nll: Double
    /// `exp(nll)`.
    public var perplexity: Double

    public init(tokens: [Int], logprobs: [Double?], nll: Double, perplexity: Double) {
        self.tokens = tokens
        self.logprobs = logprobs
        self.nll = nll
        self.perplexity = perplexity
    }
}

/// Scores token sequences: teacher-forced log-probabilities, NLL and perplexity.
///
/// A sequence that fits the model's context (`tokens.count <= contextLength`) is scored with ONE
/// batched forward pass returning all logits; `logprobs[i]` is the log-softmax (in `Double`) of
/// logits row `i - 1`, at index `tokens[i]`.
///
/// Longer sequences are scored with the strided sliding window of Hugging Face's perplexity
/// guide ("Perplexity of fixed-length models"): the first window covers
/// `tokens[0 ..< contextLength]`; each next window ends `stride` tokens further on, starts
/// `contextLength` tokens before its end, runs on a fresh cache (positions restart at 0) and
/// scores only its last `stride` tokens, which therefore see at least `contextLength - stride`
/// tokens of context. Every token but the first is scored exactly once; the cost is about
/// `contextLength / stride` times one pass. The default stride is half the context.
public struct Scorer {
    /// The model scoring.
    public let model: any LogitsModel
    /// How far each window advances past the previous one when a sequence exceeds the context.
    public let stride: Int

    /// Creates a scorer.
    /// - Parameters:
    ///   - model: the model.
    ///   - stride: window advance for long sequences, in `1 ..< contextLength` (a stride of the whole
    ///     context would leave the next window nothing to condition its first scored token on);
    ///     nil = half the context.
    /// - Throws: `GenerationError.contextTooShortToScore` when the context holds fewer than 2 tokens;
    ///   `GenerationError.invalidOption` for a stride outside that range.
    public init(model: any LogitsModel, stride: Int? = nil) throws {
        let context = model.contextLength
        guard context >= 2 else { throw GenerationError.contextTooShortToScore(contextLength: context) }
        let value = stride ?? context / 2
        guard value >= 1, value < context else {
            throw GenerationError.invalidOption(name: "stride", value: "\(value)",
                                                expected: "in 1..<\(context) (less than the context length \(context))")
        }
        self.model = model
        self.stride = value
    }

    /// Scores `tokens`.
    ///
    /// - Parameter tokens: at least two token ids in the model's vocabulary.
    /// - Returns: per-token log-probabilities, mean NLL and perplexity.
    /// - Throws: `GenerationError.notEnoughTokensToScore`, `.tokenOutOfRange`,
    ///   `.logitsSizeMismatch`, or the model's error.
    /// - Complexity: one forward pass over `tokens` when they fit the context, else
    ///   about `tokens.count / stride` passes of `contextLength` tokens.
    public func score(tokens: [Int]) throws -> ScoreResult {
        guard tokens.count >= 2 else { throw GenerationError.notEnoughTokensToScore(count: tokens.count) }
        let vocabularySize = model.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw GenerationError.tokenOutOfRange(id: bad, vocabularySize: vocabularySize)
        }
        let context = model.contextLength
        var logprobs = [Double?](repeating: nil, count: tokens.count)
        var end = min(context, tokens.count)
        try scoreWindow(tokens, begin: 0, end: end, firstScored: 1, into: &logprobs)
        while end < tokens.count {
            let nextEnd = min(end + stride, tokens.count)
            try scoreWindow(tokens, begin: nextEnd - context, end: nextEnd, firstScored: end, into: &logprobs)
            end = nextEnd
        }
        let scored = logprobs.compactMap { $0 }
        let nll = -scored.reduce(0, +) / Double(scored.count)
        return ScoreResult(tokens: tokens, logprobs: logprobs, nll: nll, perplexity: Foundation.exp(nll))
    }

    /// Runs `tokens[begin ..< end]` on a fresh state and fills `logprobs[firstScored ..< end]`.
    private func scoreWindow(_ tokens: [Int], begin: Int, end: Int, firstScored: Int,
                             into logprobs: inout [Double?]) throws {
        let vocabularySize = model.vocabularySize
        let window = Array(tokens[begin ..< end])
        let logits = try model.forward(window, state: model.makeState(), allLogits: true)
        guard logits.count == window.count * vocabularySize else {
            throw GenerationError.logitsSizeMismatch(expected: window.count * vocabularySize, found: logits.count)
        }
        for i in firstScored ..< end {
            let row = i - 1 - begin
            logprobs[i] = LogSoftmax.logProbability(of: tokens[i], logits: logits,
                                                    offset: row * vocabularySize, count: vocabularySize)
        }
    }
}
