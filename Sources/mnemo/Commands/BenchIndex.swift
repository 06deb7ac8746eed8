// `mnemo bench index`: add/search throughput and recall@k of FAISS index types through Mnemo.
import ArgumentParser
import Foundation
import MnemoMemory
import MnemoTensor

/// Benchmarks `FaissIndex` types on seeded vectors: add throughput, search throughput and
/// recall@k against `Flat`, for each dimension x count x type x search parameter.
///
/// ```
/// OMP_NUM_THREADS=2 mnemo bench index --dim 64,128 --count 100000 \
///     --types "Flat,HNSW32,IVF1024,Flat" --queries 1000 --k 10 --vectors-dir /tmp/mnemo-bench
/// ```
/// `--vectors-dir` writes (or reuses) the exact vectors so `Fixtures/scripts/bench_faiss_python.py`
/// measures FAISS's own Python bindings on the same data. `--index-dir` keeps each built index in
/// FAISS's file format and loads it on later runs (the script reads and writes the same files), so
/// both paths can search one identical HNSW graph without another hour of insertion; a loaded
/// index reports no train or add figures. Results go to standard output (one table, or JSON lines
/// with `--json`); progress to standard error.
struct BenchIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Benchmark vector index types: add and search throughput, recall@k vs Flat.")

    enum DataKind: String, ExpressibleByArgument, CaseIterable {
        case random, clustered
    }

    @Option(help: "Comma-separated dimensions.")
    var dim: String = "64"
    @Option(help: "Comma-separated vector counts.")
    var count: String = "100000"
    @Option(help: "FAISS descriptions, comma-separated; a component after IVF/PCA/OPQ joins it (\"Flat,HNSW32,IVF1024,Flat\" = Flat | HNSW32 | IVF1024,Flat). ';' also separates.")
    var types: String = "Flat,HNSW32,IVF1024,Flat"
    @Option(help: "Number of queries (drawn like the stored vectors, not stored).")
    var queries: Int = 1000
    @Option(help: "Neighbours per query.")
    var k: Int = 10
    @Option(name: .customLong("ef-search"), help: "HNSW efSearch values to sweep.")
    var efSearch: String = "16,32,64,128"
    @Option(help: "IVF nprobe values to sweep.")
    var nprobe: String = "1,4,16,64"
    @Option(help: "Vector distribution: \(DataKind.allCases.map(\.rawValue).joined(separator: ", ")) (unit vectors, inner product).")
    var data: DataKind = .random
    @Option(help: "Timed repetitions of each batched search; the fastest is reported (robust to a busy machine).")
    var `repeat`: Int = 3
    @Option(help: "RNG seed.")
    var seed: UInt64 = 1
    @Option(help: "OpenMP threads for FAISS (default: OMP_NUM_THREADS or all cores).")
    var threads: Int?
    @Option(name: .customLong("vectors-dir"), help: "Directory to write/reuse base_<d>_<n>.f32 and queries_<d>_<q>.f32.")
    var vectorsDir: String?
    @Option(name: .customLong("index-dir"), help: "Directory to save each built index to (FAISS format), or load it from if saved before; a loaded index reports no train/add figures.")
    var indexDir: String?
    @Flag(inversion: .prefixedNo, help: "Measure recall@k against a Flat index (--no-recall skips that exact search, e.g. to count a search's instructions under Valgrind, where it would dominate).")
    var recall = true
    @Flag(help: "Print one JSON object per result line.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1, got \(threads)") }
        guard queries > 0 else { throw ValidationError("--queries must be > 0, got \(queries)") }
        guard k > 0 else { throw ValidationError("--k must be > 0, got \(k)") }
        guard `repeat` > 0 else { throw ValidationError("--repeat must be > 0, got \(`repeat`)") }
        _ = try Self.integers(dim, option: "--dim")
        _ = try Self.integers(count, option: "--count")
        _ = try Self.integers(efSearch, option: "--ef-search")
        _ = try Self.integers(nprobe, option: "--nprobe")
        guard !Self.descriptions(types).isEmpty else { throw ValidationError("--types is empty") }
    }

    func run() throws {
        if let threads { FaissIndex.setThreadCount(threads) }
        let descriptions = Self.descriptions(types)
        if !json {
            print("threads=\(FaissIndex.threadCount) queries=\(queries) k=\(k) data=\(data.rawValue) repeat=\(`repeat`) (Mnemo Swift)")
            print("dim     count  type                 param          train_s  add_vec/s   search_q/s  recall@\(k)  add_cpu_us search_cpu_us")
        }
        for d in try Self.integers(dim, option: "--dim") {
            for n in try Self.integers(count, option: "--count") {
                let (base, query) = try vectors(dimension: d, count: n)
                let ids = (0..<Int64(n)).map { $0 }
                var truth: SearchResults?
                if recall {
                    progress("d=\(d) n=\(n): ground truth (Flat)")
                    let flat = try FaissIndex(dimension: d, description: "Flat", metric: .innerProduct)
                    try flat.add(base, ids: ids)
                    truth = try flat.searchResults(query, k: k)
                }
                for description in descriptions {
                    progress("d=\(d) n=\(n): \(description)")
                    let (index, build) = try builtIndex(description, dimension: d, count: n, base: base, ids: ids)
                    for (name, value) in parameterSweep(description) {
                        if let name { try index.setSearchParameter(name, value) }
                        _ = try index.searchResults(Array(query.prefix(d * min(queries, 10))), k: k)  // warm-up
                        var searchSeconds = Double.infinity, searchCPU = Double.infinity
                        var results: SearchResults?
                        for _ in 0..<`repeat` {
                            let start = Date(), cpu = Self.processCPUSeconds()
                            results = try index.searchResults(query, k: k)
                            searchSeconds = min(searchSeconds, Date().timeIntervalSince(start))
                            searchCPU = min(searchCPU, Self.processCPUSeconds() - cpu)
                        }
                        let line = ResultLine(
                            dim: d, count: n, type: description, param: name.map { "\($0.rawValue)=\(value)" } ?? "-",
                            build: build, searchPerSecond: Double(queries) / searchSeconds,
                            recall: truth.flatMap { truth in results.map { Self.recall($0, truth) } },
                            searchCPUMicros: searchCPU / Double(queries) * 1e6)
                        print(json ? line.json : line.row)
                    }
                }
            }
        }
    }

    /// How an index came to be: built here (timed) or loaded from `--index-dir` (not timed).
    struct Build {
        let trainSeconds: Double, addPerSecond: Double
        /// Process CPU time (all threads) per added vector, in microseconds.
        let addCPUMicros: Double
    }

    struct ResultLine {
        let dim: Int, count: Int, type: String, param: String
        /// `nil` when the index was loaded from `--index-dir`.
        let build: Build?
        let searchPerSecond: Double
        /// `nil` with `--no-recall`.
        let recall: Double?
        /// Process CPU time (all threads) per query, in microseconds.
        let searchCPUMicros: Double
        var row: String {
            func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
            let built = build.map { String(format: "%9.2f %11.0f", $0.trainSeconds, $0.addPerSecond) } ?? "   loaded           -"
            return pad("\(dim)", 4) + pad(String(format: "%9d", count), 11) + "  " + pad(type, 21) + pad(param, 13) + built
                + String(format: " %12.0f  ", searchPerSecond) + (recall.map { String(format: "%.4f ", $0) } ?? "     - ")
                + (build.map { String(format: "%11.2f", $0.addCPUMicros) } ?? "          -")
                + String(format: " %12.2f", searchCPUMicros)
        }
        var json: String {
            func number(_ format: String, _ value: Double?) -> String { value.map { String(format: format, $0) } ?? "null" }
            return String(format: "{\"impl\":\"swift\",\"dim\":%d,\"count\":%d,\"type\":\"%@\",\"param\":\"%@\",", dim, count, type, param)
                + "\"train_s\":\(number("%.4f", build?.trainSeconds)),\"add_per_s\":\(number("%.1f", build?.addPerSecond)),"
                + String(format: "\"search_per_s\":%.1f,", searchPerSecond) + "\"recall\":\(number("%.4f", recall)),"
                + "\"add_cpu_us\":\(number("%.3f", build?.addCPUMicros)),\"search_cpu_us\":\(String(format: "%.3f", searchCPUMicros)),"
                + "\"loaded\":\(build == nil)}"
        }
    }

    /// The index for `description` holding `base`: loaded from `--index-dir` when an earlier run
    /// saved it there (`nil` build figures), else trained, filled and timed here, and saved there
    /// (atomically: a temporary file renamed into place).
    private func builtIndex(_ description: String, dimension d: Int, count n: Int, base: [Float], ids: [Int64]) throws
        -> (FaissIndex, Build?) {
        let file = indexDir.map {
            URL(fileURLWithPath: $0).appendingPathComponent(Self.indexFileName(description, data: data.rawValue, dimension: d, count: n, seed: seed))
        }
        if let file, FileManager.default.fileExists(atPath: file.path) {
            progress("loading \(file.path)")
            let bytes = try [UInt8](Data(contentsOf: file))
            let index = try FaissIndex.deserialize(bytes, description: description, metric: .innerProduct, dimension: d, file: file.path)
            guard index.count == n else {
                throw VectorIndexError.corruptSnapshot(file: file.path, detail: "holds \(index.count) vectors, expected \(n)")
            }
            return (index, nil)
        }
        let index = try FaissIndex(dimension: d, description: description, metric: .innerProduct)
        var start = Date()
        if !index.isTrained { try index.train(base) }
        let trainSeconds = Date().timeIntervalSince(start)
        start = Date()
        let cpu = Self.processCPUSeconds()
        try index.add(base, ids: ids)
        let build = Build(trainSeconds: trainSeconds, addPerSecond: Double(n) / Date().timeIntervalSince(start),
                          addCPUMicros: (Self.processCPUSeconds() - cpu) / Double(n) * 1e6)
        if let file {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(index.serialized()).write(to: file, options: .atomic)
            progress("saved \(file.path)")
        }
        return (index, build)
    }

    /// `index_<data>_<d>_<n>_s<seed>_<description>.faiss`, the description's punctuation as `_`
    /// (`IVF1024,PQ16` -> `IVF1024_PQ16`); `bench_faiss_python.py` uses the same name.
    static func indexFileName(_ description: String, data: String, dimension d: Int, count n: Int, seed: UInt64) -> String {
        let name = String(description.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
        return "index_\(data)_\(d)_\(n)_s\(seed)_\(name).faiss"
    }

    /// (parameter, value) pairs to sweep for `description`; one `nil` entry for exact types.
    private func parameterSweep(_ description: String) -> [(FaissIndex.SearchParameter?, Int)] {
        let upper = description.uppercased()
        if upper.contains("HNSW") { return ((try? Self.integers(efSearch, option: "")) ?? []).map { (.efSearch, $0) } }  // validated in validate()
        if upper.contains("IVF") { return ((try? Self.integers(nprobe, option: "")) ?? []).map { (.nprobe, $0) } }  // validated in validate()
        return [(nil, 0)]
    }

    /// Seeded unit vectors, written to / reused from `--vectors-dir` when given.
    private func vectors(dimension d: Int, count n: Int) throws -> ([Float], [Float]) {
        var baseURL: URL?, queryURL: URL?
        if let dir = vectorsDir {
            let folder = URL(fileURLWithPath: dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            baseURL = folder.appendingPathComponent("base_\(data.rawValue)_\(d)_\(n)_s\(seed).f32")
            queryURL = folder.appendingPathComponent("queries_\(data.rawValue)_\(d)_\(queries)_s\(seed).f32")
            if let b = baseURL, let q = queryURL, let base = try? Self.readFloats(b), let query = try? Self.readFloats(q),
               base.count == n * d, query.count == queries * d {
                return (base, query)  // reuse only an exact-size file; anything else is regenerated
            }
        }
        progress("generating \(n + queries) \(data.rawValue) vectors of dimension \(d)")
        var rng = SplitMix64(seed: seed &+ UInt64(d) &* 1_000_003 &+ UInt64(n))
        let all = data == .random
            ? Self.unitGaussian(count: n + queries, dimension: d, rng: &rng)
            : Self.clustered(count: n + queries, dimension: d, clusters: max(16, n / 1_000), rng: &rng)
        let base = Array(all[0 ..< n * d]), query = Array(all[(n * d)...])
        if let b = baseURL, let q = queryURL {
            try Self.writeFloats(base, to: b)
            try Self.writeFloats(query, to: q)
        }
        return (base, query)
    }

    private func progress(_ message: String) {
        FileHandle.standardError.write(Data(("[bench index] " + message + "\n").utf8))
    }

    // MARK: - Helpers

    /// Splits "Flat,HNSW32,IVF1024,Flat" into ["Flat", "HNSW32", "IVF1024,Flat"]: a component
    /// following IVF…, PCA…, OPQ…, RR… or ITQ… (which need one) is joined to it.
    static func descriptions(_ text: String) -> [String] {
        var out: [String] = []
        for group in text.split(separator: ";") {
            var pendingPrefix: String?
            for part in group.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
                let joined = pendingPrefix.map { $0 + "," + part } ?? part
                let needsMore = ["IVF", "PCA", "OPQ", "RR", "ITQ"].contains { part.uppercased().hasPrefix($0) }
                if needsMore { pendingPrefix = joined } else { out.append(joined); pendingPrefix = nil }
            }
            if let pendingPrefix { out.append(pendingPrefix) }  // let FAISS reject an incomplete one
        }
        return out
    }

    static func integers(_ text: String, option: String) throws -> [Int] {
        try text.split(separator: ",").map { part in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw ValidationError("\(option): '\(part)' is not a positive integer")
            }
            return v
        }
    }

    /// CPU time of the whole process (all threads), seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func recall(_ results: SearchResults, _ truth: SearchResults) -> Double {
        var found = 0, total = 0
        for q in 0..<truth.queryCount {
            let expected = Set(truth.ids[q * truth.k ..< (q + 1) * truth.k].filter { $0 >= 0 })
            found += expected.intersection(results.ids[q * results.k ..< (q + 1) * results.k]).count
            total += expected.count
        }
        return total == 0 ? 1 : Double(found) / Double(total)
    }

    static func normalizeRows(_ v: inout [Float], dimension d: Int) {
        for r in 0..<v.count / d {
            var s: Float = 0
            for j in 0..<d { s += v[r * d + j] * v[r * d + j] }
            let inv = 1 / max(s.squareRoot(), 1e-12)
            for j in 0..<d { v[r * d + j] *= inv }
        }
    }

    static func unitGaussian(count: Int, dimension d: Int, rng: inout SplitMix64) -> [Float] {
        var v = (0..<count * d).map { _ in rng.gaussian() }
        normalizeRows(&v, dimension: d)
        return v
    }

    static func clustered(count: Int, dimension d: Int, clusters: Int, rng: inout SplitMix64) -> [Float] {
        let centres = unitGaussian(count: clusters, dimension: d, rng: &rng)
        let noise = 0.6 / Float(d).squareRoot()
        var v = [Float](repeating: 0, count: count * d)
        for i in 0..<count {
            let c = Int.random(in: 0..<clusters, using: &rng)
            for j in 0..<d { v[i * d + j] = centres[c * d + j] + noise * rng.gaussian() }
        }
        normalizeRows(&v, dimension: d)
        return v
    }

    static func readFloats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        guard data.count % 4 == 0 else { throw ValidationError("\(url.path): \(data.count) bytes is not a whole number of floats") }
        var values = [Float](repeating: 0, count: data.count / 4)
        values.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }  // little-endian file and hosts (x86-64, arm64)
        return values
    }

    static func writeFloats(_ values: [Float], to url: URL) throws {
        let data = values.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian hosts (x86-64, arm64)
        try data.write(to: url)
    }
}
