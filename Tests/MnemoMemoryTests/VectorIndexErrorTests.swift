// Every VectorIndexError case reached through the public API, with its one-line message.
import Foundation
import XCTest
@testable import MnemoMemory

final class VectorIndexErrorTests: XCTestCase {
    func testBadDescriptionCarriesFaissMessage() {
        do {
            _ = try FaissIndex(dimension: 16, description: "NoSuchIndex42", metric: .l2)
            XCTFail("expected badDescription")
        } catch let error as VectorIndexError {
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("bad FAISS index description 'NoSuchIndex42' (dimension 16): "), text)
            XCTAssertTrue(text.contains("could not parse index string NoSuchIndex42"), text)  // FAISS's own words
            XCTAssertFalse(text.contains("\n"))
        } catch { XCTFail("\(error)") }
        assertThrows("bad FAISS index description 'Flat' (dimension 0): dimension must be > 0") {
            try FaissIndex(dimension: 0, description: "Flat", metric: .l2)
        }
    }

    func testShapeErrors() throws {
        let index = try FaissIndex(dimension: 4, description: "Flat", metric: .innerProduct)
        assertThrows("vectors: 6 floats is not a whole number of 4-dimensional vectors") {
            try index.add([Float](repeating: 0, count: 6), ids: [0])
        }
        assertThrows("ids: expected 2 (one per vector), found 1") { try index.add([Float](repeating: 0, count: 8), ids: [0]) }
        assertThrows("vectors[1]: expected dimension 4, found 3") { try index.add(rows: [[1, 2, 3, 4], [1, 2, 3]], ids: [0, 1]) }
        assertThrows("queries[0]: expected dimension 4, found 5") { try index.search(rows: [[1, 2, 3, 4, 5]], k: 1) }
        assertThrows("queries: 3 floats is not a whole number of 4-dimensional vectors") { try index.search([1, 2, 3], k: 1) }
        assertThrows("k must be at least 1, found 0") { try index.search([1, 2, 3, 4], k: 0) }
        let brute = try BruteForceIndex(dimension: 4, metric: .l2)
        assertThrows("k must be at least 1, found -3") { try brute.search([1, 2, 3, 4], k: -3) }
        assertThrows("queries: 5 floats is not a whole number of 4-dimensional vectors") { try brute.search([1, 2, 3, 4, 5], k: 1) }
    }

    func testUntrainedIVF() throws {
        let ivf = try FaissIndex(dimension: 8, description: "IVF16,Flat", metric: .l2)
        XCTAssertFalse(ivf.isTrained)
        assertThrows("index 'IVF16,Flat' is not trained: call train(_:) before search") { try ivf.search([Float](repeating: 0, count: 8), k: 1) }
        assertThrows("index 'IVF16,Flat' is not trained: call train(_:) before add") { try ivf.add([Float](repeating: 0, count: 8), ids: [1]) }
        let pq = try FaissIndex(dimension: 8, description: "IVF16,PQ4", metric: .l2)
        assertThrows("index 'IVF16,PQ4' is not trained: call train(_:) before add") { try pq.add([Float](repeating: 0, count: 8), ids: [1]) }
    }

    func testParameterAndFaissErrors() throws {
        let flat = try FaissIndex(dimension: 8, description: "Flat", metric: .l2)
        assertThrows("search parameter nprobe=4 rejected: index has no search parameter 'nprobe' (not an IVF index)") {
            try flat.setSearchParameter(.nprobe, 4)
        }
        do {
            try flat.setSearchParameter(.efSearch, 32)
            XCTFail("expected badParameter")
        } catch let error as VectorIndexError {
            XCTAssertTrue("\(error)".hasPrefix("search parameter efSearch=32 rejected: "), "\(error)")
        }
        let hnsw = try FaissIndex(dimension: 8, description: "HNSW16", metric: .l2)
        assertThrows("search parameter efSearch=0 rejected: search parameter must be >= 1") { try hnsw.setSearchParameter(.efSearch, 0) }
        try hnsw.add([Float](repeating: 1, count: 8), ids: [3])
        do {
            try hnsw.remove(ids: [3])
            XCTFail("HNSW cannot remove")
        } catch let error as VectorIndexError {
            XCTAssertTrue("\(error)".hasPrefix("FAISS remove failed on index 'HNSW16': "), "\(error)")
            XCTAssertTrue("\(error)".contains("not implemented"), "\(error)")
        }
    }

    func testCapacityErrors() {
        assertThrows("bad capacity 0 with 1 shards: capacity must be at least 1") {
            try ShardedVectorStore(.init(dimension: 4, valueDimension: 1, capacity: 0, shardCount: 1))
        }
        assertThrows("bad capacity 10 with 0 shards: shard count must be at least 1") {
            try ShardedVectorStore(.init(dimension: 4, valueDimension: 1, capacity: 10, shardCount: 0))
        }
        assertThrows("bad capacity 3 with 4 shards: shard count must not exceed capacity") {
            try ShardedVectorStore(.init(dimension: 4, valueDimension: 1, capacity: 3, shardCount: 4))
        }
        assertThrows("bad capacity 8 with 2 shards: key dimension must be at least 1, found 0") {
            try ShardedVectorStore(.init(dimension: 0, valueDimension: 1, capacity: 8, shardCount: 2))
        }
        // Sizes that would overflow or allocate absurdly are rejected before any arithmetic.
        assertThrows("bad capacity \(Int.max) with \(Int.max) shards: capacity must be at most 2147483647") {
            try ShardedVectorStore(.init(dimension: 4, valueDimension: 1, capacity: .max, shardCount: .max))
        }
        assertThrows("bad capacity 8 with 2 shards: key dimension (dimension) must be at most 65536, found 65537") {
            try ShardedVectorStore(.init(dimension: 65_537, valueDimension: 1, capacity: 8, shardCount: 2))
        }
        assertThrows("bad capacity 8 with 2 shards: value dimension (valueDimension) must be at most 65536, found 4611686018427387904") {
            try ShardedVectorStore(.init(dimension: 4, valueDimension: 1 << 62, capacity: 8, shardCount: 2))
        }
        XCTAssertEqual(VectorStoreConfiguration(dimension: 1, valueDimension: 0, capacity: .max, shardCount: .max).shardCapacity, 1)
        XCTAssertEqual(VectorStoreConfiguration(dimension: 1, valueDimension: 0, capacity: .max, shardCount: 2).shardCapacity, Int.max / 2 + 1)
    }

    func testStoreInputErrors() throws {
        let store = try ShardedVectorStore(.init(dimension: 2, valueDimension: 3, capacity: 4, shardCount: 2))
        assertThrows("keys: 3 floats is not a whole number of 2-dimensional vectors") { try store.append(keys: [1, 2, 3], values: [], positions: []) }
        assertThrows("values (floats): expected 3 (one per vector), found 2") { try store.append(keys: [1, 2], values: [1, 2], positions: [0]) }
        assertThrows("positions: expected 1 (one per vector), found 0") { try store.append(keys: [1, 2], values: [1, 2, 3], positions: []) }
        assertThrows("k must be at least 1, found 0") { try store.search([1, 2], k: 0) }
        assertThrows("id 0 is not stored (retained ids: 0..<0)") { try store.record(id: 0) }
    }

    func testSnapshotErrors() throws {
        let dir = try temporaryDirectory(self)
        let missing = dir.appendingPathComponent("nothing-here")
        do {
            _ = try IndexSnapshot.load(from: missing)
            XCTFail("expected corruptSnapshot")
        } catch let error as VectorIndexError {
            XCTAssertTrue("\(error)".hasPrefix("corrupt snapshot file \(missing.path)/manifest.json: missing or unreadable"), "\(error)")
        }
        let url = dir.appendingPathComponent("s")
        let store = try ShardedVectorStore(.init(dimension: 2, valueDimension: 1, capacity: 4, shardCount: 2))
        try store.append(keys: [1, 0, 0, 1, 1, 1], values: [1, 2, 3], positions: [0, 1, 2])
        try IndexSnapshot.save(store, to: url)
        let values = url.appendingPathComponent("shard-1.values")
        let good = try Data(contentsOf: values)
        try good.prefix(good.count - 3).write(to: values)
        assertThrows("corrupt snapshot file \(values.path): expected \(good.count) bytes, found \(good.count - 3)") {
            try IndexSnapshot.load(from: url)
        }
        try good.write(to: values)
        // A manifest from a future format version.
        let manifestURL = url.appendingPathComponent("manifest.json")
        let manifest = try String(contentsOf: manifestURL, encoding: .utf8)
        try manifest.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 9").write(to: manifestURL, atomically: false, encoding: .utf8)
        assertThrows("corrupt snapshot file \(manifestURL.path): format version 9, expected 1") { try IndexSnapshot.load(from: url) }
    }
}
