import XCTest
@testable import MnemoEngine

final class SamplerTests: XCTestCase {
    private let probabilities: [Double] = [0.1, 0.2, 0.3, 0.4]
    private var logits: [Float] { probabilities.map { Float(Foundation.log($0)) } }

    func testGreedyPicksLowestIdOnTies() {
        XCTAssertEqual(Sampler.argmax([1, 3, 3, 2]), 1)
        XCTAssertEqual(Sampler.argmax([.nan, 0, 5, 5]), 2)
        XCTAssertEqual(Sampler.argmax([-.infinity, -.infinity]), 0)
        var sampler = Sampler(options: SamplingOptions(temperature: 0))
        XCTAssertEqual(sampler.sample([0, 7, 2, 7]), 1)
    }

    func testTopK1AndTinyTopPEqualGreedy() {
        var rng = Xoshiro256StarStar(seed: 1)
        for seed in 0 ..< 50 as Range<UInt64> {
            let row = (0 ..< 64).map { _ in Float(rng.nextUnitDouble() * 8 - 4) }
            let greedy = Sampler.argmax(row)
            var topK = Sampler(options: SamplingOptions(temperature: 1.3, topK: 1, seed: seed))
            var topP = Sampler(options: SamplingOptions(temperature: 1.3, topP: 1e-9, seed: seed))
            XCTAssertEqual(topK.sample(row), greedy)
            XCTAssertEqual(topP.sample(row), greedy)
        }
        // Tie under a tiny top-p: the lowest id of the tied maxima survives.
        var tied = Sampler(options: SamplingOptions(temperature: 1, topP: 1e-9, seed: 3))
        XCTAssertEqual(tied.sample([0, 2, 1, 2]), 1)
    }

    func testSeededSamplingIsReproducible() {
        let options = SamplingOptions(temperature: 1, seed: 1234)
        var a = Sampler(options: options), b = Sampler(options: options)
        let drawsA = (0 ..< 200).map { _ in a.sample(logits) }
        let drawsB = (0 ..< 200).map { _ in b.sample(logits) }
        XCTAssertEqual(drawsA, drawsB)
        var c = Sampler(options: SamplingOptions(temperature: 1, seed: 1235))
        XCTAssertNotEqual(drawsA, (0 ..< 200).map { _ in c.sample(logits) })
        // The PRNG itself: xoshiro256** is deterministic across runs and platforms.
        var r1 = Xoshiro256StarStar(seed: 42), r2 = Xoshiro256StarStar(seed: 42)
        XCTAssertEqual((0 ..< 8).map { _ in r1.next() }, (0 ..< 8).map { _ in r2.next() })
    }

    /// Empirical frequencies of 200,000 seeded draws vs the exact distribution.
    /// Tolerance 0.006 absolute: the largest standard deviation, sqrt(0.25 * 0.75 / 2e5) ≈ 0.001,
    /// times about 6, so a correct sampler fails with negligible probability (and the seed is fixed).
    private func assertFrequencies(_ options: SamplingOptions, expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        var sampler = Sampler(options: options)
        var counts = [Int](repeating: 0, count: expected.count)
        let draws = 200_000
        for _ in 0 ..< draws { counts[sampler.sample(logits)] += 1 }
        for (i, p) in expected.enumerated() {
            XCTAssertEqual(Double(counts[i]) / Double(draws), p, accuracy: 0.006, "token \(i)", file: file, line: line)
        }
    }

    func testTemperatureOneMatchesSoftmax() {
        assertFrequencies(SamplingOptions(temperature: 1, seed: 7), expected: probabilities)
    }

    func testTemperatureTwoFlattens() {
        // softmax(log p / 2) = sqrt(p) / sum(sqrt(p))
        let s = probabilities.map { $0.squareRoot() }
        let total = s.reduce(0, +)
        assertFrequencies(SamplingOptions(temperature: 2, seed: 8), expected: s.map { $0 / total })
    }

    func testTopKRenormalises() {
        assertFrequencies(SamplingOptions(temperature: 1, topK: 2, seed: 9), expected: [0, 0, 3.0 / 7, 4.0 / 7])
    }

