import Foundation

/// A value while rendering a template, with Python's semantics where Jinja defers to Python
/// (truthiness, `==`, `str()`, `repr()`).
enum JinjaValue: Sendable {
    /// A missing variable, key or attribute (Jinja's default `Undefined`): prints as "", is falsy,
    /// iterates as empty; most other uses are errors. Carries what was looked up.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case tuple([JinjaValue])
    case dict(JinjaDict)
    case namespace(JinjaNamespace)
    case callable(JinjaCallable)

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let v): return v != 0
        case .double(let v): return v != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .callable: return true
        }
    }

    /// Python's type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined(let what): return "undefined value '\(what)'"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    /// Python `str(value)` (Jinja prints undefined as "").
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Nesting beyond which values are not printed, compared or serialized (a template can build
    /// arbitrarily deep lists in a loop; recursion over them must not exhaust the stack).
    static let maxNesting = 200

    /// Python `repr(value)` (`[...]` past `maxNesting` levels).
    var repr: String { repr(depth: 0) }

    private func repr(depth: Int) -> String {
        if depth > Self.maxNesting { return "[...]" }
        let inner = { (v: JinjaValue) in v.repr(depth: depth + 1) }
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let v): return String(v)
        case .double(let v): return Self.pythonFloat(v)
        case .string(let s): return Self.pythonStringRepr(s)
        case .list(let a): return "[" + a.map(inner).joined(separator: ", ") + "]"
        case .tuple(let a): return "(" + a.map(inner).joined(separator: ", ") + (a.count == 1 ? ",)" : ")")
        case .dict(let d): return "{" + d.entries.map { "\(Self.pythonStringRepr($0.key)): \(inner($0.value))" }.joined(separator: ", ") + "}"
        case .namespace(let ns): return "<Namespace \(ns.values.entries.map { "\($0.key)=\(inner($0.value))" }.joined(separator: ", "))>"
        case .callable(let c): return "<function \(c.name)>"
        }
    }

    /// Python's `repr(float)` for the usual cases.
    static func pythonFloat(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if v == v.rounded(), abs(v) < 1e16 { return String(format: "%.1f", v) }
        return "\(v)"
    }

    /// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func pythonStringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\x%02x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + String(quote)
    }

    /// Python `==` (false past `maxNesting` levels).
    static func equal(_ a: JinjaValue, _ b: JinjaValue, depth: Int = 0) -> Bool {
        if depth > maxNesting { return false }
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1, depth: depth + 1) }
        case let (.dict(x), .dict(y)):
            return x.count == y.count && x.entries.allSatisfy { e in y[e.key].map { equal(e.value, $0, depth: depth + 1) } ?? false }
        case let (.namespace(x), .namespace(y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// The numeric value of a bool, int or float (Python treats bools as 0 and 1).
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }

    /// The integer value of a bool or int.
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let v): return v
        default: return nil
        }
    }

    /// JSON text as transformers' `tojson` filter makes it: `json.dumps(value, ensure_ascii=False,
    /// indent=indent)`; separators `", "` / `": "` (`","` between items when indented).
    func json(indent: Int?, level: Int = 0) throws -> String {
        if level > Self.maxNesting { throw JinjaFailure.limit("value nested deeper than \(Self.maxNesting) levels") }
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) }
        let separator = indent == nil ? ", " : ","
        switch self {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v):
            if v.isNaN { return "NaN" }
            if v.isInfinite { return v < 0 ? "-Infinity" : "Infinity" }
            return Self.pythonFloat(v)
        case .string(let s): return Self.jsonString(s)
        case .list(let a), .tuple(let a):
            if a.isEmpty { return "[]" }
            let items = try a.map { try $0.json(indent: indent, level: level + 1) }
            return "[" + (newline ?? "") + items.joined(separator: separator + (newline ?? "")) + (closing ?? "") + "]"
        case .dict(let d):
            if d.isEmpty { return "{}" }
            let items = try d.entries.map { Self.jsonString($0.key) + ": " + (try $0.value.json(indent: indent, level: level + 1)) }
            return "{" + (newline ?? "") + items.joined(separator: separator + (newline ?? "")) + (closing ?? "") + "}"
        case .undefined, .namespace, .callable:
            throw JinjaFailure.type("Object of type \(typeName) is not JSON serializable")
        }
    }

    /// A JSON string literal with `ensure_ascii=False` escaping.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// An insertion-ordered dictionary with string keys (what chat messages and tool schemas are).
struct JinjaDict: Sendable {
    private(set) var entries: [(key: String, value: JinjaValue)] = []

    init(_ entries: [(String, JinjaValue)] = []) {
        for (k, v) in entries { self[k] = v }
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var keys: [String] { entries.map(\.key) }

    subscript(key: String) -> JinjaValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}

/// Jinja's `namespace()`: the one mutable object templates have (reference semantics).
final class JinjaNamespace: @unchecked Sendable {
    // @unchecked Sendable: a namespace only exists during one synchronous `render` call on one thread.
    var values: JinjaDict

    init(_ values: JinjaDict) { self.values = values }
}

/// A function value: a global (`range`, `namespace`, ...), a bound method (`'a'.strip`), or a macro.
struct JinjaCallable: Sendable {
    var name: String
    var call: @Sendable (_ interpreter: JinjaInterpreter, _ positional: [JinjaValue], _ keyword: [(String, JinjaValue)]) throws -> JinjaValue
}

/// Failures inside evaluation, turned into `ChatTemplateError` with the statement's line.
enum JinjaFailure: Error {
    case type(String)
    case undefined(String)
    case unsupported(String)
    case raised(String)
    case limit(String)
}
