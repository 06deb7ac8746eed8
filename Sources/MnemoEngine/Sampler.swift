import Foundation

/// Chooses the next token from a row of logits.
///
/// The pipeline follows Hugging Face `transformers`' logits processors and warpers
/// (`RepetitionPenaltyLogitsProcessor`, `TemperatureLogitsWarper`, `TopKLogitsWarper`,
/// `TopPLogitsWarper`, in that order), then draws by inverse CDF over the surviving tokens
/// sorted by probability (descending, lowest id first on ties) with a seeded xoshiro256**.
///
/// ```swift
/// var sampler = Sampler(options: SamplingOptions(temperature: 0.8, topP: 0.9, seed: 7))
/// let next = sampler.sample(logits)
/// ```
public struct Sampler: Sendable {
    /// The options this sampler applies (`maxTokens`/EOS handling belong to `Generator`).
    public let options: SamplingOptions
    private var random: Xoshiro256StarStar

    /// Creates a sampler; its PRNG is seeded with `options.seed`, or with a system-random seed when nil.
    public init(options: SamplingOptions) {
        self.options = options
        if let seed = options.seed {
            random = Xoshiro256StarStar(seed: seed)
        } else {
            var system = SystemRandomNumberGenerator()
            random = Xoshiro256StarStar(seed: system.next())
        }
    }

    /// Index of the largest logit; the lowest index wins ties and NaNs are ignored.
    /// - Complexity: O(n).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        var found = false
        for (i, x) in logits.enumerated() where x > bestValue || (!found && x == bestValue) {
            best = i
            bestValue = x
            found = true
        }
        return best
    }

    /// Picks the next token.
    ///
    /// - Parameters:
    ///   - logits: one row of `vocabularySize` logits.
    ///   - history: tokens already in context (used only by the repetition penalty).
    /// - Returns: a token id in `0 ..< logits.count`.
    /// - Complexity: O(n) when greedy, O(n log n) otherwise.
    public mutating func sample(_ logits: [Float], history: [Int] = []) -> Int {
        let penalized = applyRepetitionPenalty(logits, history: history)
        if options.isGreedy { return Self.argmax(penalized) }
        let candidates = distribution(penalized)
        guard let last = candidates.last else { return Self.argmax(penalized) }
        let u = random.nextUnitDouble()
        var cumulative = 0.0
        for candidate in candidates {
            cumulative += candidate.probability
            if u < cumulative { return candidate.id }
        }
        return last.id  // rounding left the total just below 1
    }

    /// The distribution `sample` draws from: surviving ids with renormalised probabilities,
    /// sorted by probability descending (lowest id first on ties).
    ///
    /// When greedy this is the argmax with probability 1.
    public func probabilities(_ logits: [Float], history: [Int] = []) -> [(id: Int, probability: Double)] {
        let penalized = applyRepetitionPenalty(logits, history: history)
        if options.isGreedy { return [(Self.argmax(penalized), 1)] }
        return distribution(penalized)
    }

    private func applyRepetitionPenalty(_ logits: [Float], history: [Int]) -> [Float] {
        guard options.repetitionPenalty != 1, !history.isEmpty else { return logits }
        var result = logits
        let penalty = Float(options.repetitionPenalty)
        for id in Set(history) where id >= 0 && id < result.count {
            result[id] = result[id] > 0 ? result[id] / penalty : result[id] * penalty
        }
        return result
    }

    /// temperature → top-k → top-p, then renormalise.
    private func distribution(_ logits: [Float]) -> [(id: Int, probability: Double)] {
        let temperature = options.temperature
        var order: [(id: Int, score: Double)] = []
        order.reserveCapacity(logits.count)
        for (i, x) in logits.enumerated() {
            let score = Double(x) / temperature
            if score.isFinite { order.append((i, score)) }
        }
        guard !order.isEmpty else { return [] }
        order.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        if options.topK > 0, options.topK < order.count {
            order.removeSubrange(options.topK...)
        }
        let maximum = order[0].score
        var weights = order.map { Foundation.exp($0.score - maximum) }
        var total = weights.reduce(0, +)
        var keep = order.count
        if options.topP < 1 {
            // HF TopPLogitsWarper removes tokens whose ascending cumulative mass is <= 1 - top_p;
            // equivalently keep the descending prefix up to and including the token whose
            // cumulative probability first reaches top_p (always at least one token).
            var cumulative = 0.0
            keep = 0
            for w in weights {
                keep += 1
                cumulative += w / total
                if cumulative >= options.topP { break }
            }
            weights.removeSubrange(keep...)
            total = weights.reduce(0, +)
        }
        return (0 ..< keep).map { (order[$0].id, weights[$0] / total) }
    }
}
