// IndexSnapshot: atomic save/load of a ShardedVectorStore (FAISS shards + values + manifest).
import Foundation

/// Saves and loads a `ShardedVectorStore` as a directory:
///
/// ```
/// store.mnemoindex/
///   manifest.json        format version, configuration, ids, shards, per-file size + CRC32
///   template.faiss       the empty (trained) index new shards are copied from
///   shard-<i>.faiss      each shard's FAISS index (faiss::write_index bytes)
///   shard-<i>.values     each shard's positions (Int64 LE) then values (f32/f16 LE)
/// ```
/// ```swift
/// try IndexSnapshot.save(store, to: url)
/// let restored = try IndexSnapshot.load(from: url)
/// ```
/// Atomicity: every file is written and fsynced into a fresh temporary directory next to the
/// target (`.<name>.tmp-<uuid>`); then an existing target is renamed to `<name>.backup`, the
/// temporary directory is renamed to the target, and the backup is removed. Crash states:
/// - during the writes: the target is untouched; a stale `.tmp-` directory is left (removed by
///   the next save);
/// - between the two renames: the target is missing and `<name>.backup` holds the previous
///   complete snapshot; `load(from:)` falls back to it;
/// - before the backup is removed: the target is the new complete snapshot; the stale backup
///   is removed by the next save.
/// Loading checks every file's size and CRC32 against the manifest before any byte reaches
/// FAISS's reader (which trusts sizes inside the stream), then checks the FAISS indexes
/// against the manifest: a truncated or corrupt file throws `.corruptSnapshot`, never traps.
public enum IndexSnapshot {
    /// Current manifest format version.
    public static let formatVersion = 1
    static let formatName = "mnemo-vector-store"
    static let manifestName = "manifest.json"
    static let templateName = "template.faiss"

    struct FileEntry: Codable, Equatable {
        var name: String
        var bytes: Int
        var crc32: UInt32
    }

    struct ShardEntry: Codable, Equatable {
        var firstID: Int64
        var count: Int
        var indexFile: String
        var valuesFile: String
    }

    struct Manifest: Codable, Equatable {
        var format: String
        var formatVersion: Int
        var configuration: VectorStoreConfiguration
        var nextID: Int64
        var storedCount: Int
        var templateFile: String
        var shards: [ShardEntry]
        var files: [FileEntry]
    }

    /// Points during a save where a test can inject a failure (a simulated crash).
    enum SaveStage: Equatable {
        case wroteFile(String)
        case movedOldAside
        case movedNewIntoPlace
    }

    /// Saves `store` to the directory `url`, atomically replacing any snapshot there.
    /// - Throws: `.io` naming the file when the file system fails.
    public static func save(_ store: ShardedVectorStore, to url: URL) throws {
        try save(store, to: url, faultInjection: nil)
    }

