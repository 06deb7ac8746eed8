// FaissIndex against the independent brute-force reference, recall of approximate indexes,
// and concurrency.
import Dispatch
import XCTest
@testable import MnemoMemory

final class FaissIndexTests: XCTestCase {
    /// `Flat` must return exactly the brute-force top-k: same ids in the same order, scores
    /// within 1e-5 (relative for large scores). Gaussian data makes ties impossible in practice.
    func testFlatMatchesBruteForce() throws {
        for metric in VectorMetric.allCases {
            var rng = SeededRNG(seed: 7)
            let d = 24, n = 1_500, q = 60, k = 10
            let base = TestData.gaussian(count: n, dimension: d, rng: &rng)
            let queries = TestData.gaussian(count: q, dimension: d, rng: &rng)
            let ids = (0..<Int64(n)).map { $0 * 3 + 100 }  // non-trivial ids
            let flat = try FaissIndex(dimension: d, description: "Flat", metric: metric)
            let brute = try BruteForceIndex(dimension: d, metric: metric)
            try flat.add(base, ids: ids)
            try brute.add(base, ids: ids)
            XCTAssertEqual(flat.count, n)
            let a = try flat.searchResults(queries, k: k)
            let b = try brute.searchResults(queries, k: k)
            XCTAssertEqual(a.ids, b.ids, "\(metric)")
            for i in 0..<a.scores.count {
                XCTAssertEqual(a.scores[i], b.scores[i], accuracy: 1e-5 * max(1, abs(b.scores[i])), "\(metric) entry \(i)")
            }
            // Scores are sorted best first.
            for r in 0..<q {
                for j in 1..<k { XCTAssertFalse(metric.ranks(a.scores[r * k + j], before: a.scores[r * k + j - 1])) }
            }
        }
    }

    /// k larger than the stored count: FAISS pads with id -1; `hits` drops them.
    func testKLargerThanCount() throws {
        var rng = SeededRNG(seed: 3)
        let index = try FaissIndex(dimension: 4, description: "Flat", metric: .l2)
        try index.add(TestData.gaussian(count: 3, dimension: 4, rng: &rng), ids: [10, 11, 12])
        let r = try index.searchResults(TestData.gaussian(count: 2, dimension: 4, rng: &rng), k: 5)
        XCTAssertEqual(r.ids.filter { $0 == -1 }.count, 4)
        XCTAssertEqual(r.hits.map(\.count), [3, 3])
        XCTAssertEqual(Set(r.hits[0].map(\.id)), [10, 11, 12])
    }

    func testRemoveResetAndSerializeRoundTrip() throws {
        var rng = SeededRNG(seed: 11)
        let d = 8
        for description in ["Flat", "IVF4,Flat"] {
            let index = try FaissIndex(dimension: d, description: description, metric: .innerProduct)
            let base = TestData.gaussian(count: 200, dimension: d, rng: &rng)
            try index.train(base)
            try index.add(base, ids: Array(0..<200))
            XCTAssertEqual(try index.remove(ids: [5, 6, 7, 1_000]), 3, description)
            XCTAssertEqual(index.count, 197)
            let queries = TestData.gaussian(count: 5, dimension: d, rng: &rng)
            let before = try index.searchResults(queries, k: 20)
            XCTAssertFalse(before.ids.contains(5) || before.ids.contains(6) || before.ids.contains(7))
            let copy = try FaissIndex.deserialize(try index.serialized(), description: description, metric: .innerProduct,
                                                  dimension: d, file: "memory")
            XCTAssertEqual(try copy.searchResults(queries, k: 20), before)
            try index.reset()
            XCTAssertEqual(index.count, 0)
            XCTAssertTrue(index.isTrained)
        }
    }

    /// HNSW32 (efSearch 64) and IVF (nprobe 8 of 64 lists) reach recall@10 >= 0.95 against Flat on
    /// clustered unit vectors (inner product).
    func testApproximateRecallOnClusteredVectors() throws {
        var rng = SeededRNG(seed: 2024)
        let d = 32, n = 20_000, q = 200, k = 10
        // One draw, split: queries come from the same clusters as the stored vectors.
        let all = TestData.clustered(count: n + q, dimension: d, clusters: 64, spread: 0.6, rng: &rng)
        let base = Array(all[0 ..< n * d]), queries = Array(all[n * d ..< (n + q) * d])
        try checkRecall(base: base, queries: queries, dimension: d, k: k, label: "clustered")
    }

