/// A prompt for an instruction: the model's chat template rendered with a generation prompt, or,
/// when the model has none (or it cannot be rendered), a plain text prompt.
public struct ChatPrompt: Sendable, Equatable {
    /// How the text was made.
    public enum Format: String, Sendable, Codable {
        /// Rendered through the model's chat template.
        case chatTemplate = "chat-template"
        /// The caller's plain prompt (no template, or the template failed: see `warning`).
        case plain
    }

    /// The prompt text; chat-template prompts already contain their special tokens.
    public var text: String
    public var format: Format
    /// Whether the tokenizer should add its BOS/EOS when encoding `text`: false for chat-template
    /// prompts, which write their own (as `transformers.apply_chat_template(tokenize=True)` encodes with
    /// `add_special_tokens=False`), true for plain prompts.
    public var addSpecialTokens: Bool
    /// True when the template rejects or ignores system messages and the system text was put at the
    /// start of the user message instead (as users of those models do: Gemma, Mistral v0.1/v0.2, Phi-3-mini).
    public var systemFolded: Bool
    /// Set when the template could not be used and the plain prompt was: one line for the user.
    public var warning: String?
    /// The template's family, when a template was used.
    public var family: ChatTemplateFamily?

    public init(text: String, format: Format, addSpecialTokens: Bool, systemFolded: Bool = false, warning: String? = nil,
                family: ChatTemplateFamily? = nil) {
        self.text = text
        self.format = format
        self.addSpecialTokens = addSpecialTokens
        self.systemFolded = systemFolded
        self.warning = warning
        self.family = family
    }
}

extension Tokenizer {
    /// Renders `messages` through the chat template (strict: no fallback).
    ///
    /// - Returns: the text, or nil when the tokenizer has no chat template.
    /// - Throws: `ChatTemplateError` (syntax, unsupported feature, or the template's own `raise_exception`).
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String? {
        guard let parsed = parsedChatTemplate else { return nil }
        return try parsed.get().render(messages, addGenerationPrompt: addGenerationPrompt, specialTokens: specialTokens)
    }

    /// A prompt asking the model to reply to `user` (optionally after a `system` message).
    ///
    /// Never fails: with the model's chat template the result is exactly what transformers'
    /// `apply_chat_template(..., add_generation_prompt=True)` renders. When the template rejects the
    /// system message (`raise_exception`, e.g. Gemma) or silently drops it (Phi-3-mini's first template),
    /// the system text is folded into the user message (`system + "\n\n" + user`) and rendered again.
    /// With no template, `plain` is used; when the template cannot be rendered at all, `plain` is used
    /// and `warning` says why, so a caller can print it instead of generating from a wrong prompt.
    /// ```swift
    /// let prompt = tokenizer.chatPrompt(system: nil, user: "Summarize: ...", plain: "...\n\nSummary:")
    /// let ids = tokenizer.encode(prompt.text, addSpecialTokens: prompt.addSpecialTokens)
    /// if let warning = prompt.warning { log(warning) }
    /// ```
    public func chatPrompt(system: String?, user: String, plain: String) -> ChatPrompt {
        let plainPrompt = ChatPrompt(text: plain, format: .plain, addSpecialTokens: true)
        guard let parsed = parsedChatTemplate else { return plainPrompt }
        let template: ChatTemplate
        switch parsed {
        case .success(let t): template = t
        case .failure(let error):
            return ChatPrompt(text: plain, format: .plain, addSpecialTokens: true, warning: "\(error); using a plain prompt instead")
        }
        let systemText = system.flatMap { $0.isEmpty ? nil : $0 }
        func render(_ messages: [ChatMessage]) throws -> String {
            try template.render(messages, addGenerationPrompt: true, specialTokens: specialTokens)
        }
        func folded() throws -> ChatPrompt {
            let text = try render([.user((systemText ?? "") + "\n\n" + user)])
            return ChatPrompt(text: text, format: .chatTemplate, addSpecialTokens: false, systemFolded: true, family: template.family)
        }
        do {
            guard let systemText else {
                return ChatPrompt(text: try render([.user(user)]), format: .chatTemplate, addSpecialTokens: false, family: template.family)
            }
            do {
                let text = try render([.system(systemText), .user(user)])
                let core = JinjaMethods.strip(systemText, chars: nil)
                if !core.isEmpty, !text.contains(core) { return try folded() }   // the template dropped it
                return ChatPrompt(text: text, format: .chatTemplate, addSpecialTokens: false, family: template.family)
            } catch ChatTemplateError.raised {
                return try folded()
            }
        } catch {
            return ChatPrompt(text: plain, format: .plain, addSpecialTokens: true, warning: "\(error); using a plain prompt instead")
        }
    }
}
