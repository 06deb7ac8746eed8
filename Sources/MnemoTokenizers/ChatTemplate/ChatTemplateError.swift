import Foundation

/// Why a chat template could not be parsed or rendered.
///
/// `origin` names where the template came from (e.g. `models/qwen/tokenizer_config.json: chat_template`),
/// so `"\(error)"` is one line a user can act on.
public enum ChatTemplateError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The text is not valid Jinja.
    case syntax(origin: String, line: Int, message: String)
    /// Valid Jinja that this renderer does not implement (a statement, filter, test or method).
    case unsupported(origin: String, line: Int, feature: String)
    /// The template itself rejected the conversation with `raise_exception(message)`, as
    /// `transformers` would (e.g. Gemma's "System role not supported").
    case raised(origin: String, message: String)
    /// Evaluation failed: a type error, an undefined value used, or a resource limit reached.
    case evaluation(origin: String, line: Int, message: String)

    public var description: String {
        switch self {
        case let .syntax(origin, line, message):
            return "\(origin): line \(line): template syntax error: \(message)"
        case let .unsupported(origin, line, feature):
            return "\(origin): line \(line): unsupported in chat templates here: \(feature)"
        case let .raised(origin, message):
            return "\(origin): the template rejected the conversation: \(message)"
        case let .evaluation(origin, line, message):
            return "\(origin): line \(line): \(message)"
        }
    }

    public var errorDescription: String? { description }
}