    static func save(_ store: ShardedVectorStore, to url: URL, faultInjection: ((SaveStage) throws -> Void)?) throws {
        // 1. Serialize everything under the store's read lock (a consistent view).
        var files: [(String, [UInt8])] = []
        var shardEntries: [ShardEntry] = []
        let (configuration, nextID) = try store.lock.reading { () throws -> (VectorStoreConfiguration, Int64) in
            files.append((templateName, try store.template.serialized()))
            for (i, shard) in store.shards.enumerated() {
                let entry = ShardEntry(firstID: shard.firstID, count: shard.count,
                                       indexFile: "shard-\(i).faiss", valuesFile: "shard-\(i).values")
                shardEntries.append(entry)
                files.append((entry.indexFile, try shard.index.serialized()))
                files.append((entry.valuesFile, shard.records.serialized()))
            }
            return (store.configuration, store.next)
        }
        let manifest = Manifest(
            format: formatName, formatVersion: formatVersion, configuration: configuration, nextID: nextID,
            storedCount: shardEntries.reduce(0) { $0 + $1.count }, templateFile: templateName, shards: shardEntries,
            files: files.map { FileEntry(name: $0.0, bytes: $0.1.count, crc32: CRC32.checksum($0.1)) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestBytes: Data
        do { manifestBytes = try encoder.encode(manifest) } catch {
            throw VectorIndexError.io(file: manifestName, detail: "cannot encode manifest: \(error)")
        }

        // 2. Write into a temporary sibling directory.
        let fm = FileManager.default
        let target = url.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        let backup = parent.appendingPathComponent(name + ".backup")
        removeStaleTemporaries(in: parent, name: name)
        let temporary = parent.appendingPathComponent(".\(name).tmp-\(UUID().uuidString)")
        do { try fm.createDirectory(at: temporary, withIntermediateDirectories: true) } catch {
            throw VectorIndexError.io(file: temporary.path, detail: "cannot create directory: \(error.localizedDescription)")
        }
        do {
            for (fileName, bytes) in files {
                try write(Data(bytes), to: temporary.appendingPathComponent(fileName))
                try faultInjection?(.wroteFile(fileName))
            }
            try write(manifestBytes, to: temporary.appendingPathComponent(manifestName))
            try faultInjection?(.wroteFile(manifestName))
        } catch {
            try? fm.removeItem(at: temporary)  // best-effort cleanup; the original error is rethrown
            throw error
        }

        // 3. Swap: target -> backup, temporary -> target, drop backup.
        if fm.fileExists(atPath: backup.path) {
            // A backup next to an existing target is stale (a crash after step 3b); without a
            // target it is the only complete snapshot, so keep it until the new one is in place.
            if fm.fileExists(atPath: target.path) { try remove(backup) }
        }
        if fm.fileExists(atPath: target.path) {
            try rename(target, to: backup)
            try faultInjection?(.movedOldAside)
        }
        try rename(temporary, to: target)
        try faultInjection?(.movedNewIntoPlace)
        if fm.fileExists(atPath: backup.path) { try remove(backup) }
    }

    /// Loads a snapshot saved by `save(_:to:)` (or, if `url` is missing after an interrupted
    /// save, its `<name>.backup`).
    /// - Throws: `.corruptSnapshot(file:detail:)` for a missing, truncated or corrupt file or an
    ///   inconsistent manifest.
    public static func load(from url: URL) throws -> ShardedVectorStore {
        try load(from: url, read: read)
    }

    /// `load(from:)` with the file reader injectable (tests cut files in memory).
    static func load(from url: URL, read: (URL) throws -> Data) throws -> ShardedVectorStore {
        var directory = url.standardizedFileURL
        let backup = directory.deletingLastPathComponent().appendingPathComponent(directory.lastPathComponent + ".backup")
        if !FileManager.default.fileExists(atPath: directory.path) && FileManager.default.fileExists(atPath: backup.path) {
            directory = backup
        }
        let manifestBytes = try read(directory.appendingPathComponent(manifestName))
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: manifestBytes) } catch {
            throw VectorIndexError.corruptSnapshot(file: directory.appendingPathComponent(manifestName).path,
                                                   detail: "not a valid manifest: \(oneLine(error))")
        }
        let manifestPath = directory.appendingPathComponent(manifestName).path
        try checkManifest(manifest, path: manifestPath)

        // Every file: exact size and CRC32 before parsing.
        var contents: [String: [UInt8]] = [:]
        for entry in manifest.files {
            let path = directory.appendingPathComponent(entry.name)
            let bytes = [UInt8](try read(path))
            guard bytes.count == entry.bytes else {
                throw VectorIndexError.corruptSnapshot(file: path.path, detail: "expected \(entry.bytes) bytes, found \(bytes.count)")
            }
            let crc = CRC32.checksum(bytes)
            guard crc == entry.crc32 else {
                throw VectorIndexError.corruptSnapshot(file: path.path, detail: "CRC32 \(hex(crc)) does not match the manifest's \(hex(entry.crc32))")
            }
            contents[entry.name] = bytes
        }
        func bytes(_ name: String) throws -> [UInt8] {
            guard let b = contents[name] else {
                throw VectorIndexError.corruptSnapshot(file: manifestPath, detail: "file \(name) is not listed with a checksum")
            }
            return b
        }

        let config = manifest.configuration
        let template = try FaissIndex.deserialize(try bytes(manifest.templateFile), description: config.indexDescription,
                                                  metric: config.metric, dimension: config.dimension,
                                                  file: directory.appendingPathComponent(manifest.templateFile).path)
        guard template.count == 0 else {
            throw VectorIndexError.corruptSnapshot(file: directory.appendingPathComponent(manifest.templateFile).path,
                                                   detail: "template index holds \(template.count) vectors, expected 0")
        }
        if let ef = config.efSearch { try template.setSearchParameter(.efSearch, ef) }
        if let nprobe = config.nprobe { try template.setSearchParameter(.nprobe, nprobe) }
        var shards: [ShardedVectorStore.Shard] = []
        for entry in manifest.shards {
            let indexPath = directory.appendingPathComponent(entry.indexFile).path
            let index = try FaissIndex.deserialize(try bytes(entry.indexFile), description: config.indexDescription,
                                                   metric: config.metric, dimension: config.dimension, file: indexPath)
            guard index.count == entry.count else {
                throw VectorIndexError.corruptSnapshot(file: indexPath, detail: "index holds \(index.count) vectors, manifest says \(entry.count)")
            }
            if let ef = config.efSearch { try index.setSearchParameter(.efSearch, ef) }
            if let nprobe = config.nprobe { try index.setSearchParameter(.nprobe, nprobe) }
            let records = try ShardRecords(bytes: try bytes(entry.valuesFile), count: entry.count,
                                           valueDimension: config.valueDimension, precision: config.valuePrecision,
                                           capacity: config.shardCapacity,
                                           file: directory.appendingPathComponent(entry.valuesFile).path)
            shards.append(.init(firstID: entry.firstID, index: index, records: records))
        }
        return ShardedVectorStore(configuration: config, template: template, shards: shards, nextID: manifest.nextID)
    }

