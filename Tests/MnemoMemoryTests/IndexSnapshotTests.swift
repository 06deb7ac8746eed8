// IndexSnapshot: exact round trips, interrupted saves, and every truncation of every file.
import Foundation
import XCTest
@testable import MnemoMemory

final class IndexSnapshotTests: XCTestCase {
    private func makeStore(description: String, count: Int, seed: UInt64, precision: ValuePrecision = .f32,
                           retention: VectorStoreConfiguration.Retention = .exactNewest) throws -> ShardedVectorStore {
        var rng = SeededRNG(seed: seed)
        let d = 4
        var config = VectorStoreConfiguration(dimension: d, valueDimension: 2, valuePrecision: precision, indexDescription: description,
                                              capacity: 12, shardCount: 3, retention: retention)
        if description.hasPrefix("HNSW") { config.efSearch = 40 }
        if description.hasPrefix("IVF") { config.nprobe = 2 }
        let store = try ShardedVectorStore(config)
        if !store.isTrained { try store.train(TestData.gaussian(count: 200, dimension: d, rng: &rng)) }
        try store.append(keys: TestData.gaussian(count: count, dimension: d, rng: &rng),
                         values: TestData.gaussian(count: count, dimension: 2, rng: &rng),
                         positions: (0..<Int64(count)).map { $0 * 2 })
        return store
    }

