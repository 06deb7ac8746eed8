#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a file could not be opened or mapped.
public enum MappedFileError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The path does not exist.
    case notFound(path: String)
    /// `open` or `fstat` failed (permissions, I/O error...).
    case unreadable(path: String, errno: Int32, reason: String)
    /// The path exists but is not a regular file (a directory, a device...).
    case notRegularFile(path: String)
    /// `mmap` failed.
    case mapFailed(path: String, bytes: Int, errno: Int32, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): file not found"
        case .unreadable(let path, let code, let reason):
            return "\(path): cannot read file (errno \(code): \(reason))"
        case .notRegularFile(let path):
            return "\(path): expected a regular file, found a directory or special file"
        case .mapFailed(let path, let bytes, let code, let reason):
            return "\(path): mmap of \(bytes) bytes failed (errno \(code): \(reason))"
        }
    }

    public var errorDescription: String? { description }
}

/// A read-only, memory-mapped file (`mmap` with `PROT_READ`, `MAP_PRIVATE`), unmapped on deinit.
///
/// ```swift
/// let file = try MappedFile(url: URL(fileURLWithPath: "model.gguf"))
/// var reader = ByteReader(file)
/// let magic = try reader.readUInt32()
/// ```
/// An empty file is valid: `count` is 0 and `base` points to a 1-byte dummy allocation.
public final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: the mapping is read-only and immutable for the object's lifetime;
    // `base`/`count` never change after init, so concurrent reads are safe.

    /// The file that was mapped.
    public let url: URL
    /// Start of the mapped bytes (valid for `count` bytes while `self` is alive).
    public let base: UnsafeRawPointer
    /// Size of the file in bytes.
    public let count: Int
    /// `true` when `base` came from `mmap` (false for an empty file).
    private let isMapped: Bool

    /// Maps `url` read-only.
    /// - Throws: `MappedFileError` naming the path when the file is missing, unreadable, not a
    ///   regular file, or cannot be mapped.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw MappedFileError.notFound(path: path) }
            throw MappedFileError.unreadable(path: path, errno: code, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let code = errno
            throw MappedFileError.unreadable(path: path, errno: code, reason: String(cString: strerror(code)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw MappedFileError.notRegularFile(path: path) }
        let size = Int(info.st_size)
        if size == 0 {
            // mmap of 0 bytes is an error; hand out a valid, never-read dummy pointer instead.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            count = 0
            isMapped = false
            return
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else {
            let code = errno
            throw MappedFileError.mapFailed(path: path, bytes: size, errno: code, reason: String(cString: strerror(code)))
        }
        base = UnsafeRawPointer(pointer)
        count = size
        isMapped = true
    }

    /// Wraps a private in-memory copy of `bytes` as if it had been mapped from `url` (which is only
    /// used in error messages). Useful for tests and for data that is already in memory.
    /// - Complexity: O(bytes.count) copy.
    public init(copying bytes: some Collection<UInt8>, url: URL) {
        self.url = url
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
            if let start = source.baseAddress { pointer.copyMemory(from: start, byteCount: source.count) }
        }
        if copied == nil {
            _ = UnsafeMutableRawBufferPointer(start: pointer, count: bytes.count).initializeMemory(as: UInt8.self, from: bytes)
        }
        base = UnsafeRawPointer(pointer)
        count = bytes.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// The file name, for error messages.
    public var name: String { url.lastPathComponent }
}
