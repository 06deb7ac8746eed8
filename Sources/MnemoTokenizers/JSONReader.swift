import Foundation

/// Typed access to `JSONSerialization` output that throws `TokenizerError` naming file and key.
enum JSONReader {
    static func parse(_ data: Data, file: String) throws -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw TokenizerError.invalidJSON(file: file, reason: reason.replacingOccurrences(of: "\n", with: " "))
        }
        guard let obj = value as? [String: Any] else {
            throw TokenizerError.invalidJSON(file: file, reason: "top level is \(typeName(value)), expected an object")
        }
        return obj
    }

    static func typeName(_ v: Any?) -> String {
        switch v {
        case nil: return "nothing"
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case let n as NSNumber: return "the number \(n)"
        default: return "\(type(of: v!))"
        }
    }

    static func object(_ v: Any?, file: String, key: String) throws -> [String: Any] {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard let o = v as? [String: Any] else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an object")
        }
        return o
    }

    static func array(_ v: Any?, file: String, key: String) throws -> [Any] {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard let a = v as? [Any] else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an array")
        }
        return a
    }

    static func string(_ v: Any?, file: String, key: String) throws -> String {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard let s = v as? String else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "a string")
        }
        return s
    }

    static func optionalString(_ v: Any?, file: String, key: String) throws -> String? {
        guard let v, !(v is NSNull) else { return nil }
        return try string(v, file: file, key: key)
    }

    static func int(_ v: Any?, file: String, key: String) throws -> Int {
        guard let v else { throw TokenizerError.missingKey(file: file, key: key) }
        guard let n = v as? NSNumber, !(v is Bool) || true, let i = Int(exactly: n.doubleValue) else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "an integer")
        }
        return i
    }

    static func bool(_ v: Any?, file: String, key: String, default def: Bool) throws -> Bool {
        guard let v, !(v is NSNull) else { return def }
        guard let n = v as? NSNumber else {
            throw TokenizerError.invalidValue(file: file, key: key, found: typeName(v), expected: "a boolean")
        }
        return n.boolValue
    }

    /// `{"pattern": {"String": "x"}, "content": "y"}` as used by Replace normalizers and decoders.
    static func replacePattern(_ obj: [String: Any], file: String, key: String) throws -> ([UInt8], [UInt8]) {
        let pattern = try object(obj["pattern"], file: file, key: key + ".pattern")
        guard let s = pattern["String"] else {
            throw TokenizerError.unsupported(file: file, key: key + ".pattern", found: pattern.keys.sorted().joined(separator: ","),
                                             supported: "String")
        }
        let p = try string(s, file: file, key: key + ".pattern.String")
        let c = try string(obj["content"], file: file, key: key + ".content")
        return (Array(p.utf8), Array(c.utf8))
    }
}
