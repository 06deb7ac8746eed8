import Foundation

/// Reading user-supplied text files with errors that name the file and the bad byte.
public enum TextFile {
    /// The contents of `url` as a string.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - allowEmpty: when false an empty file throws `GenerationError.emptyFile`.
    /// - Throws: `GenerationError.unreadableFile`, `.invalidUTF8` (with the byte offset of the first
    ///   byte that starts no valid UTF-8 sequence) or `.emptyFile`.
    public static func read(_ url: URL, allowEmpty: Bool = true) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw GenerationError.unreadableFile(path: url.path, reason: Self.reason(error))
        }
        if data.isEmpty, !allowEmpty { throw GenerationError.emptyFile(path: url.path) }
        let bytes = [UInt8](data)
        if let offset = firstInvalidUTF8Offset(bytes) {
            throw GenerationError.invalidUTF8(path: url.path, byteOffset: offset)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Offset of the first byte where `bytes` stops being valid UTF-8 (RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF), or nil when all of it is valid.
    /// - Complexity: O(n).
    public static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2 ... 0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1 ... 0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard bytes[i + 1] >= low, bytes[i + 1] <= high else { return i }
            for k in 2 ..< length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, let posix = POSIXErrorCode(rawValue: Int32(underlying.code)),
           underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(posix.rawValue))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }
}
