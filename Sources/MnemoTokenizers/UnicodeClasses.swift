/// Character classes used by the pre-tokenizer regular expressions (`\p{L}`, `\p{N}`, `\s`).
///
/// Classes come from `Unicode.Scalar.Properties` (general category and `White_Space`), looked up once
/// for the Basic Multilingual Plane into a table and computed on demand above it.
enum CharClass {
    static let other: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let space: UInt8 = 3

    /// Class of each BMP scalar (surrogates are never looked up).
    static let bmpTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { table[v] = compute(s) }
        }
        return table
    }()

    /// The class of one scalar, from its Unicode properties.
    static func compute(_ s: Unicode.Scalar) -> UInt8 {
        let p = s.properties
        if p.isWhitespace { return space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return other
        }
    }

    /// The class of the scalar with value `v`.
    /// - Complexity: O(1) for the BMP (table), one property lookup above it.
    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmpTable[Int(v)] }
        guard let s = Unicode.Scalar(v) else { return other }
        return compute(s)
    }
}

/// Decodes the scalar starting at `i` in valid UTF-8 `bytes`; returns its value and byte length.
@inline(__always)
func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(bytes[i])
    if b0 < 0x80 { return (b0, 1) }
    let n = bytes.count
    if b0 < 0xE0, i + 1 < n {
        return (((b0 & 0x1F) << 6) | (UInt32(bytes[i + 1]) & 0x3F), 2)
    }
    if b0 < 0xF0, i + 2 < n {
        return (((b0 & 0x0F) << 12) | ((UInt32(bytes[i + 1]) & 0x3F) << 6) | (UInt32(bytes[i + 2]) & 0x3F), 3)
    }
    if i + 3 < n {
        return (((b0 & 0x07) << 18) | ((UInt32(bytes[i + 1]) & 0x3F) << 12)
            | ((UInt32(bytes[i + 2]) & 0x3F) << 6) | (UInt32(bytes[i + 3]) & 0x3F), 4)
    }
    return (0xFFFD, 1)
}

/// Byte length of the UTF-8 sequence that starts with `b` (1 for stray continuation bytes).
@inline(__always)
func utf8Length(_ b: UInt8) -> Int {
    if b < 0x80 { return 1 }
    if b < 0xC0 { return 1 }
    if b < 0xE0 { return 2 }
    if b < 0xF0 { return 3 }
    return 4
}
