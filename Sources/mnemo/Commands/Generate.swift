import ArgumentParser
import Foundation
import Mnemo

/// `mnemo generate`: continue a prompt, streaming the continuation to standard output.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt; only the generated text goes to standard output, as it is produced.",
        discussion: """
            With neither --prompt nor --prompt-file, generation starts from the BOS token.
            Statistics go to standard error with --verbose; --json prints one JSON object instead.
            """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingArgs
    @OptionGroup(title: "Memory plan") var memory: PlanOptions

    @Option(help: "Prompt text.")
    var prompt: String?

    @Option(help: "Read the prompt from a UTF-8 text file.")
    var promptFile: String?

    @Flag(help: "Print one JSON object (text, token ids, logprobs, stats) instead of streaming text.")
    var json = false

    @Flag(help: "Print prompt/generation statistics to standard error.")
    var verbose = false

    @Option(name: .customLong("memory"), help: ArgumentHelp(
        "Continue a document from its memory snapshot (made by `mnemo index`); the plan comes from the snapshot.",
        valueName: "dir"))
    var memorySnapshot: String?

    func validate() throws {
        if prompt != nil, promptFile != nil {
            throw ValidationError("give either --prompt or --prompt-file, not both")
        }
    }

    func run() async throws {
        let promptText = try prompt ?? promptFile.map { try TextFile.read(URL(fileURLWithPath: $0)) } ?? ""
        let plan = try memory.memoryPlan()
        if let memorySnapshot {
            guard plan == nil else {
                throw ValidationError("--memory takes its plan from the snapshot's manifest: drop --plan and the plan flags")
            }
            return try generateFromMemory(URL(fileURLWithPath: memorySnapshot), prompt: promptText)
        }
        let session = try model.loadSession()
        // With a memory plan the prompt and the output are read segment by segment through it.
        let generator = try Generator(model: PlanOptions.logitsModel(session.model, plan: plan),
                                      tokenizer: session.tokenizer, options: sampling.options)
        try generator.prefill(generator.promptTokens(for: promptText))
        var generated: [GeneratedToken] = []
        var text = ""
        while let token = try generator.step() {
            if Task.isCancelled { break }
            if json {
                generated.append(token)
                text += token.text
            } else if !token.text.isEmpty {
                Console.out(token.text)
            }
        }
        let tail = generator.finish(reason: .cancelled)
        let stats = generator.stats
        if json {
            text += tail
            Console.line(JSONText.object([
                ("text", JSONText.string(text)),
                ("tokens", JSONText.array(generated.map { "\($0.id)" })),
                ("logprobs", JSONText.array(generated.map { JSONText.number($0.logprob) })),
                ("stats", Self.statsJSON(stats)),
            ]))
        } else {
            Console.out(tail)
        }
        if verbose {
            Console.log("")
            Console.log(String(format: "prompt: %d tokens in %.3f s (%.1f tok/s)",
                               stats.promptTokens, stats.prefillSeconds, stats.prefillTokensPerSecond))
            Console.log(String(format: "generated: %d tokens in %.3f s (%.1f tok/s)",
                               stats.generatedTokens, stats.decodeSeconds, stats.tokensPerSecond)
                        + ", stopped: \(stats.stopReason?.rawValue ?? "-")")
        }
    }

    static func statsJSON(_ stats: GenerationStats) -> String {
        JSONText.object([
            ("prompt_tokens", "\(stats.promptTokens)"),
            ("generated_tokens", "\(stats.generatedTokens)"),
            ("prefill_seconds", JSONText.number(stats.prefillSeconds)),
            ("decode_seconds", JSONText.number(stats.decodeSeconds)),
            ("prefill_tokens_per_second", JSONText.number(stats.prefillTokensPerSecond)),
            ("tokens_per_second", JSONText.number(stats.tokensPerSecond)),
            ("stop_reason", stats.stopReason.map { JSONText.string($0.rawValue) } ?? "null"),
        ])
    }
}
