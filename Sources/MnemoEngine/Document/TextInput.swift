import Foundation
import MnemoTokenizers

/// How the lines of the original file ended.
public enum LineEnding: String, Sendable, Codable {
    case none, lf, crlf, cr, mixed
}

/// Raw-file checks and normalization shared by `Document.load`.
enum TextInput {
    /// Bytes inspected by the binary sniff.
    static let sniffLength = 8192

    /// Reads the file as UTF-8 after checking it exists, is not empty and does not look binary.
    ///
    /// - Throws: `DocumentError` (not found, not a file, unreadable, empty, binary, UTF-16/32, invalid UTF-8).
    static func read(_ url: URL) throws -> String {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DocumentError.fileNotFound(file: path)
        }
        if isDirectory.boolValue { throw DocumentError.notAFile(file: path) }
        let head: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }  // closing a read-only handle cannot lose data
            head = try handle.read(upToCount: sniffLength) ?? Data()
        } catch {
            throw DocumentError.unreadable(file: path, reason: error.localizedDescription)
        }
        if head.isEmpty { throw DocumentError.empty(file: path) }
        try sniff([UInt8](head), file: path)
        do {
            return try readUTF8Text(url: url)
        } catch let TokenizerError.invalidUTF8(_, offset) {
            throw DocumentError.invalidUTF8(file: path, offset: offset)
        } catch {
            throw DocumentError.unreadable(file: path, reason: "\(error)")
        }
    }

    /// Rejects UTF-16/32 byte-order marks, NUL bytes, and more than 10 % control characters.
    ///
    /// Control characters are bytes below 0x20 other than tab, LF, VT, FF, CR and ESC, plus 0x7F.
    static func sniff(_ b: [UInt8], file: String) throws {
        if b.starts(with: [0xFF, 0xFE, 0, 0]) { throw DocumentError.unsupportedEncoding(file: file, found: "UTF-32LE (byte-order mark FF FE 00 00)") }
        if b.starts(with: [0, 0, 0xFE, 0xFF]) { throw DocumentError.unsupportedEncoding(file: file, found: "UTF-32BE (byte-order mark 00 00 FE FF)") }
        if b.starts(with: [0xFF, 0xFE]) { throw DocumentError.unsupportedEncoding(file: file, found: "UTF-16LE (byte-order mark FF FE)") }
        if b.starts(with: [0xFE, 0xFF]) { throw DocumentError.unsupportedEncoding(file: file, found: "UTF-16BE (byte-order mark FE FF)") }
        if let nul = b.firstIndex(of: 0) {
            throw DocumentError.binary(file: file, reason: "NUL byte at offset \(nul)")
        }
        var controls = 0
        for c in b where c == 0x7F || (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0B && c != 0x0C && c != 0x0D && c != 0x1B) {
            controls += 1
        }
        if controls * 10 > b.count {
            throw DocumentError.binary(file: file, reason: "\(controls) control bytes in the first \(b.count) bytes")
        }
    }

    /// Strips a UTF-8 byte-order mark and turns CRLF and lone CR into LF.
    ///
    /// - Returns: the normalized bytes, whether a BOM was present, and the original line ending.
    /// - Complexity: O(n).
    static func normalize(_ text: String) -> (bytes: [UInt8], hadBOM: Bool, lineEnding: LineEnding) {
        var src = Array(text.utf8)
        let hadBOM = src.starts(with: [0xEF, 0xBB, 0xBF])
        if hadBOM { src.removeFirst(3) }
        var out = [UInt8]()
        out.reserveCapacity(src.count)
        var lf = 0, crlf = 0, cr = 0
        var i = 0
        let n = src.count
        while i < n {
            let c = src[i]
            if c == 0x0D {
                if i + 1 < n, src[i + 1] == 0x0A { crlf += 1; i += 1 } else { cr += 1 }
                out.append(0x0A)
            } else {
                if c == 0x0A { lf += 1 }
                out.append(c)
            }
            i += 1
        }
        let kinds = [(lf, LineEnding.lf), (crlf, .crlf), (cr, .cr)].filter { $0.0 > 0 }
        let ending: LineEnding = kinds.isEmpty ? .none : (kinds.count == 1 ? kinds[0].1 : .mixed)
        return (out, hadBOM, ending)
    }
}

/// Line start offsets of a normalized (LF-only) UTF-8 buffer, with cheap per-line helpers.
struct LineTable {
    let bytes: [UInt8]
    /// `starts[i]` is the byte offset of line i; `starts[count]` is `bytes.count + 1` (a virtual end).
    let starts: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        bytes.withUnsafeBufferPointer { b in  // a raw loop: enumerated() is ~10x slower in debug builds
            var i = 0
            while i < b.count {
                if b[i] == 0x0A { starts.append(i + 1) }
                i += 1
            }
        }
        starts.append(bytes.count + 1)
        self.starts = starts
    }

    var count: Int { starts.count - 1 }
    /// Byte range of line i without its LF.
    func range(_ i: Int) -> Range<Int> { starts[i] ..< (starts[i + 1] - 1) }

    /// Byte range of line i without leading and trailing spaces and tabs.
    func trimmedRange(_ i: Int) -> Range<Int> {
        var r = range(i)
        while let f = r.first, bytes[f] == 0x20 || bytes[f] == 0x09 { r = (f + 1) ..< r.upperBound }
        while let l = r.last, bytes[l] == 0x20 || bytes[l] == 0x09 { r = r.lowerBound ..< l }
        return r
    }

    func isBlank(_ i: Int) -> Bool { trimmedRange(i).isEmpty }
    func string(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
    func trimmed(_ i: Int) -> String { string(trimmedRange(i)) }
}
