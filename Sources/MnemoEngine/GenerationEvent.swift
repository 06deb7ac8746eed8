/// One generated token.
public struct GeneratedToken: Sendable, Codable, Equatable {
    /// Token id.
    public var id: Int
    /// The text this token completes (empty while a multi-byte UTF-8 character is still partial).
    public var text: String
    /// `log p(id | context)` under the model's unmodified distribution (log-softmax of the raw logits).
    public var logprob: Double

    public init(id: Int, text: String, logprob: Double) {
        self.id = id
        self.text = text
        self.logprob = logprob
    }
}

/// Why generation ended.
public enum StopReason: String, Sendable, Codable, Equatable, CaseIterable {
    /// An end-of-sequence token was sampled.
    case endOfSequence
    /// `maxTokens` tokens were generated.
    case maxTokens
    /// The model's context is full.
    case contextFull
    /// The consuming task was cancelled or stopped listening.
    case cancelled
}

/// Counters and timings of one generation.
public struct GenerationStats: Sendable, Codable, Equatable {
    /// Tokens in the prompt (including BOS).
    public var promptTokens: Int
    /// Tokens generated (not counting a final EOS).
    public var generatedTokens: Int
    /// Wall time of the prompt's forward pass.
    public var prefillSeconds: Double
    /// Wall time of all `step()` calls (forward passes of generated tokens plus sampling).
    public var decodeSeconds: Double
    /// Why generation ended; nil while it is still running.
    public var stopReason: StopReason?

    public init(promptTokens: Int = 0, generatedTokens: Int = 0, prefillSeconds: Double = 0,
                decodeSeconds: Double = 0, stopReason: StopReason? = nil) {
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
        self.stopReason = stopReason
    }

    /// Prompt tokens per second of prefill (0 when nothing was timed).
    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0
    }

    /// Generated tokens per second of decoding (0 when nothing was timed).
    public var tokensPerSecond: Double {
        decodeSeconds > 0 ? Double(generatedTokens) / decodeSeconds : 0
    }
}

/// What `Generator.stream(prompt:)` yields: tokens as they come, then exactly one `.finished`.
public enum GenerationEvent: Sendable, Equatable {
    /// A new token and the text it completes.
    case token(GeneratedToken)
    /// Text left in the detokenizer when generation ended (only when a UTF-8 sequence was cut).
    case text(String)
    /// The last event: counters, timings and the stop reason.
    case finished(GenerationStats)
}