    /// The same bar on real attention keys: stories260K layer-2 keys over Alice in Wonderland
    /// (Fixtures/scripts/extract_stories260k_keys_faiss.py), L2-normalised; the last 200 keys are
    /// the queries. (Unnormalised, IVF with inner product reaches only ~0.3: norms vary 17-35.)
    func testApproximateRecallOnStoriesKeys() throws {
        let (keys, d) = try TestData.storiesKeys()
        let total = keys.count / d
        XCTAssertGreaterThan(total, 4_000)
        let q = 200
        let base = Array(keys[0 ..< (total - q) * d])
        let queries = Array(keys[(total - q) * d ..< total * d])
        try checkRecall(base: base, queries: queries, dimension: d, k: 10, label: "stories260K keys")
    }

    private func checkRecall(base: [Float], queries: [Float], dimension d: Int, k: Int, label: String) throws {
        let n = base.count / d
        let ids = Array(0..<Int64(n))
        let flat = try FaissIndex(dimension: d, description: "Flat", metric: .innerProduct)
        try flat.add(base, ids: ids)
        let truth = try flat.searchResults(queries, k: k)

        let hnsw = try FaissIndex(dimension: d, description: "HNSW32", metric: .innerProduct)
        try hnsw.setSearchParameter(.efSearch, 64)
        try hnsw.add(base, ids: ids)
        let hnswRecall = recall(try hnsw.searchResults(queries, k: k), reference: truth)
        XCTAssertGreaterThanOrEqual(hnswRecall, 0.95, "\(label): HNSW32 efSearch=64")

        let ivf = try FaissIndex(dimension: d, description: "IVF64,Flat", metric: .innerProduct)
        XCTAssertFalse(ivf.isTrained)
        try ivf.train(base)
        try ivf.setSearchParameter(.nprobe, 8)
        try ivf.add(base, ids: ids)
        let ivfRecall = recall(try ivf.searchResults(queries, k: k), reference: truth)
        XCTAssertGreaterThanOrEqual(ivfRecall, 0.95, "\(label): IVF64,Flat nprobe=8")
        // More probes never lower recall on the same index.
        try ivf.setSearchParameter(.nprobe, 64)
        XCTAssertEqual(recall(try ivf.searchResults(queries, k: k), reference: truth), 1.0, accuracy: 1e-9, "\(label): all lists probed")
    }

    /// Parallel searches (several threads, one query each) equal one serial batched search.
    func testConcurrentSearchesMatchSerial() throws {
        var rng = SeededRNG(seed: 99)
        let d = 16, n = 5_000, q = 64, k = 8
        let all = TestData.clustered(count: n + q, dimension: d, clusters: 20, spread: 0.5, rng: &rng)
        let base = Array(all[0 ..< n * d]), queries = Array(all[n * d ..< (n + q) * d])
        for description in ["Flat", "HNSW32", "IVF16,Flat"] {
            let index = try FaissIndex(dimension: d, description: description, metric: .innerProduct)
            try index.train(base)
            try index.add(base, ids: Array(0..<Int64(n)))
            let serial = try (0..<q).map { try index.searchResults(Array(queries[$0 * d ..< ($0 + 1) * d]), k: k) }
            let results = ResultBox(count: q)
            DispatchQueue.concurrentPerform(iterations: q) { i in
                results.set(i, Result { try index.searchResults(Array(queries[i * d ..< (i + 1) * d]), k: k) })
            }
            for i in 0..<q { XCTAssertEqual(try results.get(i).get(), serial[i], "\(description) query \(i)") }
            // Batches of 32 queries (FAISS's BLAS path for Flat starts at 20 queries) in parallel.
            let batches = ResultBox(count: 2)
            DispatchQueue.concurrentPerform(iterations: 2) { b in
                batches.set(b, Result { try index.searchResults(Array(queries[b * 32 * d ..< (b + 1) * 32 * d]), k: k) })
            }
            for b in 0..<2 {
                let serialBatch = try index.searchResults(Array(queries[b * 32 * d ..< (b + 1) * 32 * d]), k: k)
                XCTAssertEqual(try batches.get(b).get(), serialBatch, "\(description) batch \(b)")
            }
        }
    }
}

/// Thread-safe slots for results written by `concurrentPerform`.
final class ResultBox: @unchecked Sendable {  // every access goes through `lock`
    private var slots: [Result<SearchResults, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<SearchResults, Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<SearchResults, Error> {
        lock.lock(); defer { lock.unlock() }
        return slots[i] ?? .failure(VectorIndexError.invalidK(-1))
    }
}
