import Foundation

/// What `SegmentStream` reports after reading one segment.
public struct SegmentReport: Sendable, Codable, Equatable {
    /// Segment number, from 0.
    public var index: Int
    /// Positions of the segment's tokens in the document's token sequence.
    public var tokenRange: Range<Int>
    /// The segment's token ids.
    public var tokens: [Int]
    /// Mean negative log-likelihood (nats) of the scored tokens; nil when none was scored (a
    /// one-token first segment). A segment's first token is predicted by the previous segment's
    /// last logits; the document's first token is not scored.
    public var nll: Double?
    /// Tokens scored: `tokens.count`, or one less for the first segment.
    public var scoredTokens: Int
    /// Sum of the scored tokens' negative log-likelihoods (so means over several segments are exact).
    public var nllSum: Double
    /// Rows in the window after the segment (`MemoryState.cache.count`; the whole KV cache for a plain model).
    public var windowRows: Int
    /// Entries in the kNN stores (all layers and KV heads).
    public var knnEntries: Int
    /// Entries in the Unlimiformer retrieval datastores (all layers).
    public var retrievalEntries: Int
    /// Tokens that have left the window since the document began (`MemoryState.evictedCount`).
    public var evictedTokens: Int
    /// Entries retrieved while reading the segment, over every layer, head and query (`MemoryState.lastRetrieved`).
    public var retrieved: Int
    /// Wall time of the model's forward pass over the segment (memory search included).
    public var forwardSeconds: Double
    /// Wall time of the whole segment: forward pass, log-probabilities and bookkeeping.
    public var seconds: Double

    /// `exp(nll)`, or nil.
    public var perplexity: Double? { nll.map { Foundation.exp($0) } }

    public init(index: Int, tokenRange: Range<Int>, tokens: [Int], nll: Double?, scoredTokens: Int, nllSum: Double,
                windowRows: Int, knnEntries: Int, retrievalEntries: Int, evictedTokens: Int, retrieved: Int,
                forwardSeconds: Double, seconds: Double) {
        self.index = index
        self.tokenRange = tokenRange
        self.tokens = tokens
        self.nll = nll
        self.scoredTokens = scoredTokens
        self.nllSum = nllSum
        self.windowRows = windowRows
        self.knnEntries = knnEntries
        self.retrievalEntries = retrievalEntries
        self.evictedTokens = evictedTokens
        self.retrieved = retrieved
        self.forwardSeconds = forwardSeconds
        self.seconds = seconds
    }
}

/// Totals of a `SegmentStream` so far.
public struct SegmentSummary: Sendable, Codable, Equatable {
    /// Tokens read (special tokens included).
    public var tokens: Int = 0
    /// Segments read.
    public var segments: Int = 0
    /// Tokens scored (all but the first).
    public var scoredTokens: Int = 0
    /// Sum of the scored tokens' negative log-likelihoods, nats.
    public var nllSum: Double = 0
    /// Wall time spent reading segments (sum of `SegmentReport.seconds`).
    public var seconds: Double = 0
    /// Wall time spent turning text into token ids.
    public var tokenizeSeconds: Double = 0

    public init() {}

    /// Mean negative log-likelihood per scored token; nil before any token is scored.
    public var nll: Double? { scoredTokens > 0 ? nllSum / Double(scoredTokens) : nil }
    /// `exp(nll)`.
    public var perplexity: Double? { nll.map { Foundation.exp($0) } }
    /// Tokens read per second of segment reading (0 before any time was measured).
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }

    mutating func add(_ report: SegmentReport) {
        tokens += report.tokens.count
        segments += 1
        scoredTokens += report.scoredTokens
        nllSum += report.nllSum
        seconds += report.seconds
    }
}

/// What `SegmentStream.events(...)` yields: one `.segment` per segment read, then `.finished`.
///
/// Not `Sendable`: the last event hands the consumer the stream itself (its memory state), to
/// generate with what it has read. It crosses from the producing task exactly once.
public enum SegmentEvent {
    /// A segment was read.
    case segment(SegmentReport)
    /// The document is finished: totals, and the stream holding the memory of it.
    case finished(SegmentSummary, SegmentStream)
}

/// Errors of `SegmentStream` and `IncrementalEncoder`; `"\(error)"` is one line naming the value.
public enum SegmentStreamError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A segment length below 1, or none given for a model without a memory plan.
    case invalidSegmentLength(value: Int?, expected: String)
    /// A segment length that differs from the memory plan's.
    case segmentLengthMismatch(value: Int, planSegmentLength: Int)
    /// A plain model's context cannot take the next segment.
    case contextFull(tokens: Int, segmentTokens: Int, contextLength: Int)
    /// Input after `finish()`.
    case finished
    /// `feed(tokens:)` after text, or `feed(text:)` after tokens, in one document.
    case mixedInput(expected: String, found: String)
    /// Generation asked for before `finish()`, or with nothing read and no prompt.
    case notReadyToGenerate(reason: String)
    /// A cut taken as safe changed the tokens before it once more text arrived (a tokenizer that
    /// merges across line starts); `byteOffset` is the committed text's length.
    case tokenizationDiverged(byteOffset: Int)

    public var description: String {
        switch self {
        case let .invalidSegmentLength(value, expected):
            return "segment length \(value.map(String.init) ?? "(none)"): \(expected)"
        case let .segmentLengthMismatch(value, plan):
            return "segment length \(value) differs from the memory plan's segmentLength \(plan); omit it or use \(plan)"
        case let .contextFull(tokens, segmentTokens, contextLength):
            return "context full: \(tokens) tokens read, the next \(segmentTokens) do not fit the model's context of \(contextLength) (use a memory plan to read further)"
        case .finished:
            return "segment stream: input after finish()"
        case let .mixedInput(expected, found):
            return "segment stream: expected \(expected) for this document, got \(found)"
        case let .notReadyToGenerate(reason):
            return "segment stream: cannot generate yet: \(reason)"
        case let .tokenizationDiverged(byteOffset):
            return "incremental tokenization diverged at byte \(byteOffset): the tokenizer merges across a line start; pass token ids instead"
        }
    }

    public var errorDescription: String? { description }
}
