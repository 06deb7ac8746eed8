import ArgumentParser
import Foundation
import Mnemo

/// `mnemo score`: per-token log-probabilities, NLL and perplexity of a text.
struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a text: per-token log-probabilities, mean negative log-likelihood and perplexity.",
        discussion: """
            The text is encoded with the tokenizer's special tokens (BOS first); the first token is not
            scored. A text longer than the model's context is scored in strided windows of the context
            length (each window advances by --stride tokens, default half the context).
            With a memory plan (--plan and/or --segment, --xl-memory, ...) the text is read segment by
            segment through the plan's memory mechanisms instead, in one pass, whatever its length.
            """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup(title: "Memory plan") var memory: PlanOptions

    @Option(help: "Text to score.")
    var text: String?

    @Option(help: "Read the text from a UTF-8 file.")
    var file: String?

    @Option(help: "Window advance for texts longer than the context (default: half the context).")
    var stride: Int?

    @Flag(help: #"Print {"tokens": [...], "logprobs": [null, ...], "nll": x, "perplexity": y}."#)
    var json = false

    func validate() throws {
        switch (text, file) {
        case (nil, nil): throw ValidationError("give --text or --file")
        case (.some, .some): throw ValidationError("give either --text or --file, not both")
        default: break
        }
        if let stride, stride < 1 { throw ValidationError("--stride must be >= 1, got \(stride)") }
        if memory.isGiven, stride != nil {
            throw ValidationError("--stride applies to windowed scoring without a memory plan; a plan reads the text in one pass")
        }
    }

    func run() async throws {
        let input: String
        if let file {
            input = try TextFile.read(URL(fileURLWithPath: file), allowEmpty: false)
        } else {
            input = text ?? ""
        }
        let plan = try memory.memoryPlan()
        let session = try model.loadSession()
        let result = try Scorer(model: PlanOptions.logitsModel(session.model, plan: plan), stride: stride)
            .score(tokens: session.encode(input))
        if json {
            Console.line(JSONText.object([
                ("tokens", JSONText.array(result.tokens.map { "\($0)" })),
                ("logprobs", JSONText.array(result.logprobs.map { JSONText.number($0) })),
                ("nll", JSONText.number(result.nll)),
                ("perplexity", JSONText.number(result.perplexity)),
            ]))
            return
        }
        Console.line(pad("index", 6, right: true) + "  " + pad("id", 7, right: true) + "  " + pad("piece", 24) + "  logprob")
        for (i, id) in result.tokens.enumerated() {
            let piece = visiblePiece(session.tokenizer.decode([id], skipSpecialTokens: false))
            let logprob = result.logprobs[i].map { String(format: "%.6f", $0) } ?? "-"
            Console.line(pad("\(i)", 6, right: true) + "  " + pad("\(id)", 7, right: true) + "  " + pad(piece, 24) + "  " + logprob)
        }
        Console.line(String(format: "tokens: %d (scored %d)  nll: %.6f  perplexity: %.6f",
                            result.tokens.count, result.tokens.count - 1, result.nll, result.perplexity))
    }
}
