import Foundation

/// Text normalizers of Hugging Face `tokenizers` (`normalizers/*.rs`) that the supported models use.
indirect enum Normalizer: Sendable {
    case prepend([UInt8])
    case replace(pattern: [UInt8], content: [UInt8])
    case sequence([Normalizer])
    case nfc, nfd, nfkc, nfkd
    case lowercase

    /// Parses a `normalizer` JSON object.
    static func parse(_ json: JSONValue?, file: String, key: String = "normalizer") throws -> Normalizer? {
        guard let json, !JSONReader.isNull(json) else { return nil }
        let obj = try JSONReader.object(json, file: file, key: key)
        let type = try JSONReader.string(obj["type"], file: file, key: key + ".type")
        switch type {
        case "Prepend":
            return .prepend(Array(try JSONReader.string(obj["prepend"], file: file, key: key + ".prepend").utf8))
        case "Replace":
            let (pattern, content) = try JSONReader.replacePattern(obj, file: file, key: key)
            return .replace(pattern: pattern, content: content)
        case "Sequence":
            let items = try JSONReader.array(obj["normalizers"], file: file, key: key + ".normalizers")
            return .sequence(try items.enumerated().compactMap { try parse($1, file: file, key: "\(key).normalizers[\($0)]") })
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        default:
            throw TokenizerError.unsupported(file: file, key: key + ".type", found: type,
                                             supported: "Prepend, Replace, Sequence, NFC, NFD, NFKC, NFKD, Lowercase")
        }
    }

    /// Applies the normalizer to UTF-8 `bytes`.
    /// - Complexity: O(n).
    func apply(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .prepend(let p):
            return bytes.isEmpty ? bytes : p + bytes
        case let .replace(pattern, content):
            return replaceAll(bytes, pattern, content)
        case .sequence(let items):
            var b = bytes
            for n in items { b = n.apply(b) }
            return b
        case .nfc: return unicodeMap(bytes) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return unicodeMap(bytes) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc: return unicodeMap(bytes) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd: return unicodeMap(bytes) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase: return unicodeMap(bytes) { $0.lowercased() }
        }
    }

    private func unicodeMap(_ bytes: [UInt8], _ f: (String) -> String) -> [UInt8] {
        Array(f(String(decoding: bytes, as: UTF8.self)).utf8)
    }
}

/// Replaces every non-overlapping occurrence of `pattern` in `bytes` (left to right) with `content`.
/// - Complexity: O(n · m) worst case, O(n) for single-byte patterns.
func replaceAll(_ bytes: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 4)
    let first = pattern[0]
    let m = pattern.count
    bytes.withUnsafeBufferPointer { b in
        var i = 0
        let n = b.count
        while i < n {
            if b[i] == first && i + m <= n {
                var same = true
                for j in 1..<m where b[i + j] != pattern[j] { same = false; break }
                if same { out.append(contentsOf: content); i += m; continue }
            }
            out.append(b[i])
            i += 1
        }
    }
    return out
}
