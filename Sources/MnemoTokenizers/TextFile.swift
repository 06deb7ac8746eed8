import Foundation

/// Reads a UTF-8 text file exactly (a byte-order mark and CRLF line ends are kept).
///
/// - Parameter url: the file.
/// - Throws: `TokenizerError.unreadable` if it cannot be read, `.invalidUTF8` with the byte offset of
///   the first byte that is not valid UTF-8.
/// - Complexity: O(n).
public func readUTF8Text(url: URL) throws -> String {
    let data = try HFTokenizerLoader.readData(url)
    return try data.withUnsafeBytes { raw -> String in
        let bytes = raw.bindMemory(to: UInt8.self)
        if let bad = firstInvalidUTF8Offset(bytes) { throw TokenizerError.invalidUTF8(file: url.path, offset: bad) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or nil.
func firstInvalidUTF8Offset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
    var i = 0
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        var need = 0
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return i
        }
        guard i + need < n else { return i }
        let c1 = b[i + 1]
        if c1 < lo || c1 > hi { return i }
        for k in 2..<(need + 1) where b[i + k] & 0xC0 != 0x80 { return i }
        i += need + 1
    }
    return nil
}
