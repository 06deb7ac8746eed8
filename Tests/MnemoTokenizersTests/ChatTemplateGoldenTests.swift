import Foundation
import XCTest
@testable import MnemoTokenizers

/// Chat templates rendered exactly as Hugging Face `transformers` renders them.
///
/// Goldens: Fixtures/chat_templates/{goldens,features}.json, made by
/// Fixtures/scripts/make_chat_template_goldens.py with `tokenizer.apply_chat_template(..., tokenize=False)`
/// (transformers' jinja2 sandbox), over real published templates (Fixtures/chat_templates/templates.json,
/// see Fixtures/SOURCES.md).
final class ChatTemplateGoldenTests: XCTestCase {
    struct TemplateFixture {
        var name: String
        var family: String
        var source: String
        var specialTokens: [String: String]
    }

    struct Golden {
        var template: String
        var name: String
        var messages: [ChatMessage]
        var addGenerationPrompt: Bool
        var output: String?
        var errorType: String?
        var errorMessage: String?
    }

    static func object(_ v: JSONValue?) -> JSONObject? { if case .object(let o)? = v { return o }; return nil }
    static func array(_ v: JSONValue?) -> [JSONValue] { if case .array(let a)? = v { return a }; return [] }
    static func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s }; return nil }

    static func parse(_ path: String) throws -> JSONObject {
        try JSONReader.parse(try Fixtures.data(path), file: path)
    }

    static func templates() throws -> [String: TemplateFixture] {
        var out: [String: TemplateFixture] = [:]
        for item in array(try parse("chat_templates/templates.json")["templates"]) {
            let o = try XCTUnwrap(object(item))
            var special: [String: String] = [:]
            if let s = object(o["special_tokens"]) {
                for (k, v) in zip(s.keys, s.values) { special[String(decoding: k, as: UTF8.self)] = string(v) }
            }
            let t = TemplateFixture(name: try XCTUnwrap(string(o["name"])), family: try XCTUnwrap(string(o["family"])),
                                    source: try XCTUnwrap(string(o["template"])), specialTokens: special)
            out[t.name] = t
        }
        return out
    }

    static func goldens() throws -> [Golden] {
        try array(try parse("chat_templates/goldens.json")["cases"]).map { item in
            let o = try XCTUnwrap(object(item))
            let messages = try array(o["messages"]).map { m -> ChatMessage in
                let mo = try XCTUnwrap(object(m))
                return ChatMessage(role: try XCTUnwrap(string(mo["role"])), content: try XCTUnwrap(string(mo["content"])))
            }
            var generation = false
            if case .bool(let b)? = o["add_generation_prompt"] { generation = b }
            let error = object(o["error"])
            return Golden(template: try XCTUnwrap(string(o["template"])), name: try XCTUnwrap(string(o["case"])), messages: messages,
                          addGenerationPrompt: generation, output: string(o["output"]),
                          errorType: string(error?["type"]), errorMessage: string(error?["message"]))
        }
    }

    /// JSON → template value (integral numbers become ints, as Python's json module reads them).
    static func value(_ v: JSONValue) -> JinjaValue {
        switch v {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? .int(Int(d)) : .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(value))
        case .object(let o):
            return .dict(JinjaDict(zip(o.keys, o.values).map { (String(decoding: $0.0, as: UTF8.self), value($0.1)) }))
        }
    }

    /// Every real template renders every case exactly like transformers (50 cases over 10 templates),
    /// and where transformers raised (Gemma and Mistral v0.2 reject system messages) the same message is
    /// raised as `ChatTemplateError.raised`.
    func testRealTemplatesRenderLikeTransformers() throws {
        let templates = try Self.templates()
        let goldens = try Self.goldens()
        XCTAssertEqual(templates.count, 10)
        XCTAssertEqual(goldens.count, 50)
        var raisedCount = 0
        for g in goldens {
            let fixture = try XCTUnwrap(templates[g.template], g.template)
            let template = try ChatTemplate(fixture.source, origin: g.template)
            XCTAssertEqual(template.family.rawValue, fixture.family, g.template)
            do {
                let out = try template.render(g.messages, addGenerationPrompt: g.addGenerationPrompt, specialTokens: fixture.specialTokens)
                XCTAssertEqual(out, g.output, "\(g.template) / \(g.name)")
            } catch ChatTemplateError.raised(let origin, let message) {
                XCTAssertEqual(g.errorType, "TemplateError", "\(g.template) / \(g.name): raised '\(message)' but transformers rendered")
                XCTAssertEqual(message, g.errorMessage, "\(g.template) / \(g.name)")
                XCTAssertEqual(origin, g.template)
                raisedCount += 1
            }
        }
        XCTAssertEqual(raisedCount, 4, "Gemma 2 and Mistral v0.2 reject the system message in two cases each")
    }

    /// Small templates for each Jinja feature real templates rely on render like transformers; where
    /// jinja2 raises, a typed error of the matching kind is thrown.
    func testJinjaFeaturesRenderLikeTransformers() throws {
        let root = try Self.parse("chat_templates/features.json")
        var context: [String: JinjaValue] = [:]
        if let variables = Self.object(root["variables"]) {
            for (k, v) in zip(variables.keys, variables.values) { context[String(decoding: k, as: UTF8.self)] = Self.value(v) }
        }
        if let special = Self.object(root["special_tokens"]) {
            for (k, v) in zip(special.keys, special.values) { context[String(decoding: k, as: UTF8.self)] = Self.value(v) }
        }
        context["messages"] = Self.value(root["messages"] ?? .null)
        context["tools"] = JinjaValue.none
        context["documents"] = JinjaValue.none
        context["add_generation_prompt"] = .bool(false)
        let features = Self.array(root["features"])
        XCTAssertGreaterThanOrEqual(features.count, 45)
        for item in features {
            let o = try XCTUnwrap(Self.object(item))
            let name = try XCTUnwrap(Self.string(o["name"]))
            let source = try XCTUnwrap(Self.string(o["template"]))
            let expected = Self.string(o["output"])
            let error = Self.object(o["error"])
            do {
                let out = try ChatTemplate(source, origin: name).render(context: context)
                XCTAssertEqual(out, expected, name)
                XCTAssertNil(error, "\(name): transformers raised \(String(describing: error.map { Self.string($0["message"]) }))")
            } catch let e as ChatTemplateError {
                let type = try XCTUnwrap(Self.string(error?["type"]), "\(name): unexpected \(e)")
                switch (type, e) {
                case ("TemplateError", .raised(_, let message)):
                    XCTAssertEqual(message, Self.string(error?["message"]), name)
                case ("TemplateSyntaxError", .syntax):
                    break
                case ("UndefinedError", .evaluation(_, _, let message)):
                    XCTAssertTrue(message.contains("'missing' is undefined"), message)
                case ("TypeError", .evaluation), ("SecurityError", .evaluation):
                    break
                default:
                    XCTFail("\(name): transformers raised \(type), we threw \(e)")
                }
                XCTAssertTrue("\(e)".hasPrefix(name + ": "), "\(e)")
            }
        }
    }
}
