import Foundation

/// How a document is summarized (`mnemo summarize --strategy`).
public enum SummaryStrategy: String, Sendable, Codable, CaseIterable {
    /// Read the document once into Unlimiformer retrieval memory, then generate attending to it.
    case retrieval
    /// Map-reduce: summarize chapter- or window-sized chunks, then summarize the summaries.
    case hierarchical
    /// Transformer-XL window plus kNN memory while reading, then generate.
    case stream
}

/// How long the summary should be (`--length`): a token budget and a hint in the request.
public enum SummaryLength: String, Sendable, Codable, CaseIterable {
    case short, medium, long

    /// Largest number of tokens of the final summary.
    public var maxTokens: Int {
        switch self {
        case .short: return 128
        case .medium: return 256
        case .long: return 512
        }
    }

    /// Largest number of tokens of each chunk summary (the map step of `hierarchical`).
    public var chunkMaxTokens: Int {
        switch self {
        case .short: return 64
        case .medium: return 128
        case .long: return 192
        }
    }

    /// The length request written into the prompt.
    public var hint: String {
        switch self {
        case .short: return "in two or three sentences"
        case .medium: return "in one paragraph"
        case .long: return "in a few paragraphs"
        }
    }
}

/// Options of `Summarizer` (the flags of `mnemo summarize`).
///
/// ```swift
/// var options = SummaryOptions(strategy: .hierarchical, length: .short)
/// options.instruction = "Summarize the plot, naming the main characters."
/// options.maxTokens = 200                   // overrides the length's budget
/// ```
public struct SummaryOptions: Sendable, Equatable {
    public var strategy: SummaryStrategy
    /// Replaces the default request ("Summarize the following text in one paragraph."); used for every
    /// chunk and for the final summary.
    public var instruction: String?
    public var length: SummaryLength
    /// Token budget of the final summary; nil uses `length.maxTokens`.
    public var maxTokens: Int?
    /// Token budget of each chunk summary; nil uses `length.chunkMaxTokens` (at most `maxTokens`).
    public var chunkMaxTokens: Int?
    /// Tokens of document text per chunk; nil fits as much as the model's context allows.
    public var chunkTokens: Int?
    /// An optional system message (folded into the user turn for templates that reject it).
    public var system: String?
    /// Sampling temperature; 0 (the default) is greedy, so the same input gives the same summary.
    public var temperature: Double
    /// Seed of the sampler when `temperature > 0`.
    public var seed: UInt64?
    /// The memory plan of `retrieval` and `stream`; nil uses `Summarizer.defaultMemoryPlan`.
    public var memoryPlan: MemoryPlan?
    /// A document memory directory (`--memory`). `retrieval`/`stream`: when it holds the memory snapshot of
    /// the same document part, model and plan, it is loaded and only the request is read; when it is missing
    /// or empty, the document is read and its memory saved there; anything else is an error.
    /// `hierarchical`: the chunk summaries (made with the default request, not `instruction`, so they serve
    /// any later question) are saved there as they are made and reused by any run with the same text, model,
    /// chunk settings and sampling; only the merges and the final summary are generated again.
    public var memoryDirectory: URL?

    public init(strategy: SummaryStrategy = .retrieval, instruction: String? = nil, length: SummaryLength = .medium,
                maxTokens: Int? = nil, chunkMaxTokens: Int? = nil, chunkTokens: Int? = nil, system: String? = nil,
                temperature: Double = 0, seed: UInt64? = nil, memoryPlan: MemoryPlan? = nil, memoryDirectory: URL? = nil) {
        self.memoryDirectory = memoryDirectory
        self.strategy = strategy
        self.instruction = instruction
        self.length = length
        self.maxTokens = maxTokens
        self.chunkMaxTokens = chunkMaxTokens
        self.chunkTokens = chunkTokens
        self.system = system
        self.temperature = temperature
        self.seed = seed
        self.memoryPlan = memoryPlan
    }

    /// The final summary's token budget.
    public var finalMaxTokens: Int { maxTokens ?? length.maxTokens }

    /// Each chunk summary's token budget.
    public var chunkSummaryMaxTokens: Int { chunkMaxTokens ?? min(length.chunkMaxTokens, finalMaxTokens) }

    /// Checks every field's range.
    /// - Throws: `SummaryError.invalidOption` naming the option and the bad value.
    public func validate() throws {
        if let maxTokens, maxTokens < 1 {
            throw SummaryError.invalidOption(name: "max-tokens", value: "\(maxTokens)", expected: ">= 1")
        }
        if let chunkMaxTokens, chunkMaxTokens < 1 {
            throw SummaryError.invalidOption(name: "chunk-max-tokens", value: "\(chunkMaxTokens)", expected: ">= 1")
        }
        if let chunkTokens, chunkTokens < 16 {
            throw SummaryError.invalidOption(name: "chunk-tokens", value: "\(chunkTokens)", expected: ">= 16")
        }
        if let instruction, instruction.allSatisfy(\.isWhitespace) {
            throw SummaryError.invalidOption(name: "instruction", value: "\"\(instruction)\"", expected: "some text")
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw SummaryError.invalidOption(name: "temperature", value: "\(temperature)", expected: "a finite number >= 0")
        }
    }
}