    func testTopPKeepsSmallestPrefixReachingP() {
        // Descending 0.4 (< 0.5), then 0.7 (>= 0.5): keep tokens 3 and 2.
        assertFrequencies(SamplingOptions(temperature: 1, topP: 0.5, seed: 10), expected: [0, 0, 3.0 / 7, 4.0 / 7])
    }

    func testTemperatureAppliesBeforeTopP() {
        // At T = 2 the probabilities are sqrt(p)/sum: 0.3254, 0.2818, 0.2301, 0.1627; cumulative
        // 0.3254, 0.6072, 0.8373, so top-p 0.65 keeps three tokens (at T = 1 it would keep two).
        let sampler = Sampler(options: SamplingOptions(temperature: 2, topP: 0.65, seed: 1))
        let kept = sampler.probabilities(logits)
        XCTAssertEqual(kept.map(\.id), [3, 2, 1])
        let s = [0.2, 0.3, 0.4].map { $0.squareRoot() }
        let total = s.reduce(0, +)
        XCTAssertEqual(kept[0].probability, s[2] / total, accuracy: 1e-6)
        XCTAssertEqual(kept[1].probability, s[1] / total, accuracy: 1e-6)
        XCTAssertEqual(kept[2].probability, s[0] / total, accuracy: 1e-6)
    }

    func testTopKAppliesBeforeTopP() {
        // top-k 3 leaves 0.2, 0.3, 0.4 renormalised to 2/9, 3/9, 4/9; top-p 0.5 then keeps 4/9 + 3/9.
        let sampler = Sampler(options: SamplingOptions(temperature: 1, topK: 3, topP: 0.5, seed: 1))
        XCTAssertEqual(sampler.probabilities(logits).map(\.id), [3, 2])
    }

    func testRepetitionPenaltyFollowsHF() {
        // HF: positive logits are divided, negative multiplied: [2, -2, 1.5] -> [1, -4, 1.5].
        let sampler = Sampler(options: SamplingOptions(temperature: 1, seed: 1, repetitionPenalty: 2))
        let kept = sampler.probabilities([2, -2, 1.5], history: [0, 1, 0])
        let e = [1.0, -4.0, 1.5].map { Foundation.exp($0) }
        let total = e.reduce(0, +)
        XCTAssertEqual(kept.map(\.id), [2, 0, 1])
        XCTAssertEqual(kept[0].probability, e[2] / total, accuracy: 1e-9)
        XCTAssertEqual(kept[2].probability, e[1] / total, accuracy: 1e-9)
        var greedy = Sampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 2))
        XCTAssertEqual(greedy.sample([2, -2, 1.5], history: [0]), 2)
    }

    func testValidationNamesTheBadValue() {
        XCTAssertThrowsError(try SamplingOptions(topP: 1.5).validate()) { error in
            XCTAssertEqual("\(error)", "top-p must be in (0, 1], got 1.5")
        }
        XCTAssertThrowsError(try SamplingOptions(topP: 0).validate())
        XCTAssertThrowsError(try SamplingOptions(temperature: -1).validate()) { error in
            XCTAssertEqual("\(error)", "temperature must be a finite number >= 0, got -1.0")
        }
        XCTAssertThrowsError(try SamplingOptions(topK: -3).validate()) { error in
            XCTAssertTrue("\(error)".contains("-3"))
        }
        XCTAssertThrowsError(try SamplingOptions(maxTokens: -1).validate())
        XCTAssertNoThrow(try SamplingOptions(temperature: 0.7, topK: 40, topP: 0.9, seed: 1, maxTokens: 5).validate())
    }

    func testOptionsRoundTripThroughJSON() throws {
        let options = SamplingOptions(temperature: 0.5, topK: 3, topP: 0.8, seed: 99, maxTokens: 7)
        let decoded = try JSONDecoder().decode(SamplingOptions.self, from: JSONEncoder().encode(options))
        XCTAssertEqual(decoded, options)
    }
}
