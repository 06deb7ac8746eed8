import Foundation
import XCTest
@testable import MnemoTokenizers

/// Bad, unsupported and hostile templates throw a typed `ChatTemplateError` naming the origin and the
/// line; nothing traps, loops forever or exhausts the stack.
final class ChatTemplateErrorTests: XCTestCase {
    private enum Kind { case syntax, unsupported, evaluation, raised }

    private func render(_ source: String, maxSteps: Int = JinjaInterpreter.defaultMaxSteps) throws -> String {
        let template = try ChatTemplate(source, origin: "t.jinja")
        return try template.render(context: ["messages": .list([.dict(JinjaDict([("role", .string("user")), ("content", .string("hi"))]))])],
                                   maxSteps: maxSteps)
    }

    private func expect(_ source: String, _ kind: Kind, line: Int? = nil, _ parts: [String], maxSteps: Int = JinjaInterpreter.defaultMaxSteps,
                        file: StaticString = #filePath, at: UInt = #line) {
        do {
            let out = try render(source, maxSteps: maxSteps)
            XCTFail("rendered \(out.prefix(80)) instead of failing", file: file, line: at)
        } catch let error as ChatTemplateError {
            let text = "\(error)"
            switch (kind, error) {
            case (.syntax, .syntax(_, let l, _)), (.unsupported, .unsupported(_, let l, _)), (.evaluation, .evaluation(_, let l, _)):
                if let line { XCTAssertEqual(l, line, text, file: file, line: at) }
            case (.raised, .raised): break
            default: XCTFail("expected \(kind), got \(text)", file: file, line: at)
            }
            XCTAssertTrue(text.hasPrefix("t.jinja: "), text, file: file, line: at)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: at)
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' lacks '\(p)'", file: file, line: at) }
        } catch {
            XCTFail("untyped error \(type(of: error)): \(error)", file: file, line: at)
        }
    }

    func testSyntaxErrors() {
        expect("{% if x %}a", .syntax, line: 1, ["unexpected end of template, expected 'elif' or 'else' or 'endif'"])
        expect("a\nb\n{{ 'x' }", .syntax, line: 3, ["unexpected '}'"])
        expect("{% frobnicate %}", .syntax, ["unknown or misplaced statement 'frobnicate'"])
        expect("{% if true %}x{% endfor %}", .syntax, ["unknown or misplaced statement 'endfor'"])
        expect("{# never closed", .syntax, ["missing end of comment tag"])
        expect("x\n\n{{ 'unterminated }}", .syntax, line: 3, ["unterminated string literal"])
        expect("{{ 1 + }}", .syntax, ["expected an expression"])
        expect("{{ a b }}", .syntax, ["unexpected 'b'"])
        expect("{{ x is }}", .syntax, ["expected a name"])
        expect("{% for in xs %}{% endfor %}", .syntax, ["expected 'in' in for loop"])
        expect("{{ '\\u12' }}", .syntax, ["invalid \\u escape"])
        expect("{{ x ? y }}", .syntax, ["unexpected character '?'"])
        expect("{{ [1, 2) }}", .syntax, ["unexpected ')', expected ']'"])
    }

    func testUnsupportedFeaturesSayWhat() {
        expect("{% include 'a.jinja' %}", .unsupported, line: 1, ["{% include %}"])
        expect("{% raw %}x{% endraw %}", .unsupported, ["{% raw %}"])
        expect("\n{{ 'x' | frobnicate }}", .unsupported, line: 2, ["filter 'frobnicate'"])
        expect("{{ 1 is frobnicated }}", .unsupported, ["test 'frobnicated'"])
        expect("{{ '%s' % 1 }}", .unsupported, ["printf-style"])
        expect("{{ 0x1F }}", .unsupported, ["hexadecimal"])
        expect("{{ 'a {}'.format(1) }}", .unsupported, ["str.format()"])
        expect("{% for x in xs recursive %}{% endfor %}", .unsupported, ["recursive"])
        expect("{{ f(*xs) }}", .unsupported, ["*args"])
    }

    func testEvaluationErrors() {
        expect("{{ 1 / 0 }}", .evaluation, ["division by zero"])
        expect("{{ missing.attribute }}", .evaluation, ["'missing' is undefined"])
        expect("{{ missing() }}", .evaluation, ["'missing' is undefined and cannot be called"])
        expect("{{ messages[0].content + 1 }}", .evaluation, ["unsupported operand type(s) for +: 'str' and 'int'"])
        expect("{{ messages.append(1) }}", .evaluation, ["unsafe"])
        expect("{% set x = 1 %}{% set x.y = 2 %}", .evaluation, ["not a namespace()"])
        expect("{% for a, b in [1] %}{% endfor %}", .evaluation, ["not iterable"])
        expect("{{ raise_exception('Only user and assistant roles are supported!') }}", .raised,
               ["rejected the conversation: Only user and assistant roles are supported!"])
    }

    /// Limits: `range` size, total steps, macro recursion, expression and block nesting, deep values.
    func testHostileTemplatesHitLimitsInsteadOfRunningAway() {
        expect("{% for i in range(100001) %}{% endfor %}", .evaluation, ["range too big"])
        expect("{% for i in range(2000) %}{% endfor %}", .evaluation, ["more than 1000 steps"], maxSteps: 1000)
        expect("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", .evaluation, ["macro calls nested deeper than 64"])
        expect("{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}", .syntax, ["nested deeper"])
        expect("{{ " + String(repeating: "not ", count: 5000) + "x }}", .syntax, ["nested deeper"])
        expect("{{ " + String(repeating: "-", count: 5000) + "1 }}", .syntax, ["nested deeper"])
        expect(String(repeating: "{% if true %}", count: 500) + String(repeating: "{% endif %}", count: 500), .syntax, ["nested deeper"])
        expect("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x | tojson }}",
               .evaluation, ["nested deeper than 200"])
        expect("{{ 'x' * 100000000 }}", .evaluation, ["repetition"])
        // Printing a deep value is cut short instead of recursing without bound.
        XCTAssertNoThrow(try render("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}"))
    }

    /// Every prefix of every real template (a dense sample for the long ones) parses and renders or
    /// throws a `ChatTemplateError`: no trap, no other error type.
    func testTruncatedTemplatesNeverCrash() throws {
        let templates = try ChatTemplateGoldenTests.templates()
        var cuts = 0
        for (_, fixture) in templates.sorted(by: { $0.key < $1.key }) {
            let scalars = Array(fixture.source.unicodeScalars)
            let step = scalars.count > 1000 ? 7 : 1
            for end in stride(from: 0, to: scalars.count, by: step) {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[..<end])
                do {
                    let t = try ChatTemplate(String(view), origin: fixture.name)
                    _ = try t.render([.system("S"), .user("U")], specialTokens: fixture.specialTokens)
                } catch is ChatTemplateError {
                } catch {
                    XCTFail("\(fixture.name) cut at \(end): \(type(of: error)) \(error)")
                }
                cuts += 1
            }
        }
        XCTAssertGreaterThan(cuts, 3000)
    }
}
