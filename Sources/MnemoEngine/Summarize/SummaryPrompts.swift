import Foundation
import MnemoTokenizers

/// The requests `Summarizer` sends, and how they become prompts.
///
/// With a chat template the request and the text go in one user message (plus the optional system
/// message). Without one (a base model such as stories260K) the plain prompt puts the text first and
/// ends with a "Summary:" cue, the form base models continue best.
struct SummaryPrompts {
    let options: SummaryOptions
    let tokenizer: Tokenizer

    /// The request for one chunk of the document.
    func chunkRequest(title: String, part: Int, of count: Int) -> String {
        let request = options.instruction ?? "Summarize the following text \(SummaryLength.short.hint)."
        let place = title.isEmpty ? "part \(part) of \(count)" : "part \(part) of \(count), \"\(title)\""
        return "\(request) It is \(place) of a longer document."
    }

    /// The request for summaries of consecutive parts (a merge, or the final summary).
    func mergeRequest(final: Bool) -> String {
        let hint = final ? options.length.hint : SummaryLength.short.hint
        let request = options.instruction ?? "Summarize the following text \(hint)."
        return "\(request) The text consists of summaries of consecutive parts of one document; "
            + (final ? "write one summary of the whole document." : "combine them into one summary.")
    }

    /// The request when the whole document fits in one chunk.
    func wholeRequest() -> String {
        options.instruction ?? "Summarize the following text \(options.length.hint)."
    }

    /// The prompt of the memory strategies: the document first, then the request, so the request and the
    /// reply's start sit in the XL window while the rest of the book is in memory.
    /// - Returns: the prompt and where the document ends in its text (nil when the rendered text does not
    ///   contain the document verbatim), the point a saved memory is cut at.
    func memoryPrompt(text: String) -> (prompt: ChatPrompt, documentEnd: String.Index?) {
        let request = options.instruction ?? "Summarize the text above \(options.length.hint)."
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let prompt = tokenizer.chatPrompt(system: options.system, user: "\(body)\n\n\(request)", plain: "\(body)\n\n\(request)\nSummary:")
        return (prompt, body.isEmpty ? nil : prompt.text.range(of: body)?.upperBound)
    }

    /// A prompt for `request` over `text`.
    func prompt(request: String, text: String) -> ChatPrompt {
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return tokenizer.chatPrompt(system: options.system, user: "\(request)\n\n\(body)",
                                    plain: "\(body)\n\n\(request)\nSummary:")
    }

    /// Tokens of the prompt around the text (template, request, cue): measured on an empty text.
    func overhead(request: String) -> Int {
        let p = prompt(request: request, text: "")
        return tokenizer.encode(p.text, addSpecialTokens: p.addSpecialTokens).count
    }

    /// Summaries joined as the text of a merge prompt.
    static func join(_ parts: [PartSummary]) -> String {
        parts.map { p in (p.title.isEmpty ? "" : "\(p.title): ") + p.summary }.joined(separator: "\n\n")
    }
}
