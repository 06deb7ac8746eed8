import Foundation

/// Decoders of Hugging Face `tokenizers` (`decoders/*.rs`), working on the UTF-8 bytes of token
/// strings so that byte tokens can be streamed without losing partial characters.
indirect enum TokenDecoder: Sendable {
    case byteLevel
    case replace(pattern: [UInt8], content: [UInt8])
    case byteFallback
    case fuse
    case strip(content: [UInt8], start: Int, stop: Int)
    case metaspace(replacement: [UInt8], prependFirst: Bool)
    case sequence([TokenDecoder])

    static func parse(_ json: JSONValue?, file: String, key: String = "decoder") throws -> TokenDecoder? {
        guard let json, !JSONReader.isNull(json) else { return nil }
        let obj = try JSONReader.object(json, file: file, key: key)
        let type = try JSONReader.string(obj["type"], file: file, key: key + ".type")
        switch type {
        case "ByteLevel": return .byteLevel
        case "Replace":
            let (p, c) = try JSONReader.replacePattern(obj, file: file, key: key)
            return .replace(pattern: p, content: c)
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            let content = try JSONReader.string(obj["content"], file: file, key: key + ".content")
            return .strip(content: Array(content.utf8),
                          start: try JSONReader.int(obj["start"], file: file, key: key + ".start"),
                          stop: try JSONReader.int(obj["stop"], file: file, key: key + ".stop"))
        case "Metaspace":
            let replacement = try JSONReader.string(obj["replacement"], file: file, key: key + ".replacement")
            var prepend = true
            if let s = try JSONReader.optionalString(obj["prepend_scheme"], file: file, key: key + ".prepend_scheme") {
                prepend = s != "never"
            } else {
                prepend = try JSONReader.bool(obj["add_prefix_space"], file: file, key: key + ".add_prefix_space", default: true)
            }
            return .metaspace(replacement: Array(replacement.utf8), prependFirst: prepend)
        case "Sequence":
            let items = try JSONReader.array(obj["decoders"], file: file, key: key + ".decoders")
            return .sequence(try items.enumerated().compactMap { try parse($1, file: file, key: "\(key).decoders[\($0)]") })
        default:
            throw TokenizerError.unsupported(file: file, key: key + ".type", found: type,
                                             supported: "ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence")
        }
    }

    /// Applies the decoder chain to token byte strings (HF `Decoder::decode_chain`).
    /// - Parameter streaming: keep `<0xXX>` runs as raw bytes (see `byteFallback`) instead of one U+FFFD
    ///   per byte token of an invalid run as HF does.
    func apply(_ tokens: [[UInt8]], streaming: Bool = false) -> [[UInt8]] {
        switch self {
        case .byteLevel:
            var joined: [UInt8] = []
            for t in tokens { joined.append(contentsOf: t) }
            return [ByteLevel.decode(utf8: joined)]
        case let .replace(pattern, content):
            return tokens.map { replaceAll($0, pattern, content) }
        case .byteFallback:
            return Self.byteFallback(tokens, streaming: streaming)
        case .fuse:
            var joined: [UInt8] = []
            for t in tokens { joined.append(contentsOf: t) }
            return [joined]
        case let .strip(content, start, stop):
            return tokens.map { Self.strip($0, content, start, stop) }
        case let .metaspace(replacement, prependFirst):
            // HF decoders/metaspace.rs: in the first token every replacement is dropped (not turned into ' ').
            return tokens.enumerated().map { i, t in
                replaceAll(t, replacement, i == 0 && prependFirst ? [] : [UInt8(ascii: " ")])
            }
        case .sequence(let items):
            var t = tokens
            for d in items { t = d.apply(t, streaming: streaming) }
            return t
        }
    }

    /// `<0xXX>` → the byte XX, or nil.
    static func byteToken(_ t: [UInt8]) -> UInt8? {
        guard t.count == 6, t[0] == UInt8(ascii: "<"), t[1] == UInt8(ascii: "0"), t[2] == UInt8(ascii: "x"),
              t[5] == UInt8(ascii: ">"), let hi = hexValue(t[3]), let lo = hexValue(t[4]) else { return nil }
        return hi << 4 | lo
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Runs of `<0xXX>` tokens become their bytes if valid UTF-8, else one U+FFFD per byte token
    /// (`decoders/byte_fallback.rs`). When `streaming`, runs stay raw bytes: the streaming decoder waits
    /// for incomplete characters and replaces invalid bytes itself, and a later byte token can never
    /// change text already emitted (HF would turn a valid run plus one stray byte into all U+FFFD).
    private static func byteFallback(_ tokens: [[UInt8]], streaming: Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var pending: [UInt8] = []
        var pendingCount = 0
        func flush() {
            guard pendingCount > 0 else { return }
            if String(validating: pending, as: UTF8.self) != nil || streaming {
                out.append(pending)
            } else {
                for _ in 0..<pendingCount { out.append([0xEF, 0xBF, 0xBD]) }
            }
            pending.removeAll()
            pendingCount = 0
        }
        for t in tokens {
            if let b = byteToken(t) {
                pending.append(b); pendingCount += 1
            } else {
                flush()
                out.append(t)
            }
        }
        flush()
        return out
    }

    private static func strip(_ t: [UInt8], _ content: [UInt8], _ start: Int, _ stop: Int) -> [UInt8] {
        var lo = 0, hi = t.count
        var n = 0
        while n < start, hi - lo >= content.count, Array(t[lo..<(lo + content.count)]) == content { lo += content.count; n += 1 }
        n = 0
        while n < stop, hi - lo >= content.count, Array(t[(hi - content.count)..<hi]) == content { hi -= content.count; n += 1 }
        return Array(t[lo..<hi])
    }
}

/// Length of the longest prefix of `bytes` that does not end inside an incomplete UTF-8 character
/// (a trailing lead byte with fewer continuation bytes than it announces is excluded).
func completeUTF8Prefix<C: RandomAccessCollection>(_ bytes: C) -> Int where C.Element == UInt8, C.Index == Int {
    let n = bytes.count
    let base = bytes.startIndex
    var i = n - 1
    var back = 0
    while i >= 0 && back < 4 {
        let b = bytes[base + i]
        if b & 0xC0 != 0x80 {
            let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return (n - i) < need ? i : n
        }
        i -= 1
        back += 1
    }
    return n
}
