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
    /// - Complexity: O(n) when greedy; O(n log k) with top-k; O(n + m log m) with top-p alone
    ///   (m = tokens above llama2.c's nucleus cutoff); O(n log n) with neither filter.
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
        var candidates: [Candidate] = []
        candidates.reserveCapacity(options.topK > 0 ? min(options.topK, logits.count) : logits.count)
        if options.topK > 0, options.topK < logits.count {
            candidates = Self.topK(logits, k: options.topK, temperature: temperature)
        } else {
            for (i, x) in logits.enumerated() {
                let score = Double(x) / temperature
                if Candidate.isKept(score) { candidates.append(Candidate(id: i, score: score)) }
            }
        }
        guard !candidates.isEmpty else { return [] }
        if candidates.contains(where: { $0.score == .infinity }) {
            // A +inf logit, or a finite one overflowing under a tiny temperature, outweighs every
            // finite score: the limit is argmax, so the +inf entries with the largest logit share
            // all the probability uniformly (exp(inf - inf) would otherwise be NaN).
            let infinite = candidates.filter { $0.score == .infinity }
            let best = infinite.reduce(-Float.infinity) { max($0, logits[$1.id]) }
            candidates = infinite.filter { logits[$0.id] == best }.map { Candidate(id: $0.id, score: 0) }
        }
        // Softmax over the survivors (stored in `score` from here on as unnormalised weights).
        let maximum = candidates.reduce(-Double.infinity) { max($0, $1.score) }
        var total = 0.0
        for i in candidates.indices {
            candidates[i].score = Foundation.exp(candidates[i].score - maximum)
            total += candidates[i].score
        }
        if options.topP < 1, candidates.count > 1 {
            // llama2.c `sample_topp`: a token with probability below (1 - p) / (n - 1) can never be
            // inside the nucleus, so only the rest needs sorting.
            let cutoff = (1 - options.topP) / Double(candidates.count - 1) * total
            let inside = candidates.filter { $0.score >= cutoff }
            if !inside.isEmpty { candidates = inside }  // rounding could otherwise empty a flat row
        }
        candidates.sort(by: Candidate.precedes)
        var keep = candidates.count
        if options.topP < 1 {
            // HF TopPLogitsWarper removes tokens whose ascending cumulative mass is <= 1 - top_p;
            // equivalently keep the descending prefix up to and including the token whose
            // cumulative probability first reaches top_p (always at least one token).
            var cumulative = 0.0
            keep = 0
            for candidate in candidates {
                keep += 1
                cumulative += candidate.score / total
                if cumulative >= options.topP { break }
            }
            total = candidates[..<keep].reduce(0) { $0 + $1.score }
        }
        return candidates[..<keep].map { ($0.id, $0.score / total) }
    }

    private struct Candidate {
        var id: Int
        var score: Double

        /// Whether a `logit / temperature` can take part: NaN and -inf (probability 0) cannot;
        /// +inf can (it takes all the probability).
        static func isKept(_ score: Double) -> Bool { !score.isNaN && score != -.infinity }

        /// Higher score first, lower id first on ties.
        static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
            a.score > b.score || (a.score == b.score && a.id < b.id)
        }
    }

    /// The `k` best non-NaN, non-(-inf) `logits / temperature` (ties: lower id wins), via a size-k min-heap.
    /// - Complexity: O(n log k).
    private static func topK(_ logits: [Float], k: Int, temperature: Double) -> [Candidate] {
        var heap: [Candidate] = []  // heap[0] is the worst kept candidate
        heap.reserveCapacity(k)
        func worse(_ a: Candidate, _ b: Candidate) -> Bool { Candidate.precedes(b, a) }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, worse(heap[l], heap[m]) { m = l }
                if r < heap.count, worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for (i, x) in logits.enumerated() {
            let candidate = Candidate(id: i, score: Double(x) / temperature)
            guard Candidate.isKept(candidate.score) else { continue }
            if heap.count < k {
                heap.append(candidate)
                var c = heap.count - 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    guard worse(heap[c], heap[parent]) else { break }
                    heap.swapAt(c, parent)
                    c = parent
                }
            } else if Candidate.precedes(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(0)
            }
        }
        return heap
    }
}
