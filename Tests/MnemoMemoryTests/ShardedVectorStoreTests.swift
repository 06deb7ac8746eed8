// ShardedVectorStore eviction, values and positions against a plain array model.
import Dispatch
import XCTest
@testable import MnemoMemory

final class ShardedVectorStoreTests: XCTestCase {
    /// The model: every appended entry in an array; the expected visible window is computed
    /// from the documented guarantee, and search results from a brute-force scan of it.
    struct Model {
        var keys: [[Float]] = []
        var values: [[Float]] = []
        var positions: [Int64] = []

        func visible(_ c: VectorStoreConfiguration) -> Range<Int64> {
            let total = keys.count
            guard total > 0 else { return 0..<0 }
            switch c.retention {
            case .exactNewest:
                return Int64(max(0, total - c.capacity)) ..< Int64(total)
            case .wholeShards:
                // Shards cover [i*s, (i+1)*s); the newest shardCount + 1 started shards are kept.
                let s = c.shardCapacity
                let started = (total + s - 1) / s
                return Int64(max(0, started - (c.shardCount + 1)) * s) ..< Int64(total)
            }
        }

        func search(_ query: [Float], k: Int, in range: Range<Int64>, metric: VectorMetric) -> [SearchHit] {
            let hits = range.map { id -> SearchHit in
                let key = keys[Int(id)]
                var acc = 0.0
                for j in 0..<key.count {
                    let a = Double(query[j]), b = Double(key[j])
                    acc += metric == .innerProduct ? a * b : (a - b) * (a - b)
                }
                return SearchHit(id: id, score: Float(acc))
            }
            return Array(hits.sorted { metric.ranks($0.score, before: $1.score) }.prefix(k))
        }
    }

