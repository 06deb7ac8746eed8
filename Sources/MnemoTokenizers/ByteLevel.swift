/// GPT-2's reversible byte ↔ character mapping (`bytes_to_unicode` in openai/gpt-2 `encoder.py`,
/// Hugging Face `tokenizers` `pre_tokenizers/byte_level.rs`).
enum ByteLevel {
    /// The character standing for each byte.
    static let byteToScalar: [UInt32] = {
        var bs: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var table = [UInt32](repeating: 0, count: 256)
        for (b, c) in zip(bs, cs) { table[b] = UInt32(c) }
        return table
    }()

    /// The byte each mapped character stands for (indexed by scalar value < 324), or -1.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, c) in byteToScalar.enumerated() { table[Int(c)] = Int16(b) }
        return table
    }()

    /// Decodes a byte-level token string to raw bytes; characters outside the mapping keep their UTF-8.
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            if s.value < 324, scalarToByte[Int(s.value)] >= 0 {
                out.append(UInt8(scalarToByte[Int(s.value)]))
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
        return out
    }

    /// Decodes UTF-8 bytes of a byte-level token string to raw bytes.
    static func decode(utf8 bytes: [UInt8]) -> [UInt8] {
        decode(String(decoding: bytes, as: UTF8.self))
    }

    /// Encodes raw bytes as the byte-level character string.
    static func encode(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { if let u = Unicode.Scalar(byteToScalar[Int(b)]) { s.append(u) } }  // all table values are valid scalars
        return String(s)
    }
}
