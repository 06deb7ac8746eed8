// MemoryPlanError: everything wrong with a memory plan, its file, or its flags.

import Foundation

/// One invalid field of a plan: its dotted name, the value found, and what is allowed.
public struct MemoryPlanProblem: Sendable, Equatable, CustomStringConvertible {
    /// Dotted field name, e.g. `knn.layers[1]` or `xl.memoryLength`.
    public var field: String
    /// The value found, as written in JSON.
    public var value: String
    /// What is allowed, e.g. `must be in 0..<32 (the model has 32 layers)`.
    public var expected: String

    public init(field: String, value: String, expected: String) {
        self.field = field
        self.value = value
        self.expected = expected
    }

    public var description: String { "\(field) = \(value): \(expected)" }
}

/// Errors from loading, decoding, merging or validating a `MemoryPlan`.
public indirect enum MemoryPlanError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// `validate(for:)` found one or more invalid fields (all of them, in field order).
    case invalidPlan([MemoryPlanProblem])
    /// A JSON key the plan does not have; `path` ends with the key.
    case unknownKey(path: String, suggestion: String?)
    /// A required JSON key is absent.
    case missingKey(path: String)
    /// A JSON value of the wrong type.
    case typeMismatch(path: String, expected: String, found: String)
    /// The bytes are not JSON.
    case invalidJSON(detail: String)
    /// The plan file could not be read.
    case unreadableFile(file: String, detail: String)
    /// An error inside a plan file, with the file's path.
    case inFile(file: String, error: MemoryPlanError)
    /// A CLI flag value that cannot be used.
    case invalidFlag(flag: String, value: String, expected: String)
    /// A CLI flag that must be given (e.g. `--segment` without a plan file).
    case missingFlag(flag: String, expected: String)

    /// The problems of `.invalidPlan` (also inside `.inFile`); empty for other cases.
    public var problems: [MemoryPlanProblem] {
        switch self {
        case let .invalidPlan(problems): return problems
        case let .inFile(_, error): return error.problems
        default: return []
        }
    }

    /// First line: a one-line summary naming the first bad field. An invalid plan with several
    /// problems lists every one of them on its own line after it.
    public var description: String {
        switch self {
        case let .invalidPlan(problems):
            guard let first = problems.first else { return "invalid memory plan" }
            guard problems.count > 1 else { return "invalid memory plan: \(first)" }
            let more = problems.count - 1
            return "invalid memory plan: \(first) (and \(more) more problem\(more == 1 ? "" : "s"))\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        case let .unknownKey(path, suggestion):
            return "\(path): unknown key" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
        case let .missingKey(path):
            return "\(path): required key is missing"
        case let .typeMismatch(path, expected, found):
            return "\(path): expected \(expected), found \(found)"
        case let .invalidJSON(detail):
            return "not valid JSON: \(detail)"
        case let .unreadableFile(file, detail):
            return "\(file): cannot read memory plan: \(detail)"
        case let .inFile(file, error):
            return "\(file): \(error.description)"
        case let .invalidFlag(flag, value, expected):
            return "\(flag) \"\(value)\": \(expected)"
        case let .missingFlag(flag, expected):
            return "\(flag): \(expected)"
        }
    }

    public var errorDescription: String? { description }
}
