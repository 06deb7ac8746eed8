import Foundation

/// Everything that can go wrong while generating or scoring; `"\(error)"` is one line naming the value.
public enum GenerationError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// A sampling or scoring option outside its range, e.g. `--top-p` = 1.5.
    case invalidOption(name: String, value: String, expected: String)
    /// The prompt has more tokens than the model's context holds.
    case promptTooLong(tokens: Int, contextLength: Int)
    /// There is nothing to start from: the prompt encodes to no tokens and the vocabulary has no BOS.
    case emptyPrompt
    /// Scoring needs at least two tokens (the first one has no prediction).
    case notEnoughTokensToScore(count: Int)
    /// The model's context holds fewer than 2 tokens, so no window can condition a scored token.
    case contextTooShortToScore(contextLength: Int)
    /// A token id outside the model's vocabulary.
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    /// The model returned a logits buffer of the wrong length.
    case logitsSizeMismatch(expected: Int, found: Int)
    /// `step()` was called before `prefill(_:)`.
    case notPrefilled
    /// A state object that the model did not make.
    case foreignState(expected: String, found: String)
    /// A text file that must have content is empty.
    case emptyFile(path: String)
    /// `prefill(continuing:)` with no prompt tokens and no logits to sample the first token from.
    case emptyContinuation

    public var description: String {
        switch self {
        case let .invalidOption(name, value, expected):
            return "\(name) must be \(expected), got \(value)"
        case let .promptTooLong(tokens, contextLength):
            return "prompt has \(tokens) tokens but the model's context holds \(contextLength)"
        case .emptyPrompt:
            return "the prompt encodes to no tokens and the tokenizer has no BOS token to start from"
        case let .notEnoughTokensToScore(count):
            return "scoring needs at least 2 tokens (the first one is not predicted), got \(count)"
        case let .contextTooShortToScore(contextLength):
            return "the model's context length \(contextLength) is too short to score windows: it must be at least 2"
        case let .tokenOutOfRange(id, vocabularySize):
            return "token id \(id) is outside the vocabulary 0..<\(vocabularySize)"
        case let .logitsSizeMismatch(expected, found):
            return "model returned \(found) logits, expected \(expected)"
        case .notPrefilled:
            return "generator: step() called before prefill(_:)"
        case let .foreignState(expected, found):
            return "model state: expected \(expected), found \(found)"
        case let .emptyFile(path):
            return "\(path): file is empty"
        case .emptyContinuation:
            return "generator: prefill(continuing:) needs prompt tokens or the logits after the state's last token"
        }
    }

    public var errorDescription: String? { description }
}
