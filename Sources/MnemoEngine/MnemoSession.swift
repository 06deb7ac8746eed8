import Foundation
import MnemoModels
import MnemoTokenizers

/// A loaded model with its tokenizer: the convenient entry point for generating and scoring text.
///
/// ```swift
/// let session = try MnemoSession.load(model: URL(fileURLWithPath: "stories260K.bin"))
/// for try await event in session.stream(prompt: "Once upon a time", options: SamplingOptions(maxTokens: 32)) {
///     if case .token(let token) = event { print(token.text, terminator: "") }
/// }
/// let score = try session.score(text: "Once upon a time")
/// ```
/// A session is immutable and `Sendable`; each generation gets its own `Generator` and cache.
public final class MnemoSession: Sendable {
    /// The model.
    public let model: LanguageModel
    /// The tokenizer.
    public let tokenizer: Tokenizer

    /// Wraps an already loaded model and tokenizer.
    public init(model: LanguageModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Loads a model and its tokenizer.
    ///
    /// - Parameters:
    ///   - model: a Hugging Face folder, a `.gguf` file or a llama2.c `.bin` checkpoint.
    ///   - tokenizer: the tokenizer's file or folder; nil finds it for the model
    ///     (`Tokenizer.load(forModelAt:)`: the folder's `tokenizer.json`, the GGUF's vocabulary,
    ///     or a llama2.c `tokenizer.bin`/`tok*.bin` next to the checkpoint).
    /// - Throws: `ModelError`, `TokenizerError` or the format readers' errors, naming the file.
    public static func load(model: URL, tokenizer: URL? = nil) throws -> MnemoSession {
        let languageModel = try LanguageModel.load(from: model)
        let codec = try tokenizer.map { try Tokenizer.load(from: $0) } ?? Tokenizer.load(forModelAt: model)
        return MnemoSession(model: languageModel, tokenizer: codec)
    }

    /// A generator over this session's model and tokenizer.
    /// - Throws: `GenerationError.invalidOption` for out-of-range options.
    public func makeGenerator(options: SamplingOptions) throws -> Generator {
        try Generator(model: model, tokenizer: tokenizer, options: options)
    }

    /// Streams a continuation of `prompt` (empty: start from BOS); see `Generator.stream(prompt:)`.
    /// Invalid options surface as the stream's error.
    public func stream(prompt: String, options: SamplingOptions) -> AsyncThrowingStream<GenerationEvent, Error> {
        do {
            return try makeGenerator(options: options).stream(prompt: prompt)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
    }

    /// Token ids of `text` with the tokenizer's special tokens (usually BOS first).
    public func encode(_ text: String) -> [Int] {
        tokenizer.encode(text, addSpecialTokens: true)
    }

    /// Scores `text` (encoded with special tokens); see `Scorer` for texts longer than the context.
    /// - Throws: `GenerationError.notEnoughTokensToScore` when `text` gives fewer than 2 tokens,
    ///   or the model's error.
    public func score(text: String, stride: Int? = nil) throws -> ScoreResult {
        try score(tokens: encode(text), stride: stride)
    }

    /// Scores token ids; see `Scorer`.
    public func score(tokens: [Int], stride: Int? = nil) throws -> ScoreResult {
        try Scorer(model: model, stride: stride).score(tokens: tokens)
    }
}