    // MARK: - Helpers

    /// Structural checks: format, version, configuration, contiguous shards.
    private static func checkManifest(_ m: Manifest, path: String) throws {
        func bad(_ detail: String) -> VectorIndexError { .corruptSnapshot(file: path, detail: detail) }
        guard m.format == formatName else { throw bad("format '\(m.format)', expected '\(formatName)'") }
        guard m.formatVersion == formatVersion else { throw bad("format version \(m.formatVersion), expected \(formatVersion)") }
        // Bounds dimensions, capacity and shard count, so the size arithmetic below cannot overflow.
        do { try m.configuration.validate() } catch { throw bad("invalid configuration: \(error)") }
        let shardCapacity = m.configuration.shardCapacity
        guard m.shards.count <= m.configuration.shardCount + 1 else {
            throw bad("\(m.shards.count) shards, at most \(m.configuration.shardCount + 1) allowed")
        }
        guard m.nextID >= 0 else { throw bad("nextID \(m.nextID) is negative") }
        var expectedFirst = m.shards.first?.firstID ?? m.nextID
        guard expectedFirst >= 0 else { throw bad("shards[0].firstID \(expectedFirst) is negative") }
        var total = 0
        for (i, shard) in m.shards.enumerated() {
            guard shard.firstID == expectedFirst else { throw bad("shards[\(i)].firstID \(shard.firstID), expected \(expectedFirst)") }
            let isLast = i == m.shards.count - 1
            guard shard.count <= shardCapacity, shard.count > 0, isLast || shard.count == shardCapacity else {
                throw bad("shards[\(i)].count \(shard.count), shard capacity is \(shardCapacity)")
            }
            let (end, overflow) = expectedFirst.addingReportingOverflow(Int64(shard.count))
            guard !overflow else { throw bad("shards[\(i)].firstID \(shard.firstID) + count \(shard.count) overflows Int64") }
            expectedFirst = end
            total += shard.count  // at most (Int32.max + 1) * Int32.max: no overflow
        }
        guard expectedFirst == m.nextID else { throw bad("nextID \(m.nextID), shards end at \(expectedFirst)") }
        guard m.storedCount == total else { throw bad("storedCount \(m.storedCount) does not match the shards' \(total)") }
        let names = Set(m.files.map(\.name))
        for name in [m.templateFile] + m.shards.flatMap({ [$0.indexFile, $0.valuesFile] }) where !names.contains(name) {
            throw bad("file \(name) is not listed with a checksum")
        }
        for name in names where name.contains("/") || name.hasPrefix(".") {
            throw bad("file name '\(name)' must be a plain name inside the snapshot")
        }
    }

    private static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url)
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }  // close errors after a successful fsync are not data loss
            try handle.synchronize()
        } catch {
            throw VectorIndexError.io(file: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    private static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw VectorIndexError.corruptSnapshot(file: url.path, detail: "missing or unreadable: \(error.localizedDescription)")
        }
    }

    private static func rename(_ from: URL, to: URL) throws {
        do { try FileManager.default.moveItem(at: from, to: to) } catch {
            throw VectorIndexError.io(file: from.path, detail: "cannot rename to \(to.path): \(error.localizedDescription)")
        }
    }

    private static func remove(_ url: URL) throws {
        do { try FileManager.default.removeItem(at: url) } catch {
            throw VectorIndexError.io(file: url.path, detail: "cannot remove: \(error.localizedDescription)")
        }
    }

    /// Removes `.<name>.tmp-*` directories left by interrupted saves.
    private static func removeStaleTemporaries(in parent: URL, name: String) {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for item in items where item.hasPrefix(".\(name).tmp-") {
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(item))  // best effort
        }
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    private static func oneLine(_ error: Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
