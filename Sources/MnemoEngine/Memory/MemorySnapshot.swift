// MemorySnapshot: the directory a MemoryState is saved to, written atomically and read back with
// every file's size and SHA-256 checked before any byte is parsed.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing memory snapshot directories (see `MemoryState.save(to:textChecksum:pendingTokens:)`
/// and `MemoryModel.loadState(from:)` for the state itself).
///
/// **Atomicity** (as `IndexSnapshot`): every file is written and fsynced into a fresh temporary
/// sibling directory `.<name>.tmp-<uuid>`, whose directories are fsynced too; then an existing target
/// is renamed to `<name>.backup`, the temporary directory is renamed to the target, the parent
/// directory is fsynced and the backup removed. A crash while writing leaves the target untouched (and
/// a stale temporary directory the next save removes); a crash between the two renames leaves no
/// target but a complete `<name>.backup`, which loading falls back to.
public enum MemorySnapshot {
    /// Points during a save where a test injects a failure (a simulated kill).
    enum SaveStage: Equatable {
        case wroteFile(String)
        case movedOldAside
        case movedNewIntoPlace
    }

    /// The text checksum `mnemo index` records: `"sha256:<hex>"` of a file's bytes (as `sha256sum` prints).
    public static func textChecksum(of bytes: Data) -> String { SHA256.tagged(bytes) }

    /// Reads and checks a snapshot's manifest (format, version, its own checksum) without loading
    /// the rest: e.g. to learn the plan and model a snapshot needs.
    /// - Throws: `MemorySnapshotError.corrupt` / `.unsupportedFormat` naming `manifest.json`.
    public static func readManifest(at directory: URL) throws -> MemorySnapshotManifest {
        try readManifest(in: resolve(directory), read: readFile).manifest
    }

    // MARK: - Writing

