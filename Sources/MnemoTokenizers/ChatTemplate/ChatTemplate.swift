/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user` or `assistant` (templates may accept others).
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// The prompt format a template belongs to, recognized from its text (for logs and `--json`;
/// rendering never depends on it).
public enum ChatTemplateFamily: String, Sendable, Codable, CaseIterable {
    case chatml, llama3, llama2, mistral, zephyr, phi3, gemma, other

    /// Guesses the family from markers in the template text.
    public init(templateText t: String) {
        if t.contains("<|im_start|>") { self = .chatml }
        else if t.contains("<|start_header_id|>") { self = .llama3 }
        else if t.contains("<start_of_turn>") { self = .gemma }
        else if t.contains("<|user|>") && t.contains("<|end|>") { self = .phi3 }
        else if t.contains("<|user|>") { self = .zephyr }
        else if t.contains("<<SYS>>") { self = .llama2 }
        else if t.contains("[INST]") { self = .mistral }
        else { self = .other }
    }
}

/// A Hugging Face chat template (Jinja), parsed once and rendered like `transformers`'
/// `apply_chat_template(messages, tokenize=False, add_generation_prompt=...)`.
///
/// ```swift
/// let template = try ChatTemplate(tokenizer.chatTemplate!, origin: "tokenizer_config.json: chat_template")
/// let prompt = try template.render([.system("Be brief."), .user("Summarize: ...")],
///                                  specialTokens: ["bos_token": "<s>", "eos_token": "</s>"])
/// ```
/// Design (see `Docs/Summarize.md`): a small interpreter of the Jinja subset real chat templates use,
/// not a table of known formats, so that a family's variants (Qwen's tool branches, Llama 3.1's date
/// header, Mistral's system-prompt folding) render exactly as their own template says. Anything outside
/// the subset fails with `ChatTemplateError.unsupported` instead of rendering something else.
/// The context is the one transformers builds: `messages` (role/content dicts), `add_generation_prompt`,
/// `tools` and `documents` (none), the special tokens (`bos_token`, `eos_token`, ...), the globals
/// `raise_exception`, `namespace`, `range`, `dict`, `strftime_now`, and the `tojson` filter.
public struct ChatTemplate: Sendable {
    /// The template text as stored in the model files.
    public let source: String
    /// Where it came from, for error messages.
    public let origin: String
    /// The format family recognized from the text.
    public let family: ChatTemplateFamily
    let nodes: [JinjaNode]

    /// Parses a template.
    ///
    /// - Parameters:
    ///   - source: the Jinja text (`tokenizer_config.json` `chat_template`, GGUF `tokenizer.chat_template`).
    ///   - origin: named in errors, e.g. `"…/tokenizer_config.json: chat_template"`.
    /// - Throws: `ChatTemplateError.syntax` or `.unsupported` with the line.
    public init(_ source: String, origin: String = "chat template") throws {
        var lexer = JinjaLexer(source, origin: origin)
        self.nodes = try JinjaParser.parse(try lexer.segments(), origin: origin)
        self.source = source
        self.origin = origin
        self.family = ChatTemplateFamily(templateText: source)
    }

    /// Renders a conversation.
    ///
    /// - Parameters:
    ///   - messages: the conversation, oldest first.
    ///   - addGenerationPrompt: append the header that starts the assistant's reply.
    ///   - specialTokens: `bos_token`, `eos_token`, ... as the model's tokenizer configuration names them.
    ///   - variables: extra string variables (transformers passes extra keyword arguments the same way).
    /// - Returns: the prompt text, special tokens written out (encode it without adding BOS again).
    /// - Throws: `ChatTemplateError.raised` when the template rejects the conversation (e.g. a system
    ///   message for Gemma), `.evaluation` or `.unsupported` with the line.
    /// - Complexity: linear in the template's work (at most `JinjaInterpreter.defaultMaxSteps` steps).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true,
                       specialTokens: [String: String] = [:], variables: [String: String] = [:]) throws -> String {
        var context: [String: JinjaValue] = [:]
        for (k, v) in specialTokens { context[k] = .string(v) }
        for (k, v) in variables { context[k] = .string(v) }
        context["messages"] = .list(messages.map { .dict(JinjaDict([("role", .string($0.role)), ("content", .string($0.content))])) })
        context["tools"] = JinjaValue.none
        context["documents"] = JinjaValue.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try render(context: context)
    }

    /// Renders with an explicit context (tests pass lists and dicts).
    func render(context: [String: JinjaValue], maxSteps: Int = JinjaInterpreter.defaultMaxSteps) throws -> String {
        try JinjaInterpreter(origin: origin, context: context, maxSteps: maxSteps).render(nodes)
    }
}
