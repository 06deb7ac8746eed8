import Foundation

/// A read past the end of the data, found by `ByteReader`.
///
/// Format readers catch it and rethrow it as their own domain error (`GGUFError.truncated`, ...)
/// so callers see one error type per format.
public struct ByteReaderOverrun: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Offset the read started at.
    public let offset: Int
    /// Bytes the read needed (may be huge when a length field is corrupt).
    public let needed: UInt64
    /// Bytes that remained at `offset`.
    public let available: Int
    /// What was being read (e.g. "string length", "tensor name").
    public let what: String

    public var description: String {
        "truncated at offset \(offset) reading \(what): needs \(needed) bytes, only \(available) remain"
    }

    public var errorDescription: String? { description }
}

/// A bounds-checked little-endian cursor over bytes (usually a `MappedFile`).
///
/// Every read checks `offset + needed <= count` (without overflow) before touching memory and
/// throws `ByteReaderOverrun` otherwise.
///
/// ```swift
/// var reader = ByteReader(base: file.base, count: file.count)
/// let n = try reader.readUInt64("tensor count")
/// let name = try reader.readString(lengthBytes: 8, "tensor name")
/// ```
public struct ByteReader {
    /// Start of the bytes; valid for `count` bytes while the owner is alive.
    public let base: UnsafeRawPointer
    /// Total number of readable bytes.
    public let count: Int
    /// Current read position.
    public var offset: Int

    /// Creates a reader at `offset` over `count` bytes at `base`.
    public init(base: UnsafeRawPointer, count: Int, offset: Int = 0) {
        self.base = base
        self.count = count
        self.offset = offset
    }

    /// Creates a reader over a whole mapped file.
    public init(_ file: MappedFile, offset: Int = 0) {
        self.init(base: file.base, count: file.count, offset: offset)
    }

    /// Bytes left after `offset`.
    public var remaining: Int { count - offset }

    /// Throws unless `needed` bytes remain; `needed` may be any 64-bit value (no overflow).
    /// - Complexity: O(1).
    @inline(__always)
    public func require(_ needed: UInt64, _ what: @autoclosure () -> String) throws(ByteReaderOverrun) {
        if offset < 0 || offset > count || needed > UInt64(count - offset) {
            throw ByteReaderOverrun(offset: offset, needed: needed, available: max(0, count - offset), what: what())
        }
    }

    /// Returns a pointer to the next `byteCount` bytes and advances past them.
    /// - Throws: `ByteReaderOverrun` when fewer bytes remain.
    public mutating func readBytes(_ byteCount: UInt64, _ what: @autoclosure () -> String) throws(ByteReaderOverrun) -> UnsafeRawBufferPointer {
        try require(byteCount, what())
        let start = base + offset
        offset += Int(byteCount)
        return UnsafeRawBufferPointer(start: start, count: Int(byteCount))
    }

    /// Skips `byteCount` bytes.
    public mutating func skip(_ byteCount: UInt64, _ what: @autoclosure () -> String) throws(ByteReaderOverrun) {
        try require(byteCount, what())
        offset += Int(byteCount)
    }

    @inline(__always)
    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(ByteReaderOverrun) -> T {
        try require(UInt64(MemoryLayout<T>.size), what())
        let value = T(littleEndian: (base + offset).loadUnaligned(as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    public mutating func readUInt8(_ what: @autoclosure () -> String = "uint8") throws(ByteReaderOverrun) -> UInt8 { try load(UInt8.self, what()) }
    public mutating func readInt8(_ what: @autoclosure () -> String = "int8") throws(ByteReaderOverrun) -> Int8 { try load(Int8.self, what()) }
    public mutating func readUInt16(_ what: @autoclosure () -> String = "uint16") throws(ByteReaderOverrun) -> UInt16 { try load(UInt16.self, what()) }
    public mutating func readInt16(_ what: @autoclosure () -> String = "int16") throws(ByteReaderOverrun) -> Int16 { try load(Int16.self, what()) }
    public mutating func readUInt32(_ what: @autoclosure () -> String = "uint32") throws(ByteReaderOverrun) -> UInt32 { try load(UInt32.self, what()) }
    public mutating func readInt32(_ what: @autoclosure () -> String = "int32") throws(ByteReaderOverrun) -> Int32 { try load(Int32.self, what()) }
    public mutating func readUInt64(_ what: @autoclosure () -> String = "uint64") throws(ByteReaderOverrun) -> UInt64 { try load(UInt64.self, what()) }
    public mutating func readInt64(_ what: @autoclosure () -> String = "int64") throws(ByteReaderOverrun) -> Int64 { try load(Int64.self, what()) }

    /// Reads a little-endian IEEE binary32.
    public mutating func readFloat32(_ what: @autoclosure () -> String = "float32") throws(ByteReaderOverrun) -> Float {
        Float(bitPattern: try load(UInt32.self, what()))
    }

    /// Reads a little-endian IEEE binary64.
    public mutating func readFloat64(_ what: @autoclosure () -> String = "float64") throws(ByteReaderOverrun) -> Double {
        Double(bitPattern: try load(UInt64.self, what()))
    }

    /// Reads `byteCount` bytes as UTF-8 (invalid sequences become U+FFFD).
    /// - Complexity: O(byteCount), one allocation (none for short strings).
    public mutating func readString(byteCount: UInt64, _ what: @autoclosure () -> String = "string") throws(ByteReaderOverrun) -> String {
        let bytes = try readBytes(byteCount, what())
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a string prefixed by its byte length as a little-endian `UInt64` (GGUF v2/v3).
    public mutating func readString64(_ what: @autoclosure () -> String = "string") throws(ByteReaderOverrun) -> String {
        let length = try readUInt64("length of \(what())")
        return try readString(byteCount: length, what())
    }
}