    /// Creates the temporary directory, lets `body` write the data files into it (returning the
    /// manifest without `files`), checksums every file, writes the manifest, and swaps it into place.
    static func writeAtomically(to url: URL, faultInjection: ((SaveStage) throws -> Void)?,
                                body: (URL) throws -> MemorySnapshotManifest) throws {
        let fm = FileManager.default
        let target = url.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        let backup = parent.appendingPathComponent(name + ".backup")
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw MemorySnapshotError.io(file: parent.path, detail: "cannot create directory: \(error.localizedDescription)")
        }
        try checkReplaceable(target)
        removeStaleTemporaries(in: parent, name: name)
        let temporary = parent.appendingPathComponent(".\(name).tmp-\(UUID().uuidString)")
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: false) } catch {
            throw MemorySnapshotError.io(file: temporary.path, detail: "cannot create directory: \(error.localizedDescription)")
        }
        do {
            var manifest = try body(temporary)
            manifest.files = try listFiles(in: temporary)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let bytes: Data
            do { bytes = try encoder.encode(manifest) } catch {
                throw MemorySnapshotError.unsavableState(detail: "cannot encode the manifest: \(error)")
            }
            try write(bytes, to: temporary.appendingPathComponent(SnapshotLayout.manifest))
            try faultInjection?(.wroteFile(SnapshotLayout.manifest))
            try write(Data((SHA256.tagged(bytes) + "\n").utf8), to: temporary.appendingPathComponent(SnapshotLayout.manifestChecksum))
            try faultInjection?(.wroteFile(SnapshotLayout.manifestChecksum))
            try syncDirectories(under: temporary)
        } catch {
            try? fm.removeItem(at: temporary)  // best-effort cleanup; the original error is rethrown
            throw error
        }
        if fm.fileExists(atPath: backup.path), fm.fileExists(atPath: target.path) {
            // A backup next to a target is stale (a crash after the swap); without a target it is
            // the only complete snapshot, so it stays until the new one is in place.
            try remove(backup)
        }
        if fm.fileExists(atPath: target.path) {
            try rename(target, to: backup)
            try faultInjection?(.movedOldAside)
        }
        try rename(temporary, to: target)
        syncDirectory(parent)
        try faultInjection?(.movedNewIntoPlace)
        if fm.fileExists(atPath: backup.path) { try remove(backup) }
    }

    /// Refuses to replace anything but a memory snapshot or an empty directory: a mistyped `--out`
    /// must not delete a user's folder.
    private static func checkReplaceable(_ target: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: target.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw MemorySnapshotError.io(file: target.path, detail: "exists and is a file, not a memory snapshot directory; refusing to replace it")
        }
        let items: [String]
        do { items = try fm.contentsOfDirectory(atPath: target.path) } catch {
            throw MemorySnapshotError.io(file: target.path, detail: "cannot list: \(error.localizedDescription)")
        }
        if items.isEmpty || items.contains(SnapshotLayout.manifestChecksum) { return }
        let manifest = target.appendingPathComponent(SnapshotLayout.manifest)
        // An unreadable manifest counts as "not a snapshot": the safe answer is to refuse.
        if let head = FileHandle(forReadingAtPath: manifest.path).flatMap({ try? $0.read(upToCount: 16 << 20) }),
           String(decoding: head, as: UTF8.self).contains("\"\(MemorySnapshotManifest.formatName)\"") {
            return
        }
        throw MemorySnapshotError.io(file: target.path, detail: "exists and is not a memory snapshot (no \(SnapshotLayout.manifestChecksum)); refusing to replace it")
    }

    /// Writes `data` to a new file and fsyncs it.
    static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url)
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }  // close errors after a successful fsync are not data loss
            try handle.synchronize()
        } catch {
            throw MemorySnapshotError.io(file: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Every regular file under `root` except the manifest and its checksum, sorted, with size and SHA-256.
    private static func listFiles(in root: URL) throws -> [MemorySnapshotManifest.File] {
        var paths: [String] = []
        func walk(_ relative: String) throws {
            let url = relative.isEmpty ? root : root.appendingPathComponent(relative)
            let items: [String]
            do { items = try FileManager.default.contentsOfDirectory(atPath: url.path) } catch {
                throw MemorySnapshotError.io(file: url.path, detail: "cannot list: \(error.localizedDescription)")
            }
            for item in items.sorted() {
                let path = relative.isEmpty ? item : relative + "/" + item
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory)
                if isDirectory.boolValue { try walk(path) } else { paths.append(path) }
            }
        }
        try walk("")
        return try paths.sorted().map { path in
            let url = root.appendingPathComponent(path)
            let bytes: Data
            do { bytes = try Data(contentsOf: url) } catch {
                throw MemorySnapshotError.io(file: url.path, detail: "cannot read back: \(error.localizedDescription)")
            }
            return .init(path: path, bytes: bytes.count, sha256: SHA256.tagged(bytes))
        }
    }

    // MARK: - Reading

    /// The snapshot directory to read: `url`, or its `.backup` after a save interrupted between renames.
    static func resolve(_ url: URL) -> URL {
        let directory = url.standardizedFileURL
        let backup = directory.deletingLastPathComponent().appendingPathComponent(directory.lastPathComponent + ".backup")
        let fm = FileManager.default
        return !fm.fileExists(atPath: directory.path) && fm.fileExists(atPath: backup.path) ? backup : directory
    }

    /// Reads `manifest.json`, checks it against `manifest.sha256`, decodes it and checks format and version.
    static func readManifest(in directory: URL, read: (URL) throws -> Data) throws -> (manifest: MemorySnapshotManifest, path: String) {
        let manifestURL = directory.appendingPathComponent(SnapshotLayout.manifest)
        let checksumURL = directory.appendingPathComponent(SnapshotLayout.manifestChecksum)
        let bytes = try read(manifestURL)
        let recorded = String(decoding: try read(checksumURL), as: UTF8.self)
        let actual = SHA256.tagged(bytes)
        guard recorded == actual + "\n" else {
            throw MemorySnapshotError.corrupt(file: manifestURL.path,
                                              detail: "SHA-256 \(actual) does not match \(SnapshotLayout.manifestChecksum) (\(oneLine(recorded, limit: 80)))")
        }
        let manifest: MemorySnapshotManifest
        do { manifest = try JSONDecoder().decode(MemorySnapshotManifest.self, from: bytes) } catch {
            throw MemorySnapshotError.corrupt(file: manifestURL.path, detail: "not a valid manifest: \(oneLine("\(error)", limit: 300))")
        }
        guard manifest.format == MemorySnapshotManifest.formatName else {
            throw MemorySnapshotError.unsupportedFormat(file: manifestURL.path, found: "'\(manifest.format)'",
                                                        expected: "'\(MemorySnapshotManifest.formatName)'")
        }
        guard manifest.formatVersion == MemorySnapshotManifest.currentVersion else {
            throw MemorySnapshotError.unsupportedFormat(file: manifestURL.path, found: "version \(manifest.formatVersion)",
                                                        expected: "version \(MemorySnapshotManifest.currentVersion)")
        }
        return (manifest, manifestURL.path)
    }

    /// Checks every listed file's path, size and SHA-256 — sizes of all files first (`size`, no
    /// reading), so a truncation is found without hashing — and returns the contents of the
    /// top-level files by name (store files are read, hashed and dropped: memory stays bounded by
    /// the window files plus the largest store file).
    static func verifyFiles(_ manifest: MemorySnapshotManifest, in directory: URL, manifestPath: String,
                            read: (URL) throws -> Data, size: (URL) throws -> Int) throws -> [String: Data] {
        var seen = Set<String>()
        for file in manifest.files {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 3, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }), seen.insert(file.path).inserted,
                  file.path != SnapshotLayout.manifest, file.path != SnapshotLayout.manifestChecksum else {
                throw MemorySnapshotError.corrupt(file: manifestPath, detail: "file path '\(file.path)' must be a new relative path of plain names")
            }
        }
        for required in [SnapshotLayout.window, SnapshotLayout.positions, SnapshotLayout.hidden, SnapshotLayout.memory]
        where !seen.contains(required) {
            throw MemorySnapshotError.corrupt(file: manifestPath, detail: "file \(required) is not listed")
        }
        for file in manifest.files {
            let url = directory.appendingPathComponent(file.path)
            let bytes = try size(url)
            guard bytes == file.bytes else {
                throw MemorySnapshotError.corrupt(file: url.path, detail: "expected \(file.bytes) bytes, found \(bytes)")
            }
        }
        var contents: [String: Data] = [:]
        for file in manifest.files {
            let url = directory.appendingPathComponent(file.path)
            let bytes = try read(url)
            guard bytes.count == file.bytes else {  // changed since its size was checked
                throw MemorySnapshotError.corrupt(file: url.path, detail: "expected \(file.bytes) bytes, found \(bytes.count)")
            }
            let actual = SHA256.tagged(bytes)
            guard actual == file.sha256 else {
                throw MemorySnapshotError.corrupt(file: url.path, detail: "SHA-256 \(actual) does not match the manifest's \(oneLine(file.sha256, limit: 80))")
            }
            if !file.path.contains("/") { contents[file.path] = bytes }
        }
        return contents
    }

    /// A file's size in bytes.
    static func fileSize(_ url: URL) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            guard let size = attributes[.size] as? NSNumber else {
                throw MemorySnapshotError.corrupt(file: url.path, detail: "no size")
            }
            return size.intValue
        } catch let error as MemorySnapshotError {
            throw error
        } catch {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "missing or unreadable: \(error.localizedDescription)")
        }
    }

    /// Reads a whole file.
    static func readFile(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "missing or unreadable: \(error.localizedDescription)")
        }
    }

    // MARK: - File system helpers

    private static func rename(_ from: URL, to: URL) throws {
        do { try FileManager.default.moveItem(at: from, to: to) } catch {
            throw MemorySnapshotError.io(file: from.path, detail: "cannot rename to \(to.path): \(error.localizedDescription)")
        }
    }

    private static func remove(_ url: URL) throws {
        do { try FileManager.default.removeItem(at: url) } catch {
            throw MemorySnapshotError.io(file: url.path, detail: "cannot remove: \(error.localizedDescription)")
        }
    }

    /// Removes `.<name>.tmp-*` directories left by interrupted saves.
    private static func removeStaleTemporaries(in parent: URL, name: String) {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }  // nothing to clean
        for item in items where item.hasPrefix(".\(name).tmp-") {
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(item))  // best effort
        }
    }

    /// fsyncs `root` and every directory below it, so the new names survive a power loss.
    private static func syncDirectories(under root: URL) throws {
        var isDirectory: ObjCBool = false
        let items: [String]
        do { items = try FileManager.default.contentsOfDirectory(atPath: root.path) } catch {
            throw MemorySnapshotError.io(file: root.path, detail: "cannot list: \(error.localizedDescription)")
        }
        for item in items {
            let url = root.appendingPathComponent(item)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                try syncDirectories(under: url)
            }
        }
        syncDirectory(root)
    }

    /// fsync on a directory (best effort: some file systems refuse it, and nothing is lost by that
    /// beyond durability across a power loss).
    private static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    static func oneLine(_ text: String, limit: Int) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }
}
