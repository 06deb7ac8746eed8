/// How the next token is chosen and when generation stops.
///
/// ```swift
/// var options = SamplingOptions()          // greedy, 256 tokens
/// options.temperature = 0.8
/// options.topP = 0.95
/// options.seed = 42                        // reproducible draws
/// try options.validate()
/// ```
public struct SamplingOptions: Sendable, Codable, Equatable {
    /// Softmax temperature; `0` means greedy argmax (lowest id on ties).
    public var temperature: Double
    /// Keep only the `topK` most likely tokens; `0` disables the filter.
    public var topK: Int
    /// Nucleus filter: keep the smallest set of most likely tokens whose probability reaches
    /// `topP`; `1` disables it. Must be in (0, 1].
    public var topP: Double
    /// Seed of the sampler's PRNG; `nil` draws one from the system generator.
    public var seed: UInt64?
    /// Largest number of tokens to generate.
    public var maxTokens: Int
    /// Stop when an end-of-sequence token is sampled (it is not emitted).
    public var stopAtEndOfSequence: Bool
    /// HF/CTRL repetition penalty over the tokens in context; `1` disables it.
    public var repetitionPenalty: Double

    /// Creates options; the defaults are greedy decoding of at most 256 tokens.
    public init(
        temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64? = nil,
        maxTokens: Int = 256, stopAtEndOfSequence: Bool = true, repetitionPenalty: Double = 1
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.maxTokens = maxTokens
        self.stopAtEndOfSequence = stopAtEndOfSequence
        self.repetitionPenalty = repetitionPenalty
    }

    /// True when sampling reduces to argmax (temperature 0 or top-k 1).
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Checks every field's range.
    /// - Throws: `GenerationError.invalidOption` naming the field and the bad value.
    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw GenerationError.invalidOption(name: "temperature", value: "\(temperature)", expected: "a finite number >= 0")
        }
        guard topK >= 0 else {
            throw GenerationError.invalidOption(name: "top-k", value: "\(topK)", expected: ">= 0 (0 disables it)")
        }
        guard topP > 0, topP <= 1 else {
            throw GenerationError.invalidOption(name: "top-p", value: "\(topP)", expected: "in (0, 1]")
        }
        guard maxTokens >= 0 else {
            throw GenerationError.invalidOption(name: "max-tokens", value: "\(maxTokens)", expected: ">= 0")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw GenerationError.invalidOption(name: "repetition-penalty", value: "\(repetitionPenalty)", expected: "a finite number > 0")
        }
    }
}
