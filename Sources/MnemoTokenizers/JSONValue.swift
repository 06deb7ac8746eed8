/// A parsed JSON value. Object keys keep their exact UTF-8 bytes: Swift `String` equality is
/// canonical equivalence, and real vocabularies hold distinct tokens that are canonically equivalent
/// (e.g. Greek `έ` U+03AD and U+1F73), so keys must not go through `String`-keyed dictionaries.
indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object: keys (exact bytes) and values in file order.
struct JSONObject: Sendable {
    var keys: [[UInt8]] = []
    var values: [JSONValue] = []

    /// The value for an ASCII key (first occurrence), or nil.
    subscript(key: String) -> JSONValue? {
        let k = Array(key.utf8)
        for (i, candidate) in keys.enumerated() where candidate == k { return values[i] }
        return nil
    }

    var count: Int { keys.count }

    /// Replaces the value of `key` (first occurrence) or appends it.
    mutating func set(_ key: String, _ value: JSONValue) {
        let k = Array(key.utf8)
        if let i = keys.firstIndex(of: k) { values[i] = value } else { keys.append(k); values.append(value) }
    }
}

/// A strict RFC 8259 JSON parser over bytes; errors give the byte offset.
struct JSONParser {
    struct Failure: Error { var offset: Int; var message: String }

    private let b: [UInt8]
    private var i = 0
    private var depth = 0

    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var p = JSONParser(b: bytes)
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        guard p.i == bytes.count else { throw Failure(offset: p.i, message: "unexpected data after the top-level value") }
        return v
    }

    private init(b: [UInt8]) { self.b = b }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private func fail(_ message: String) -> Failure {
        Failure(offset: i, message: i >= b.count ? "unexpected end of input (\(message))" : message)
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
        guard i < b.count, b[i] == c else { throw fail("expected \(what)") }
        i += 1
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard i < b.count else { throw fail("expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["): return .array(try array())
        case UInt8(ascii: "\""): return .string(String(decoding: try string(), as: UTF8.self))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for c in word.utf8 {
            guard i < b.count, b[i] == c else { throw fail("expected '\(word)'") }
            i += 1
        }
    }

    private mutating func object() throws(Failure) -> JSONObject {
        depth += 1
        guard depth < 512 else { throw fail("nesting deeper than 512") }
        defer { depth -= 1 }
        i += 1
        var o = JSONObject()
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return o }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let k = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "':'")
            skipSpace()
            let v = try value()
            o.keys.append(k)
            o.values.append(v)
            skipSpace()
            guard i < b.count else { throw fail("expected ',' or '}'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return o }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array() throws(Failure) -> [JSONValue] {
        depth += 1
        guard depth < 512 else { throw fail("nesting deeper than 512") }
        defer { depth -= 1 }
        i += 1
        var a: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return a }
        while true {
            skipSpace()
            a.append(try value())
            skipSpace()
            guard i < b.count else { throw fail("expected ',' or ']'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return a }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard b.count - i >= 4 else { i = b.count; throw fail("expected 4 hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// Parses a string literal at `i` (which is `"`), returning its UTF-8 bytes.
    private mutating func string() throws(Failure) -> [UInt8] {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return out }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = try hex4()
                if v >= 0xD800 && v < 0xDC00, b.count - i >= 6, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if low >= 0xDC00 && low < 0xE000 { v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00) } else { i = save }
                }
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                out.append(contentsOf: String(scalar).utf8)
            default:
                throw fail("invalid escape '\\\(Unicode.Scalar(e))'")
            }
        }
    }

    private mutating func number() throws(Failure) -> Double {
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e")
                || b[i] == UInt8(ascii: "E") || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            i += 1; digits += 1
        }
        guard digits > 0, let v = Double(String(decoding: b[start..<i], as: UTF8.self)) else {
            i = start
            throw fail("expected a value")
        }
        return v
    }
}
