import Foundation
import XCTest
@testable import MnemoTokenizers

/// `Tokenizer` exposes the chat template of a Hugging Face folder or a GGUF file, and
/// `chatPrompt(system:user:plain:)` renders it like transformers, folds a system message the template
/// rejects or drops into the user turn, and falls back to the plain prompt with a warning otherwise.
final class ChatPromptTests: XCTestCase {
    private let system = "  You are a careful assistant.\nSummarize faithfully, in plain prose.  "
    private let user = "Summarize this passage:\n\nAlice was beginning to get very tired of sitting by her sister on the bank "
        + "\u{2014} \u{ab}caf\u{e9}\u{bb}, \u{65e5}\u{672c}\u{8a9e}, \"quotes\" and 'apostrophes' {{ not_jinja }}.\n"

    /// A temporary Hugging Face folder: a tiny Llama-style tokenizer.json (linked from the llama-gqa test
    /// model; `<s>` is id 1) and the given tokenizer_config.json.
    private func folder(config: [String: Any]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("tokenizer.json"),
                                                   withDestinationURL: Fixtures.url("models/llama-gqa/tokenizer.json"))
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        return dir
    }

    func testChatPromptMatchesTransformersAndFoldsRejectedOrDroppedSystemMessages() throws {
        let templates = try ChatTemplateGoldenTests.templates()
        let goldens = try ChatTemplateGoldenTests.goldens()
        func golden(_ template: String, _ name: String) throws -> ChatTemplateGoldenTests.Golden {
            try XCTUnwrap(goldens.first { $0.template == template && $0.name == name })
        }
        var folded: Set<String> = []
        for (name, fixture) in templates {
            var config: [String: Any] = fixture.specialTokens
            config["chat_template"] = fixture.source
            let dir = try folder(config: config)
            let tokenizer = try Tokenizer.load(from: dir)
            XCTAssertEqual(tokenizer.chatTemplate, fixture.source, name)
            XCTAssertEqual(tokenizer.specialTokens, fixture.specialTokens, name)
            XCTAssertEqual(tokenizer.chatTemplateOrigin, dir.appendingPathComponent("tokenizer_config.json").path + ": chat_template")

            let withSystem = try golden(name, "system_user")
            let foldedGolden = try golden(name, "system_folded")
            let prompt = tokenizer.chatPrompt(system: system, user: user, plain: "PLAIN")
            XCTAssertEqual(prompt.format, .chatTemplate, name)
            XCTAssertFalse(prompt.addSpecialTokens, name)
            XCTAssertNil(prompt.warning, name)
            XCTAssertEqual(prompt.family?.rawValue, fixture.family, name)
            let kept = withSystem.output.map { $0.contains("You are a careful assistant.\nSummarize faithfully, in plain prose.") } ?? false
            if kept {
                XCTAssertEqual(prompt.text, withSystem.output, name)
                XCTAssertFalse(prompt.systemFolded, name)
            } else {
                XCTAssertEqual(prompt.text, foldedGolden.output, name)
                XCTAssertTrue(prompt.systemFolded, name)
                folded.insert(name)
            }
            let userOnly = tokenizer.chatPrompt(system: nil, user: user, plain: "PLAIN")
            XCTAssertEqual(userOnly.text, try golden(name, "user").output, name)
            XCTAssertEqual(try tokenizer.applyChatTemplate([.user(user)]), try golden(name, "user").output, name)
        }
        // Gemma 2 and the original Mistral v0.2 template raise on a system message; Phi-3-mini's first
        // template silently drops it.
        XCTAssertEqual(folded, ["gemma2", "mistral-v0.2", "phi3-mini"])
    }

    /// A template that writes BOS itself is encoded without adding another (as transformers does).
    func testChatPromptEncodesWithExactlyOneBOS() throws {
        let fixture = try XCTUnwrap(try ChatTemplateGoldenTests.templates()["llama2-chat"])
        var config: [String: Any] = fixture.specialTokens
        config["chat_template"] = fixture.source
        config["add_bos_token"] = true
        let tokenizer = try Tokenizer.load(from: try folder(config: config))
        let prompt = tokenizer.chatPrompt(system: nil, user: "Hi", plain: "Hi")
        XCTAssertTrue(prompt.text.hasPrefix("<s>[INST] Hi [/INST]"), prompt.text)
        let ids = tokenizer.encode(prompt.text, addSpecialTokens: prompt.addSpecialTokens)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.filter { $0 == 1 }.count, 1, "\(ids)")
    }

    func testNoTemplateGivesThePlainPrompt() throws {
        for tokenizer in [try Fixtures.llama2, try Tokenizer.load(from: Fixtures.url("models/stories260K/tok512.bin"))] {
            XCTAssertNil(tokenizer.chatTemplate)
            XCTAssertNil(try tokenizer.applyChatTemplate([.user("x")]))
            let prompt = tokenizer.chatPrompt(system: "S", user: "U", plain: "PLAIN")
            XCTAssertEqual(prompt, ChatPrompt(text: "PLAIN", format: .plain, addSpecialTokens: true))
        }
        XCTAssertEqual(try Fixtures.llama2.specialTokens, ["bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"])
    }

    /// A template this renderer cannot use gives the plain prompt and a one-line warning naming the file and line.
    func testUnusableTemplatesFallBackToThePlainPromptWithAWarning() throws {
        let cases: [(String, [String])] = [
            ("{% include 'other.jinja' %}", ["line 1", "{% include %}"]),
            ("hello\n{{ messages[0].content ", ["line 2", "syntax"]),
            ("{{ messages[0].content | frobnicate }}", ["filter 'frobnicate'"]),
            ("{{ messages[0].content + 1 }}", ["unsupported operand type(s) for +: 'str' and 'int'"]),
            ("{{ raise_exception('No user messages allowed') }}", ["rejected the conversation: No user messages allowed"]),
        ]
        for (source, parts) in cases {
            let dir = try folder(config: ["chat_template": source])
            let prompt = try Tokenizer.load(from: dir).chatPrompt(system: nil, user: "U", plain: "PLAIN")
            XCTAssertEqual(prompt.text, "PLAIN", source)
            XCTAssertEqual(prompt.format, .plain)
            XCTAssertTrue(prompt.addSpecialTokens)
            let warning = try XCTUnwrap(prompt.warning, source)
            XCTAssertTrue(warning.hasPrefix(dir.appendingPathComponent("tokenizer_config.json").path + ": chat_template: "), warning)
            XCTAssertFalse(warning.contains("\n"), warning)
            for p in parts { XCTAssertTrue(warning.contains(p), "'\(warning)' lacks '\(p)'") }
        }
    }

    /// `chat_template` may be a list of named templates; the one named "default" is used.
    func testNamedTemplateListPicksDefault() throws {
        let dir = try folder(config: ["chat_template": [["name": "tool_use", "template": "T"], ["name": "default", "template": "{{ 'D' }}"]]])
        XCTAssertEqual(try Tokenizer.load(from: dir).chatTemplate, "{{ 'D' }}")
    }

    func testGGUFExposesItsTemplateAndSpecialTokens() throws {
        let gemma = try XCTUnwrap(try ChatTemplateGoldenTests.templates()["gemma2"])
        let tokens = ["<unk>", "<s>", "</s>", "\u{2581}", "a", "b", "\u{2581}a", "ab"]
        let url = try writeGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(tokens)),
                                 ("tokenizer.ggml.bos_token_id", .uint32(1)), ("tokenizer.ggml.eos_token_id", .uint32(2)),
                                 ("tokenizer.ggml.unknown_token_id", .uint32(0)), ("tokenizer.chat_template", .string(gemma.source))])
        let tokenizer = try Tokenizer.load(from: url)
        XCTAssertEqual(tokenizer.chatTemplate, gemma.source)
        XCTAssertEqual(tokenizer.chatTemplateOrigin, url.path + ": tokenizer.chat_template")
        XCTAssertEqual(tokenizer.specialTokens, ["bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"])
        let prompt = tokenizer.chatPrompt(system: "Be brief.", user: "Hi", plain: "PLAIN")
        XCTAssertEqual(prompt.text, "<s><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertTrue(prompt.systemFolded)

        let bad = try writeGGUF([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .strings(tokens)),
                                 ("tokenizer.chat_template", .uint32(7))])
        XCTAssertThrowsError(try Tokenizer.load(from: bad)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.chat_template"), "\(error)")
            XCTAssertTrue("\(error)".contains("expected a string"), "\(error)")
        }
    }

    private enum Value { case string(String), strings([String]), uint32(UInt32) }

    /// A GGUF v3 file with no tensors and the given metadata (GGUF spec, ggml/docs/gguf.md).
    private func writeGGUF(_ kv: [(String, Value)]) throws -> URL {
        var b: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += Array(s.utf8) }
        u32(3); u64(0); u64(UInt64(kv.count))
        for (key, value) in kv {
            str(key)
            switch value {
            case .string(let s): u32(8); str(s)
            case .strings(let a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
            case .uint32(let v): u32(4); u32(v)
            }
        }
        while b.count % 32 != 0 { b.append(0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-chat-\(UUID().uuidString).gguf")
        try Data(b).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
