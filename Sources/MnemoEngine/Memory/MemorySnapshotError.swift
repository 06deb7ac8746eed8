import Foundation

/// Everything that can go wrong saving or loading a memory snapshot (`MemoryState.save(to:)`,
/// `MemoryModel.loadState(from:)`); `"\(error)"` is one line naming the file and what differs.
public enum MemorySnapshotError: Error, Equatable, CustomStringConvertible, LocalizedError, Sendable {
    /// The snapshot was made with another model: `detail` names the first differing property
    /// (or says the weights differ), with both model checksums.
    case modelMismatch(snapshot: String, detail: String)
    /// The snapshot was made with another plan: `path` is the first differing plan key.
    case planMismatch(snapshot: String, path: String, saved: String, current: String)
    /// A format this build does not read (another `format` name or a newer `formatVersion`).
    case unsupportedFormat(file: String, found: String, expected: String)
    /// A file of the snapshot is missing, truncated or corrupt, or the manifest is inconsistent.
    case corrupt(file: String, detail: String)
    /// The file system failed while saving (the previous snapshot, if any, is kept).
    case io(file: String, detail: String)
    /// The state cannot be saved now (e.g. `detail`: a store of an unexpected shape).
    case unsavableState(detail: String)

    public var description: String {
        switch self {
        case let .modelMismatch(snapshot, detail):
            return "memory snapshot \(snapshot) was made with another model: \(detail)"
        case let .planMismatch(snapshot, path, saved, current):
            return "memory snapshot \(snapshot) was made with another plan: \(path) is \(saved) in the snapshot, \(current) in the current plan"
        case let .unsupportedFormat(file, found, expected):
            return "\(file): unsupported memory snapshot format \(found), expected \(expected)"
        case let .corrupt(file, detail):
            return "corrupt memory snapshot file \(file): \(detail)"
        case let .io(file, detail):
            return "\(file): \(detail)"
        case let .unsavableState(detail):
            return "cannot save the memory state: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
