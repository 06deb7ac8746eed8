// PlanJSONValue: a decoded JSON tree plus a strict, path-aware reader for plan objects.
//
// JSONDecoder ignores unknown keys and reports type mismatches without the value it found, so plan
// types decode a PlanJSONValue first and read it by hand: every key is checked against the type's
// key enum and every mismatch names its dotted path and the value found.

import Foundation

/// Any JSON value, as read by a `Decoder`.
enum PlanJSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([PlanJSONValue])
    case object([String: PlanJSONValue])

    /// Reads one JSON value of any type.
    /// - Throws: `DecodingError.dataCorrupted` if the value is none of the JSON types.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        // Type probes: each failed `try?` only means "not this type"; the last case throws.
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int.self) { self = .integer(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([PlanJSONValue].self) { self = .array(value); return }
        if let value = try? container.decode([String: PlanJSONValue].self) { self = .object(value); return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a JSON value"))
    }

    /// How the value is shown in an error: strings quoted, containers by kind.
    var found: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .integer(value): return String(value)
        case let .number(value): return String(value)
        case let .string(value): return "\"\(value)\""
        case let .array(values): return "an array of \(values.count)"
        case .object: return "an object"
        }
    }
}

/// Dotted path of a key below `path` ("" for the root).
func planPath(_ path: String, _ key: String) -> String {
    path.isEmpty ? key : "\(path).\(key)"
}

/// The dotted path of a decoder's coding path, for types decoded below another container.
func planPath(_ codingPath: [any CodingKey]) -> String {
    codingPath.reduce(into: "") { result, key in
        if let index = key.intValue { result += "[\(index)]" } else { result = planPath(result, key.stringValue) }
    }
}

/// A JSON object being read as a plan type whose keys are `Key`.
struct PlanObjectReader<Key: RawRepresentable & CaseIterable> where Key.RawValue == String {
    let path: String
    let fields: [String: PlanJSONValue]

    /// Checks that `value` is an object with only `Key` keys.
    /// - Throws: `MemoryPlanError.typeMismatch` or `.unknownKey` (with a close known key, if any).
    init(_ value: PlanJSONValue, path: String) throws {
        guard case let .object(fields) = value else {
            throw MemoryPlanError.typeMismatch(path: path.isEmpty ? "plan" : path, expected: "an object", found: value.found)
        }
        let known = Key.allCases.map(\.rawValue)
        for key in fields.keys.sorted() where !known.contains(key) {
            throw MemoryPlanError.unknownKey(path: planPath(path, key), suggestion: closestKey(to: key, in: known))
        }
        self.path = path
        self.fields = fields
    }

    /// The value of `key`, or nil when it is absent or JSON null.
    func optional(_ key: Key) -> PlanJSONValue? {
        guard let value = fields[key.rawValue], value != .null else { return nil }
        return value
    }

    /// The value of `key`. - Throws: `.missingKey` when absent, `.typeMismatch` when null.
    func required(_ key: Key) throws -> PlanJSONValue {
        guard let value = fields[key.rawValue] else { throw MemoryPlanError.missingKey(path: planPath(path, key.rawValue)) }
        guard value != .null else {
            throw MemoryPlanError.typeMismatch(path: planPath(path, key.rawValue), expected: "a value", found: "null")
        }
        return value
    }

    func int(_ key: Key) throws -> Int { try required(key).int(at: planPath(path, key.rawValue)) }
    func optionalInt(_ key: Key) throws -> Int? { try optional(key).map { try $0.int(at: planPath(path, key.rawValue)) } }
    func optionalString(_ key: Key) throws -> String? { try optional(key).map { try $0.string(at: planPath(path, key.rawValue)) } }
    func optionalBool(_ key: Key) throws -> Bool? {
        try optional(key).map { value in
            guard case let .bool(flag) = value else {
                throw MemoryPlanError.typeMismatch(path: planPath(path, key.rawValue), expected: "true or false", found: value.found)
            }
            return flag
        }
    }
}

/// Typed reads that name `path` and the value found on a mismatch.
extension PlanJSONValue {
    func int(at path: String) throws -> Int {
        guard case let .integer(number) = self else {
            throw MemoryPlanError.typeMismatch(path: path, expected: "an integer", found: found)
        }
        return number
    }

    func double(at path: String) throws -> Double {
        switch self {
        case let .integer(number): return Double(number)
        case let .number(number): return number
        default: throw MemoryPlanError.typeMismatch(path: path, expected: "a number", found: found)
        }
    }

    func string(at path: String) throws -> String {
        guard case let .string(text) = self else {
            throw MemoryPlanError.typeMismatch(path: path, expected: "a string", found: found)
        }
        return text
    }

    func array(at path: String, expected: String) throws -> [PlanJSONValue] {
        guard case let .array(values) = self else {
            throw MemoryPlanError.typeMismatch(path: path, expected: expected, found: found)
        }
        return values
    }
}

/// The known key closest to `key`: same letters ignoring case, or at most 2 edits away.
func closestKey(to key: String, in known: [String]) -> String? {
    if let match = known.first(where: { $0.lowercased() == key.lowercased() }) { return match }
    let scored = known.map { ($0, editDistance($0.lowercased(), key.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
    return best.0
}

/// Levenshtein distance between two short strings.
/// - Complexity: O(a.count * b.count).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0 ... b.count)
    for i in 1 ... a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
