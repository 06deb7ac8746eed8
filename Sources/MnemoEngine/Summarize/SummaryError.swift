import Foundation

/// Why a summary cannot be made; `"\(error)"` is one line naming the value.
public enum SummaryError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// An option outside its range, e.g. `--max-tokens 0`.
    case invalidOption(name: String, value: String, expected: String)
    /// The strategy cannot run with this model; `reason` says why.
    case strategyUnavailable(strategy: String, reason: String)
    /// The model's context cannot hold a prompt, some document text and the summary budget.
    case contextTooSmall(contextLength: Int, promptTokens: Int, summaryTokens: Int)
    /// The document has no text to summarize.
    case emptyDocument(file: String)
    /// `--memory DIR` holds something that is not the memory of this document part (another text, or not a snapshot).
    case memoryMismatch(directory: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, expected):
            return "\(name) must be \(expected), got \(value)"
        case let .strategyUnavailable(strategy, reason):
            return "summary strategy '\(strategy)' cannot run here: \(reason)"
        case let .contextTooSmall(contextLength, promptTokens, summaryTokens):
            return "the model's context (\(contextLength) tokens) cannot hold the prompt (\(promptTokens) tokens), "
                + "some text and a \(summaryTokens)-token summary; lower --max-tokens or use a model with a longer context"
        case let .emptyDocument(file):
            return "\(file): no text to summarize"
        case let .memoryMismatch(directory, detail):
            return "\(directory): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