    /// Property loop: many capacities, shard counts, both retentions, random batch sizes; after
    /// every append the retained ids, stored records and Flat search results equal the model.
    func testEvictionMatchesArrayModel() throws {
        var rng = SeededRNG(seed: 42)
        let d = 4, dv = 3
        var checks = 0
        for capacity in [1, 2, 3, 5, 8, 13, 32] {
            for shardCount in [1, 2, 3, 4, 8] where shardCount <= capacity {
                for retention in VectorStoreConfiguration.Retention.allCases {
                    let metric: VectorMetric = Bool.random(using: &rng) ? .innerProduct : .l2
                    let config = VectorStoreConfiguration(dimension: d, valueDimension: dv, metric: metric, indexDescription: "Flat",
                                                          capacity: capacity, shardCount: shardCount, retention: retention)
                    let store = try ShardedVectorStore(config)
                    var model = Model()
                    let maxBatch = [1, 3, 2 * capacity + 1][Int.random(in: 0..<3, using: &rng)]
                    while model.keys.count < 4 * capacity + 5 {
                        let n = Int.random(in: 1...maxBatch, using: &rng)
                        let keys = TestData.gaussian(count: n, dimension: d, rng: &rng)
                        let values = TestData.gaussian(count: n, dimension: dv, rng: &rng)
                        let positions = (0..<n).map { Int64(model.keys.count + $0) * 10 + 7 }
                        let ids = try store.append(keys: keys, values: values, positions: positions)
                        XCTAssertEqual(ids, Int64(model.keys.count) ..< Int64(model.keys.count + n))
                        for i in 0..<n {
                            model.keys.append(Array(keys[i * d ..< (i + 1) * d]))
                            model.values.append(Array(values[i * dv ..< (i + 1) * dv]))
                            model.positions.append(positions[i])
                        }
                        let visible = model.visible(config)
                        let label = "capacity \(capacity) shards \(shardCount) \(retention) after \(model.keys.count)"
                        XCTAssertEqual(store.retainedIDs, visible, label)
                        XCTAssertGreaterThanOrEqual(store.storedCount, min(model.keys.count, capacity), label)
                        XCTAssertLessThanOrEqual(store.storedCount, (shardCount + 1) * config.shardCapacity, label)
                        // Records of every visible id; the id just below the window is gone.
                        for id in visible {
                            let record = try store.record(id: id)
                            XCTAssertEqual(record, VectorRecord(id: id, position: model.positions[Int(id)], value: model.values[Int(id)]), label)
                        }
                        if visible.lowerBound > 0 {
                            let gone = visible.lowerBound - 1
                            assertThrows("id \(gone) is not stored (retained ids: \(visible.lowerBound)..<\(visible.upperBound))") {
                                try store.record(id: gone)
                            }
                        }
                        // Search equals the brute-force model over the visible window.
                        let query = TestData.gaussian(count: 1, dimension: d, rng: &rng)
                        let k = Int.random(in: 1...(capacity + 2), using: &rng)
                        let got = try store.search(query, k: k)[0]
                        let expected = model.search(query, k: k, in: visible, metric: metric)
                        XCTAssertEqual(got.map(\.id), expected.map(\.id), label + " k \(k)")
                        for (a, b) in zip(got, expected) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5 * max(1, abs(b.score)), label) }
                        // The per-shard search and merge (the path of non-Flat indexes) gives the same.
                        store.jointFlatSearch = false
                        XCTAssertEqual(try store.search(query, k: k)[0].map(\.id), expected.map(\.id), label + " k \(k), per shard")
                        store.jointFlatSearch = true
                        checks += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checks, 500)
    }

    /// Searches over a partly evicted shard fetch a few extra hits instead of `k + masked`; queries
    /// whose best keys are mostly evicted are redone exactly. Both paths equal brute force.
    func testPartlyEvictedShardSearchEqualsBruteForce() throws {
        var rng = SeededRNG(seed: 7)
        let d = 8
        let config = VectorStoreConfiguration(dimension: d, valueDimension: 1, indexDescription: "Flat",
                                              capacity: 400, shardCount: 4)
        let store = try ShardedVectorStore(config)
        var model = Model()
        // 450 keys in shards of 100: the oldest shard is half evicted (ids 0..<50). Its keys point
        // along e0 with the largest norms, so an e0 query's best matches in that shard are all
        // evicted and it must fall back to the exact search (k = 20: fetch 68 < k + masked = 70).
        for batch in 0..<9 {
            let n = 50
            var keys = TestData.gaussian(count: n, dimension: d, rng: &rng)
            if batch < 3 { for i in 0..<n { keys[i * d] = (batch == 0 ? 1000 : 50) + Float(i) } }
            let values = [Float](repeating: 0, count: n)
            let positions = (0..<n).map { Int64(model.keys.count + $0) }
            try store.append(keys: keys, values: values, positions: positions)
            for i in 0..<n {
                model.keys.append(Array(keys[i * d ..< (i + 1) * d]))
                model.values.append([0])
                model.positions.append(positions[i])
            }
        }
        let visible = model.visible(config)
        XCTAssertEqual(visible, 50..<450)
        var queries = TestData.gaussian(count: 40, dimension: d, rng: &rng)
        for i in 0..<d { queries[i] = i == 0 ? 1 : 0 }  // query 0 = e0
        for joint in [false, true] {
            store.jointFlatSearch = joint
            for k in [1, 5, 20, 64] {
                let got = try store.search(queries, k: k)
                for q in 0..<40 {
                    let expected = model.search(Array(queries[q * d ..< (q + 1) * d]), k: k, in: visible, metric: .innerProduct)
                    XCTAssertEqual(got[q].map(\.id), expected.map(\.id), "joint \(joint) k \(k) query \(q)")
                }
            }
        }
    }

    /// Few queries (a generated token's heads) use key blocks of up to 16,384: one shard of 40,000
    /// keys crosses two such boundaries; equal to brute force.
    func testJointFlatSearchWithFewQueriesEqualsBruteForce() throws {
        var rng = SeededRNG(seed: 5)
        let d = 4
        let config = VectorStoreConfiguration(dimension: d, valueDimension: 1, indexDescription: "Flat", capacity: 40_000, shardCount: 1)
        let store = try ShardedVectorStore(config)
        let keys = TestData.gaussian(count: 40_000, dimension: d, rng: &rng)
        try store.append(keys: keys, values: [Float](repeating: 0, count: 40_000), positions: (0..<40_000).map(Int64.init))
        var model = Model()
        for i in 0..<40_000 { model.keys.append(Array(keys[i * d ..< (i + 1) * d])) }
        XCTAssertEqual(store.shards.count, 1)
        let queries = TestData.gaussian(count: 3, dimension: d, rng: &rng)
        let got = try store.search(queries, k: 10)
        for q in 0..<3 {
            let expected = model.search(Array(queries[q * d ..< (q + 1) * d]), k: 10, in: 0..<40_000, metric: .innerProduct)
            XCTAssertEqual(got[q].map(\.id), expected.map(\.id), "query \(q)")
        }
    }

    /// The one-pass Flat search (`FaissIndex.searchFlat`) across its block boundaries (256 queries,
    /// 1,024 keys), with a partly evicted shard whose first block is skipped whole: equal to brute
    /// force for both metrics, and to FAISS's own per-shard search.
    func testJointFlatSearchEqualsBruteForceAcrossBlocks() throws {
        var rng = SeededRNG(seed: 11)
        let d = 16
        for metric in [VectorMetric.innerProduct, .l2] {
            let config = VectorStoreConfiguration(dimension: d, valueDimension: 1, metric: metric, indexDescription: "Flat",
                                                  capacity: 6000, shardCount: 2)
            let store = try ShardedVectorStore(config)
            var model = Model()
            let keys = TestData.gaussian(count: 7500, dimension: d, rng: &rng)
            for b in 0..<5 {
                let range = b * 1500 ..< (b + 1) * 1500
                try store.append(keys: Array(keys[range.lowerBound * d ..< range.upperBound * d]), values: [Float](repeating: 0, count: 1500),
                                 positions: range.map(Int64.init))
            }
            for i in 0..<7500 { model.keys.append(Array(keys[i * d ..< (i + 1) * d])) }
            XCTAssertEqual(store.retainedIDs, 1500..<7500)
            XCTAssertEqual(store.shards.map(\.count), [3000, 3000, 1500])
            let queries = TestData.gaussian(count: 300, dimension: d, rng: &rng)
            for k in [1, 32, 100] {
                let joint = try store.search(queries, k: k)
                store.jointFlatSearch = false
                let perShard = try store.search(queries, k: k)
                store.jointFlatSearch = true
                for q in 0..<300 {
                    let expected = model.search(Array(queries[q * d ..< (q + 1) * d]), k: k, in: 1500..<7500, metric: metric)
                    XCTAssertEqual(joint[q].map(\.id), expected.map(\.id), "\(metric) k \(k) query \(q)")
                    XCTAssertEqual(perShard[q].map(\.id), expected.map(\.id), "\(metric) k \(k) query \(q), per shard")
                    for (a, b) in zip(joint[q], expected) { XCTAssertEqual(a.score, b.score, accuracy: 1e-4 * max(1, abs(b.score))) }
                }
            }
        }
    }

    /// Insertion cost is bounded: the store never holds more than (shardCount + 1) shards, and
    /// the per-append work is on the newest shard only (shard sizes never exceed shardCapacity).
    func testShardCountAndSizesStayBounded() throws {
        var rng = SeededRNG(seed: 5)
        let config = VectorStoreConfiguration(dimension: 8, valueDimension: 0, indexDescription: "HNSW32", capacity: 100, shardCount: 4)
        let store = try ShardedVectorStore(config)
        for _ in 0..<50 {
            try store.append(keys: TestData.gaussian(count: 37, dimension: 8, rng: &rng), values: [],
                             positions: Array(repeating: 0, count: 37))
            store.lock.reading {
                XCTAssertLessThanOrEqual(store.shards.count, 5)
                XCTAssertTrue(store.shards.allSatisfy { $0.count <= 25 && $0.index.count == $0.count })
            }
        }
        XCTAssertEqual(store.count, 100)
        XCTAssertEqual(store.nextID, 50 * 37)
    }

    /// f16 values round to the nearest half; positions are kept exactly.
    /// `keys(for:)` gives back exactly the appended keys (Flat and HNSW keep exact vectors), across
    /// shards and after eviction; an evicted or never-appended id throws `.unknownID`.
    func testKeysComeBackExactlyFromTheIndex() throws {
        var rng = SeededRNG(seed: 11)
        for description in ["Flat", "HNSW32"] {
            let store = try ShardedVectorStore(.init(dimension: 8, valueDimension: 0, indexDescription: description,
                                                     capacity: 40, shardCount: 4))
            let keys = TestData.gaussian(count: 100, dimension: 8, rng: &rng)
            for start in stride(from: 0, to: 100, by: 7) {
                let end = min(100, start + 7)
                try store.append(keys: Array(keys[start * 8 ..< end * 8]), values: [], positions: (start..<end).map { Int64($0) })
            }
            let visible = store.retainedIDs
            XCTAssertEqual(visible, 60..<100, description)
            let ids: [Int64] = [99, 60, 75, 61, 98]
            let back = try store.keys(for: ids)
            XCTAssertEqual(back, ids.flatMap { Array(keys[Int($0) * 8 ..< Int($0 + 1) * 8]) }, description)
            XCTAssertThrowsError(try store.keys(for: [59])) { XCTAssertTrue("\($0)".contains("59"), "\($0)") }
            XCTAssertThrowsError(try store.keys(for: [100]))
        }
    }

    func testHalfPrecisionValues() throws {
        let config = VectorStoreConfiguration(dimension: 2, valueDimension: 3, valuePrecision: .f16, capacity: 4, shardCount: 2)
        let store = try ShardedVectorStore(config)
        let values: [Float] = [1.0, 0.1, -2.5, 65504, 1e-3, 3.14159]
        try store.append(keys: [1, 0, 0, 1], values: values, positions: [1_000_000_000_000, 5])
        XCTAssertEqual(try store.record(id: 0).value, values[0..<3].map { Float(Float16($0)) })
        XCTAssertEqual(try store.record(id: 1), VectorRecord(id: 1, position: 5, value: values[3..<6].map { Float(Float16($0)) }))
        XCTAssertEqual(try store.record(id: 0).position, 1_000_000_000_000)
    }

    /// An IVF store must be trained before append and search; after training, new shards are
    /// copies of the trained template and search works across shards.
    func testIVFStoreNeedsTraining() throws {
        var rng = SeededRNG(seed: 8)
        let config = VectorStoreConfiguration(dimension: 8, valueDimension: 1, metric: .l2, indexDescription: "IVF4,Flat", capacity: 200,
                                              shardCount: 2, nprobe: 4)
        let store = try ShardedVectorStore(config)
        assertThrows("index 'IVF4,Flat' is not trained: call train(_:) before append") {
            try store.append(keys: [Float](repeating: 0, count: 8), values: [0], positions: [0])
        }
        assertThrows("index 'IVF4,Flat' is not trained: call train(_:) before search") { try store.search([Float](repeating: 0, count: 8), k: 1) }
        let keys = TestData.gaussian(count: 300, dimension: 8, rng: &rng)
        try store.train(keys)
        try store.append(keys: keys, values: (0..<300).map(Float.init), positions: (0..<300).map(Int64.init))
        // nprobe = nlist, so search is exact: each stored key finds itself first.
        let hits = try store.search(Array(keys[299 * 8 ..< 300 * 8]), k: 1)
        XCTAssertEqual(hits[0].first?.id, 299)
        XCTAssertEqual(try store.records(for: hits[0]).first?.value, [299])
        XCTAssertEqual(store.retainedIDs, 100..<300)
    }

    /// Parallel store searches equal serial ones.
    func testConcurrentStoreSearchesMatchSerial() throws {
        var rng = SeededRNG(seed: 13)
        let d = 16
        let store = try ShardedVectorStore(.init(dimension: d, valueDimension: 0, indexDescription: "HNSW32", capacity: 3_000, shardCount: 3))
        let all = TestData.clustered(count: 4_048, dimension: d, clusters: 10, spread: 0.5, rng: &rng)
        let keys = Array(all[0 ..< 4_000 * d]), queries = Array(all[(4_000 * d)...])
        try store.append(keys: keys, values: [], positions: Array(repeating: 0, count: 4_000))
        let serial = try (0..<48).map { try store.search(Array(queries[$0 * d ..< ($0 + 1) * d]), k: 5)[0] }
        let box = HitsBox(count: 48)
        DispatchQueue.concurrentPerform(iterations: 48) { i in
            box.set(i, try? store.search(Array(queries[i * d ..< (i + 1) * d]), k: 5)[0])
        }
        for i in 0..<48 { XCTAssertEqual(box.get(i), serial[i], "query \(i)") }
    }
}

final class HitsBox: @unchecked Sendable {  // every access goes through `lock`
    private var slots: [[SearchHit]?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ hits: [SearchHit]?) { lock.lock(); slots[i] = hits; lock.unlock() }
    func get(_ i: Int) -> [SearchHit]? { lock.lock(); defer { lock.unlock() }; return slots[i] }
}
