import Foundation

/// Typed access to parsed JSON that throws `TokenizerError` naming file and key.
enum JSONReader {
    static func parse(_ data: Data, file: String) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse([UInt8](data))
        } catch {
            throw TokenizerError.invalidJSON(file: file, reason: "\(error.message) at byte offset \(error.offset)")
        }
        guard case .object(let o) = value else {
            throw TokenizerError.invalidJSON(file: file, reason: "top level is \(typeName(value)), expected an object")
        }
        return o
    }

    static func typeName(_ v: JSONValue?) -> String {
        switch v {
        case nil: return "nothing"
        case .null?: return "null"
        case .string?: return "a string"
        case .array?: return "an array"
        case .object?: return "an object"
        case .bool(let b)?: return "the boolean \(b)"
        case .number(let n)?: return "the number \(n)"
        }
    }

    static func isNull(_ v: JSONValue?) -> Bool {
        if case .null? = v { return true }
        return v == nil
    }

    static func object(_ v: JSONValue?, file: String, key: String) throws -> JSONObject {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard case .object(let o) = v else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an object")
        }
        return o
    }

    static func array(_ v: JSONValue?, file: String, key: String) throws -> [JSONValue] {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard case .array(let a) = v else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an array")
        }
        return a
    }

    static func string(_ v: JSONValue?, file: String, key: String) throws -> String {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard case .string(let s) = v else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "a string")
        }
        return s
    }

    static func optionalString(_ v: JSONValue?, file: String, key: String) throws -> String? {
        if isNull(v) { return nil }
        return try string(v, file: file, key: key)
    }

    static func int(_ v: JSONValue?, file: String, key: String) throws -> Int {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard case .number(let d) = v, let i = Int(exactly: d) else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an integer")
        }
        return i
    }

    static func bool(_ v: JSONValue?, file: String, key: String, default def: Bool) throws -> Bool {
        if isNull(v) { return def }
        guard case .bool(let b)? = v else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "a boolean")
        }
        return b
    }

    /// `{"pattern": {"String": "x"}, "content": "y"}` as used by Replace normalizers and decoders.
    static func replacePattern(_ obj: JSONObject, file: String, key: String) throws -> ([UInt8], [UInt8]) {
        let pattern = try object(obj["pattern"], file: file, key: key + ".pattern")
        guard let s = pattern["String"] else {
            throw TokenizerError.unsupported(file: file, key: key + ".pattern",
                                             found: pattern.keys.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ","),
                                             supported: "String")
        }
        let p = try string(s, file: file, key: key + ".pattern.String")
        let c = try string(obj["content"], file: file, key: key + ".content")
        return (Array(p.utf8), Array(c.utf8))
    }
}
