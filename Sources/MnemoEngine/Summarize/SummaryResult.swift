import MnemoTokenizers

/// One generated summary: of a chunk of the document (map step) or of a group of summaries (reduce step).
public struct PartSummary: Sendable, Equatable, Codable {
    /// 0 = a chunk of the document; 1, 2, ... = summaries of the level below.
    public var level: Int
    /// Position within its level.
    public var index: Int
    /// The chapter title, with "(part k/n)" when a chapter was cut into windows; "summaries i-j" for merges.
    public var title: String
    /// Tokens of the text summarized (document text, or the joined summaries).
    public var sourceTokens: Int
    /// Tokens of the whole prompt (template, request and text).
    public var promptTokens: Int
    public var generatedTokens: Int
    public var summary: String
    public var stopReason: StopReason
    /// Wall time of this generation (prompt and decoding).
    public var seconds: Double

    public init(level: Int, index: Int, title: String, sourceTokens: Int, promptTokens: Int, generatedTokens: Int,
                summary: String, stopReason: StopReason, seconds: Double) {
        self.level = level
        self.index = index
        self.title = title
        self.sourceTokens = sourceTokens
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.summary = summary
        self.stopReason = stopReason
        self.seconds = seconds
    }
}

/// What `Summarizer.summarize` returns.
public struct SummaryResult: Sendable, Equatable {
    /// The summary of the whole document.
    public var summary: String
    public var strategy: SummaryStrategy
    /// `hierarchical`: chunk summaries (level 0), in document order: one per chapter, or per window of
    /// a long chapter. Empty for `retrieval` and `stream`, which read the document whole.
    public var chunks: [PartSummary]
    /// `hierarchical`: summaries of summaries (levels 1...), the last one being the final summary; empty
    /// when the document fit in one chunk. `retrieval` and `stream`: the one generation after reading.
    public var merges: [PartSummary]
    /// Chapters `Document` found.
    public var chapterCount: Int
    /// Tokens of the document text (without special tokens).
    public var documentTokens: Int
    /// Prompt and generated tokens over every generation.
    public var promptTokens: Int
    public var generatedTokens: Int
    /// Wall time of the whole summary.
    public var seconds: Double
    /// How prompts were made (chat template or plain), and the template warning, if any.
    public var promptFormat: ChatPrompt.Format
    public var templateFamily: ChatTemplateFamily?
    public var systemFolded: Bool
    public var warning: String?
    /// For `retrieval` and `stream`: the plan and what the memory held after reading.
    public var memory: MemoryReadStats?
    /// For `hierarchical` with `memoryDirectory`: how many chunk summaries were reused and whether they were saved.
    public var chunkMemory: ChunkMemoryStats?

    public init(summary: String, strategy: SummaryStrategy, chunks: [PartSummary], merges: [PartSummary], chapterCount: Int,
                documentTokens: Int, promptTokens: Int, generatedTokens: Int, seconds: Double, promptFormat: ChatPrompt.Format,
                templateFamily: ChatTemplateFamily?, systemFolded: Bool, warning: String?, memory: MemoryReadStats? = nil,
                chunkMemory: ChunkMemoryStats? = nil) {
        self.summary = summary
        self.strategy = strategy
        self.chunks = chunks
        self.merges = merges
        self.chapterCount = chapterCount
        self.documentTokens = documentTokens
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.seconds = seconds
        self.promptFormat = promptFormat
        self.templateFamily = templateFamily
        self.systemFolded = systemFolded
        self.warning = warning
        self.memory = memory
        self.chunkMemory = chunkMemory
    }
}

/// Progress of a running summary, reported after each generation.
public struct SummaryProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Reading the document into memory (`retrieval`, `stream`): `completed`/`total` count slices of
        /// eight segments, plus the final generation.
        case read
        /// Summarizing a chunk of the document.
        case chunk
        /// Summarizing summaries.
        case merge
    }

    public var phase: Phase
    /// Generations finished so far and the number planned (merges are estimated until reached); for
    /// the memory strategies, slices read and the final generation.
    public var completed: Int
    public var total: Int
    /// Title of the part just finished.
    public var title: String
    /// Prompt tokens per second over the finished generations (reading speed).
    public var promptTokensPerSecond: Double
    /// Generated tokens per second over the finished generations.
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    /// Estimated from the average time per generation so far.
    public var estimatedSecondsLeft: Double
}
