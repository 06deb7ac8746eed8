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

    /// Naive reference: full softmax, full sort (probability descending, id ascending), then
    /// top-k prefix, renormalise, top-p prefix, renormalise.
    private func naiveDistribution(_ logits: [Float], temperature: Double, topK: Int, topP: Double) -> [(Int, Double)] {
        var items = logits.enumerated().map { ($0.offset, Double($0.element) / temperature) }
        items.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        if topK > 0 { items = Array(items.prefix(topK)) }
        let m = items[0].1
        var weights = items.map { Foundation.exp($0.1 - m) }
        var total = weights.reduce(0, +)
        var keep = items.count
        if topP < 1 {
            var cumulative = 0.0
            keep = 0
            for w in weights {
                keep += 1
                cumulative += w / total
                if cumulative >= topP { break }
            }
            weights = Array(weights.prefix(keep))
            total = weights.reduce(0, +)
        }
        return (0 ..< keep).map { (items[$0].0, weights[$0] / total) }
    }

    func testFilteredDistributionMatchesNaiveReference() {
        var rng = Xoshiro256StarStar(seed: 99)
        for trial in 0 ..< 300 {
            let n = 1 + Int(rng.next() % 200)
            // Coarse values so that ties are common.
            let row = (0 ..< n).map { _ in Float(Int(rng.next() % 9)) * 0.5 - 2 }
            let topK = Int(rng.next() % 4) == 0 ? 0 : 1 + Int(rng.next() % 50)
            let topP = [1.0, 0.9, 0.5, 0.05][Int(rng.next() % 4)]
            let temperature = [0.5, 1.0, 1.7][Int(rng.next() % 3)]
            let sampler = Sampler(options: SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: 1))
            let got = sampler.probabilities(row)
            let expected = naiveDistribution(row, temperature: temperature, topK: topK, topP: topP)
            guard got.count == expected.count else {
                XCTFail("trial \(trial): \(got.count) tokens kept, expected \(expected.count)")
                continue
            }
            for (g, e) in zip(got, expected) {
                XCTAssertEqual(g.id, e.0, "trial \(trial)")
                XCTAssertEqual(g.probability, e.1, accuracy: 1e-12, "trial \(trial)")
            }
        }
    }

    func testTinyTemperatureOverflowKeepsTheLargestLogit() {
        // Regression: 20 / 1e-307 overflows to +inf and was dropped, so token 1 was always drawn.
        for topK in [0, 2] {
            let options = SamplingOptions(temperature: 1e-307, topK: topK, seed: 5)
            var sampler = Sampler(options: options)
            XCTAssertEqual((0 ..< 20).map { _ in sampler.sample([20, 5]) }, [Int](repeating: 0, count: 20), "topK \(topK)")
            let distribution = Sampler(options: options).probabilities([20, 5])
            XCTAssertEqual(distribution.map(\.id), [0], "topK \(topK)")
            XCTAssertEqual(distribution.map(\.probability), [1], "topK \(topK)")
            // Both overflow: the larger logit is the zero-temperature limit.
            XCTAssertEqual(Sampler(options: options).probabilities([300, 3e38, 1]).map(\.id), [1], "topK \(topK)")
        }
    }

    func testPositiveInfiniteLogitsShareAllTheProbability() {
        // Regression: a +inf logit was dropped at any temperature.
        for topK in [0, 3] {
            let options = SamplingOptions(temperature: 1, topK: topK, seed: 9)
            let distribution = Sampler(options: options).probabilities([0, .infinity, 50, .infinity, .nan, -.infinity])
            XCTAssertEqual(distribution.map(\.id), [1, 3], "topK \(topK)")
            XCTAssertEqual(distribution.map(\.probability), [0.5, 0.5], "topK \(topK)")
            var sampler = Sampler(options: options)
            let draws = (0 ..< 200).map { _ in sampler.sample([0, .infinity, 50, .infinity]) }
            XCTAssertEqual(Set(draws), [1, 3], "topK \(topK)")
        }
        // NaN and -inf still never survive.
        let distribution = Sampler(options: SamplingOptions(temperature: 1, seed: 1)).probabilities([.nan, -.infinity, 0])
        XCTAssertEqual(distribution.map(\.id), [2])
    }
}