    private func assertSameContents(_ a: ShardedVectorStore, _ b: ShardedVectorStore, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.configuration, b.configuration, file: file, line: line)
        XCTAssertEqual(a.nextID, b.nextID, file: file, line: line)
        XCTAssertEqual(a.retainedIDs, b.retainedIDs, file: file, line: line)
        XCTAssertEqual(a.storedCount, b.storedCount, file: file, line: line)
        for id in a.retainedIDs { XCTAssertEqual(try a.record(id: id), try b.record(id: id), file: file, line: line) }
        var rng = SeededRNG(seed: seed)
        let queries = TestData.gaussian(count: 10, dimension: 4, rng: &rng)
        XCTAssertEqual(try a.search(queries, k: 5), try b.search(queries, k: 5), file: file, line: line)
    }

    /// Save then load gives the same ids, records and search results, for every index type and
    /// value precision; both stores then evolve identically.
    func testRoundTripIsExact() throws {
        let dir = try temporaryDirectory(self)
        for (i, description) in ["Flat", "HNSW32", "IVF4,Flat", "SQ8"].enumerated() {
            for precision in ValuePrecision.allCases {
                let store = try makeStore(description: description, count: 23, seed: UInt64(i), precision: precision)
                let url = dir.appendingPathComponent("s\(i)\(precision).mnemoindex")
                try IndexSnapshot.save(store, to: url)
                let loaded = try IndexSnapshot.load(from: url)
                try assertSameContents(store, loaded, seed: 100)
                var rng = SeededRNG(seed: 77)
                let more = TestData.gaussian(count: 9, dimension: 4, rng: &rng)
                for s in [store, loaded] { try s.append(keys: more, values: [Float](repeating: 1, count: 18), positions: Array(repeating: 3, count: 9)) }
                try assertSameContents(store, loaded, seed: 101)
            }
        }
        // An empty store round-trips too.
        let empty = try ShardedVectorStore(.init(dimension: 4, valueDimension: 2, capacity: 4, shardCount: 2))
        try IndexSnapshot.save(empty, to: dir.appendingPathComponent("empty"))
        XCTAssertEqual(try IndexSnapshot.load(from: dir.appendingPathComponent("empty")).storedCount, 0)
    }

    /// A save that fails after writing some files ("killed half-way") leaves the previous
    /// snapshot in place and loadable; so does a crash between the two renames (load falls back
    /// to the backup); the next save cleans up.
    func testInterruptedSaveKeepsOldSnapshot() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("memory.mnemoindex")
        let old = try makeStore(description: "Flat", count: 10, seed: 1)
        let new = try makeStore(description: "Flat", count: 30, seed: 2)
        try IndexSnapshot.save(old, to: url)
        struct Crash: Error {}
        for stop in 1...4 {
            var written = 0
            XCTAssertThrowsError(try IndexSnapshot.save(new, to: url) { stage in
                if case .wroteFile = stage { written += 1; if written == stop { throw Crash() } }
            })
            try assertSameContents(try IndexSnapshot.load(from: url), old, seed: 5)
        }
        // Crash after the old snapshot was moved aside, before the new one is in place.
        XCTAssertThrowsError(try IndexSnapshot.save(new, to: url) { stage in if stage == .movedOldAside { throw Crash() } })
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        try assertSameContents(try IndexSnapshot.load(from: url), old, seed: 6)
    }

    func testCrashBeforeBackupRemovalLoadsNew() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("memory.mnemoindex")
        let old = try makeStore(description: "Flat", count: 10, seed: 1)
        let new = try makeStore(description: "Flat", count: 30, seed: 2)
        try IndexSnapshot.save(old, to: url)
        struct Crash: Error {}
        XCTAssertThrowsError(try IndexSnapshot.save(new, to: url) { stage in if stage == .movedNewIntoPlace { throw Crash() } })
        try assertSameContents(try IndexSnapshot.load(from: url), new, seed: 7)
        // The next save removes the stale backup and temporaries.
        try IndexSnapshot.save(old, to: url)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(leftovers, ["memory.mnemoindex"])
        try assertSameContents(try IndexSnapshot.load(from: url), old, seed: 8)
    }

    /// Every truncation of every saved file (all byte offsets) throws `.corruptSnapshot` naming
    /// that file; no cut traps.
    func testEveryTruncationThrows() throws {
        let dir = try temporaryDirectory(self)
        for description in ["Flat", "HNSW32", "IVF4,Flat"] {
            let url = dir.appendingPathComponent(description.replacingOccurrences(of: ",", with: "_"))
            try IndexSnapshot.save(try makeStore(description: description, count: 17, seed: 3), to: url)
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            XCTAssertEqual(names.count, 1 + 1 + 2 * 4, description)  // manifest, template, 4 shards x 2 (17 entries, 4 per shard, newest 4 shards kept)
            var files: [String: Data] = [:]
            for name in names { files[name] = try Data(contentsOf: url.appendingPathComponent(name)) }
            for name in names {
                let original = files[name] ?? Data()
                // Every byte offset for files up to 600 bytes, else ~600 evenly spaced cuts plus the last bytes.
                let step = max(1, original.count / 600)
                var cuts = Array(stride(from: 0, to: original.count, by: step))
                cuts.append(contentsOf: [original.count - 1, max(0, original.count - 2)])
                for cut in Set(cuts) {
                    // Read every file from memory, `name` cut at `cut` (no disk I/O per cut).
                    let reader: (URL) throws -> Data = { file in
                        let bytes = files[file.lastPathComponent] ?? Data()
                        return file.lastPathComponent == name ? bytes.prefix(cut) : bytes
                    }
                    do {
                        _ = try IndexSnapshot.load(from: url, read: reader)
                        XCTFail("\(description)/\(name) cut at \(cut) of \(original.count) loaded")
                    } catch let VectorIndexError.corruptSnapshot(file, _) {
                        XCTAssertEqual(URL(fileURLWithPath: file).lastPathComponent, name, "\(description) cut at \(cut)")
                    }
                }
            }
            XCTAssertNoThrow(try IndexSnapshot.load(from: url, read: { try Data(contentsOf: $0) }))
            XCTAssertNoThrow(try IndexSnapshot.load(from: url))
        }
    }

    /// A flipped byte in any data file fails its CRC32 check, with a one-line message.
    func testCorruptBytesFailChecksum() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("snap")
        try IndexSnapshot.save(try makeStore(description: "HNSW32", count: 17, seed: 4), to: url)
        for name in ["template.faiss", "shard-0.faiss", "shard-2.values"] {
            let path = url.appendingPathComponent(name)
            let original = try Data(contentsOf: path)
            for offset in stride(from: 0, to: original.count, by: max(1, original.count / 50)) {
                var bytes = original
                bytes[offset] ^= 0x5A
                try bytes.write(to: path)
                do {
                    _ = try IndexSnapshot.load(from: url)
                    XCTFail("\(name) flipped at \(offset) loaded")
                } catch let error as VectorIndexError {
                    XCTAssertTrue("\(error)".hasPrefix("corrupt snapshot file \(path.path): CRC32 0x"), "\(error)")
                }
            }
            try original.write(to: path)
        }
        XCTAssertNoThrow(try IndexSnapshot.load(from: url))
    }

    func testCRC32CheckValue() {
        // The standard CRC-32/ISO-HDLC check value (also zlib.crc32(b"123456789")).
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }

    /// manifest.json carries no checksum of its own: edited sizes and ids (the other files and
    /// their CRCs untouched) throw `.corruptSnapshot` naming manifest.json and the field; no
    /// size arithmetic traps and nothing huge is allocated.
    func testEditedManifestSizesThrow() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("snap")
        try IndexSnapshot.save(try makeStore(description: "Flat", count: 1, seed: 9), to: url)
        let manifestURL = url.appendingPathComponent(IndexSnapshot.manifestName)
        let original = try Data(contentsOf: manifestURL)
        func expectCorrupt(_ edit: (inout [String: Any]) throws -> Void, contains parts: [String], line: UInt = #line) throws {
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: original) as? [String: Any], line: line)
            try edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: manifestURL)
            do {
                _ = try IndexSnapshot.load(from: url)
                XCTFail("edited manifest loaded", line: line)
            } catch let VectorIndexError.corruptSnapshot(file, detail) {
                XCTAssertEqual(URL(fileURLWithPath: file).lastPathComponent, "manifest.json", line: line)
                for p in parts { XCTAssertTrue(detail.contains(p), "'\(detail)' lacks '\(p)'", line: line) }
            }
        }
        func setConfiguration(_ json: inout [String: Any], _ values: [String: Any]) throws {
            var config = try XCTUnwrap(json["configuration"] as? [String: Any])
            for (k, v) in values { config[k] = v }
            json["configuration"] = config
        }
        // (a) count * valueDimension * 4 would overflow.
        try expectCorrupt({ try setConfiguration(&$0, ["valueDimension": NSNumber(value: Int64(1) << 62)]) },
                          contains: ["valueDimension", "4611686018427387904"])
        try expectCorrupt({ try setConfiguration(&$0, ["dimension": 1 << 20]) }, contains: ["dimension", "1048576"])
        // (b) firstID + count would overflow Int64.
        try expectCorrupt({ json in
            var shards = try XCTUnwrap(json["shards"] as? [[String: Any]])
            XCTAssertEqual(shards.count, 1)
            shards[0]["firstID"] = NSNumber(value: Int64.max)
            json["shards"] = shards
        }, contains: ["shards[0].firstID", "9223372036854775807", "overflows"])
        // (c) capacity = shardCount = Int.max would overflow in shardCapacity.
        try expectCorrupt({ try setConfiguration(&$0, ["capacity": NSNumber(value: Int.max), "shardCount": NSNumber(value: Int.max)]) },
                          contains: ["capacity", "9223372036854775807", "at most 2147483647"])
        // Negative ids and counts.
        try expectCorrupt({ $0["nextID"] = -1 }, contains: ["nextID", "-1"])
        try expectCorrupt({ json in
            var shards = try XCTUnwrap(json["shards"] as? [[String: Any]])
            shards[0]["count"] = -1
            json["shards"] = shards
        }, contains: ["shards[0].count", "-1"])
        // The unedited manifest still loads.
        try original.write(to: manifestURL)
        XCTAssertEqual(try IndexSnapshot.load(from: url).storedCount, 1)
    }
}
