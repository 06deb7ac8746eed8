import Foundation

/// One associative-recall example: a document to read, a query, and the answer the model must
/// produce (all token ids). Made by `Fixtures/scripts/train_recall.py` (issue #6).
public struct RecallExample: Sendable, Equatable {
    /// The example's id in its file (a number or a string, kept as text).
    public var id: String
    /// The document, read through the model's memory (BOS first if the model wants one).
    public var document: [Int]
    /// The question asked after the document (may be empty when the document ends with it).
    public var query: [Int]
    /// The expected continuation after the query (at least one token).
    public var answer: [Int]
    /// How many tokens before the query the answer's source starts, if the file says.
    public var distance: Int?

    public init(id: String, document: [Int], query: [Int], answer: [Int], distance: Int? = nil) {
        self.id = id
        self.document = document
        self.query = query
        self.answer = answer
        self.distance = distance
    }
}

/// Errors in a recall data file; `"\(error)"` is one line naming the file, the line and the key.
public enum RecallDataError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case unreadable(file: String, reason: String)
    /// The file holds no example.
    case empty(file: String)
    /// A line (1-based; 0 for a whole-file JSON array) that is not a JSON object.
    case invalidJSON(file: String, line: Int, reason: String)
    case missingKey(file: String, line: Int, key: String)
    case unknownKey(file: String, line: Int, key: String, known: [String])
    case invalidValue(file: String, line: Int, key: String, found: String, expected: String)
    /// A token id outside the model's vocabulary (found when evaluating).
    case tokenOutOfRange(example: String, key: String, token: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .empty(file): return "\(file): no recall examples (expected JSON Lines, one object per line)"
        case let .invalidJSON(file, line, reason): return "\(file):\(line): not a JSON object: \(reason)"
        case let .missingKey(file, line, key): return "\(file):\(line): required key \"\(key)\" is missing"
        case let .unknownKey(file, line, key, known):
            return "\(file):\(line): unknown key \"\(key)\" (known: \(known.joined(separator: ", ")))"
        case let .invalidValue(file, line, key, found, expected):
            return "\(file):\(line): \(key): expected \(expected), found \(found)"
        case let .tokenOutOfRange(example, key, token, vocabularySize):
            return "recall example \(example): \(key) has token id \(token), outside the vocabulary 0..<\(vocabularySize)"
        }
    }

    public var errorDescription: String? { description }
}

extension RecallExample {
    static let keys = ["id", "document", "query", "answer", "distance"]

    /// Reads a recall data file: JSON Lines (one object per line) or one JSON array of objects, each
    /// with `id` (number or string), `document`, `query`, `answer` (arrays of token ids; `answer`
    /// non-empty, `document` + `query` non-empty) and optionally `distance` (an integer).
    /// - Throws: `RecallDataError` naming the file, line and key.
    public static func load(from url: URL) throws -> [RecallExample] {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RecallDataError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        let firstByte = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        var objects: [(line: Int, value: Any)] = []
        if firstByte == UInt8(ascii: "[") {
            let root: Any
            do { root = try JSONSerialization.jsonObject(with: data) } catch {
                throw RecallDataError.invalidJSON(file: file, line: 0, reason: (error as NSError).localizedDescription)
            }
            guard let array = root as? [Any] else {
                throw RecallDataError.invalidJSON(file: file, line: 0, reason: "expected an array of objects")
            }
            objects = array.map { (0, $0) }
        } else {
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                do { objects.append((lineNumber, try JSONSerialization.jsonObject(with: Data(line)))) } catch {
                    throw RecallDataError.invalidJSON(file: file, line: lineNumber, reason: (error as NSError).localizedDescription)
                }
            }
        }
        guard !objects.isEmpty else { throw RecallDataError.empty(file: file) }
        return try objects.enumerated().map { index, item in
            try parse(item.value, file: file, line: item.line == 0 ? index + 1 : item.line)
        }
    }

    static func parse(_ value: Any, file: String, line: Int) throws -> RecallExample {
        guard let object = value as? [String: Any] else {
            throw RecallDataError.invalidJSON(file: file, line: line, reason: "found \(typeName(value))")
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw RecallDataError.unknownKey(file: file, line: line, key: key, known: keys)
        }
        func tokens(_ key: String) throws -> [Int] {
            guard let raw = object[key] else { throw RecallDataError.missingKey(file: file, line: line, key: key) }
            guard let array = raw as? [Any] else {
                throw RecallDataError.invalidValue(file: file, line: line, key: key, found: typeName(raw), expected: "an array of token ids")
            }
            return try array.enumerated().map { i, item in
                guard let id = integer(item), id >= 0 else {
                    throw RecallDataError.invalidValue(file: file, line: line, key: "\(key)[\(i)]", found: describe(item),
                                                       expected: "a non-negative integer token id")
                }
                return id
            }
        }
        guard let rawID = object["id"] else { throw RecallDataError.missingKey(file: file, line: line, key: "id") }
        let id: String
        if let n = integer(rawID) { id = "\(n)" } else if let s = rawID as? String { id = s } else {
            throw RecallDataError.invalidValue(file: file, line: line, key: "id", found: describe(rawID), expected: "an integer or a string")
        }
        let example = RecallExample(id: id, document: try tokens("document"), query: try tokens("query"),
                                    answer: try tokens("answer"))
        guard !example.answer.isEmpty else {
            throw RecallDataError.invalidValue(file: file, line: line, key: "answer", found: "[]", expected: "at least one token")
        }
        guard example.document.count + example.query.count > 0 else {
            throw RecallDataError.invalidValue(file: file, line: line, key: "document", found: "[]",
                                               expected: "at least one token in document or query")
        }
        var result = example
        if let raw = object["distance"], !(raw is NSNull) {
            guard let d = integer(raw), d >= 0 else {
                throw RecallDataError.invalidValue(file: file, line: line, key: "distance", found: describe(raw),
                                                   expected: "a non-negative integer")
            }
            result.distance = d
        }
        return result
    }

    /// An integral JSON number (not a boolean), else nil.
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        let d = number.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    /// JSON `true`/`false` arrive as NSNumbers of Objective-C type `c` (Darwin and Linux Foundation).
    static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case let n as NSNumber: return isBoolean(n) ? "a boolean" : "a number"
        default: return "\(type(of: value))"
        }
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case let s as String: return "\"\(s)\""
        case let n as NSNumber where !isBoolean(n): return "\(n)"
        default: return typeName(value)
        }
    }
}
