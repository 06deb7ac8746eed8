// Seeded data generators and helpers shared by the MnemoMemory tests.
import Foundation
import XCTest
@testable import MnemoMemory
import MnemoTensor

/// A seeded generator (SplitMix64 from MnemoTensor, with `gaussian()`) so every test is reproducible.
typealias SeededRNG = SplitMix64

enum TestData {
    /// `count` Gaussian vectors (continuous, so scores are tie-free with probability 1).
    static func gaussian(count: Int, dimension: Int, rng: inout SeededRNG) -> [Float] {
        (0..<count * dimension).map { _ in rng.gaussian() }
    }

    /// L2-normalises each row in place.
    static func normalize(_ v: inout [Float], dimension: Int) {
        for r in 0..<v.count / dimension {
            var s: Float = 0
            for j in 0..<dimension { s += v[r * dimension + j] * v[r * dimension + j] }
            let inv = 1 / max(s.squareRoot(), 1e-12)
            for j in 0..<dimension { v[r * dimension + j] *= inv }
        }
    }

    /// Clustered unit vectors: `clusters` random centres, each point a centre plus Gaussian noise
    /// of relative size `spread`, normalised (like attention keys, which concentrate in a few
    /// directions per head).
    static func clustered(count: Int, dimension: Int, clusters: Int, spread: Float, rng: inout SeededRNG) -> [Float] {
        var centres = gaussian(count: clusters, dimension: dimension, rng: &rng)
        normalize(&centres, dimension: dimension)
        var out = [Float](repeating: 0, count: count * dimension)
        let noise = spread / Float(dimension).squareRoot()
        for i in 0..<count {
            let c = Int.random(in: 0..<clusters, using: &rng)
            for j in 0..<dimension { out[i * dimension + j] = centres[c * dimension + j] + noise * rng.gaussian() }
        }
        normalize(&out, dimension: dimension)
        return out
    }

    /// The stories260K attention-key fixture (12,000 layer-2 pre-RoPE keys of 32 floats, made by
    /// Fixtures/scripts/extract_stories260k_keys_faiss.py), L2-normalised as the kNN memory
    /// stores keys (Memorizing Transformers).
    static func storiesKeys() throws -> (keys: [Float], dimension: Int) {
        let url = fixtures.appendingPathComponent("vectors/stories260K_alice_layer2_keys.f32")
        let data = try Data(contentsOf: url)
        let floats = data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        var keys = floats
        normalize(&keys, dimension: 32)
        return (keys, 32)
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized
}

/// Fraction of the reference top-k ids found in the candidate top-k (recall@k), over all queries.
func recall(_ candidate: SearchResults, reference: SearchResults) -> Double {
    precondition(candidate.k == reference.k && candidate.queryCount == reference.queryCount)
    var found = 0, total = 0
    let k = reference.k
    for q in 0..<reference.queryCount {
        let truth = Set(reference.ids[q * k ..< (q + 1) * k].filter { $0 >= 0 })
        let got = Set(candidate.ids[q * k ..< (q + 1) * k])
        found += truth.intersection(got).count
        total += truth.count
    }
    return total == 0 ? 1 : Double(found) / Double(total)
}

/// Asserts that `body` throws `VectorIndexError` whose one-line description equals `message`.
func assertThrows<T>(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected error: \(message)", file: file, line: line)
    } catch let error as VectorIndexError {
        XCTAssertEqual("\(error)", message, file: file, line: line)
        XCTAssertFalse("\(error)".contains("\n"), "error spans several lines", file: file, line: line)
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
}

/// A fresh empty temporary directory, removed at the end of the test.
func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-memory-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
