/// One token inside a Jinja tag (`{{ ... }}` or `{% ... %}`).
enum JinjaToken: Equatable, Sendable {
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    /// An operator or delimiter: `+ - * / // % ** ~ == != < > <= >= ( ) [ ] { } , . : | =`.
    case op(String)
}

/// A token with the template line it starts on (for error messages).
struct JinjaLexedToken: Sendable {
    var token: JinjaToken
    var line: Int
}

/// The template cut into literal text and tags, whitespace control already applied.
enum JinjaSegment: Sendable {
    case text(String)
    /// `{{ ... }}`: the tokens between the delimiters.
    case output([JinjaLexedToken], line: Int)
    /// `{% ... %}`: the tokens between the delimiters.
    case statement([JinjaLexedToken], line: Int)
}

/// Splits a chat template into text and tags with the whitespace rules Hugging Face `transformers`
/// renders chat templates with: `jinja2` with `trim_blocks=True`, `lstrip_blocks=True`,
/// `keep_trailing_newline=False` (port of the relevant parts of `jinja2/lexer.py`, Jinja 3.1).
///
/// - `\r\n` and `\r` become `\n`; one trailing newline of the template is dropped.
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all whitespace after.
/// - trim_blocks: a newline right after `%}` or `#}` is dropped (not after `+%}`).
/// - lstrip_blocks: spaces and tabs between the start of a line and `{%` / `{#` are dropped (not for `{%+`).
struct JinjaLexer {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private let origin: String

    init(_ source: String, origin: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var it = source.unicodeScalars.makeIterator()
        var pendingCR = false
        while let c = it.next() {
            if pendingCR {
                pendingCR = false
                scalars.append("\n")
                if c == "\n" { continue }
            }
            if c == "\r" { pendingCR = true } else { scalars.append(c) }
        }
        if pendingCR { scalars.append("\n") }
        if scalars.last == "\n" { scalars.removeLast() }
        self.s = scalars
        self.origin = origin
    }

    /// Python's `str.isspace()` (the `\s` of Jinja's regular expressions).
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || (c.value >= 0x1C && c.value <= 0x1F)
    }

    private func string(_ r: Range<Int>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s[r])
        return String(v)
    }

    private func syntax(_ message: String, line: Int? = nil) -> ChatTemplateError {
        .syntax(origin: origin, line: line ?? self.line, message: message)
    }

    /// Cuts the whole template.
    /// - Throws: `ChatTemplateError.syntax` for an unclosed tag, comment or string, or a stray character.
    mutating func segments() throws -> [JinjaSegment] {
        var out: [JinjaSegment] = []
        var lineStarting = true
        let n = s.count
        while i < n {
            // Find the next tag start.
            var t = i
            var kind: Unicode.Scalar = " "
            while t + 1 < n {
                if s[t] == "{", s[t + 1] == "{" || s[t + 1] == "%" || s[t + 1] == "#" { kind = s[t + 1]; break }
                t += 1
            }
            guard t + 1 < n else {
                out.append(.text(string(i ..< n)))
                i = n
                break
            }
            var textEnd = t
            var p = t + 2
            var sign: Unicode.Scalar = " "
            if p < n, s[p] == "-" || s[p] == "+" { sign = s[p]; p += 1 }
            if sign == "-" {
                while textEnd > i, Self.isSpace(s[textEnd - 1]) { textEnd -= 1 }
            } else if sign != "+", kind != "{" {
                // lstrip_blocks: only spaces/tabs (Python \s without newlines) since the last newline.
                var lineStart = textEnd
                while lineStart > i, s[lineStart - 1] != "\n" { lineStart -= 1 }
                if lineStart > i || lineStarting, lineStart < textEnd, (lineStart ..< textEnd).allSatisfy({ Self.isSpace(s[$0]) }) {
                    textEnd = lineStart
                }
            }
            if textEnd > i { out.append(.text(string(i ..< textEnd))) }
            for k in i ..< t where s[k] == "\n" { line += 1 }
            let tagLine = line
            i = p
            switch kind {
            case "#":
                lineStarting = try skipComment(tagLine: tagLine)
            case "%":
                let (tokens, endedWithNewline) = try tagTokens(block: true, tagLine: tagLine)
                if case .name("raw")? = tokens.first?.token {
                    throw ChatTemplateError.unsupported(origin: origin, line: tagLine, feature: "{% raw %} blocks")
                }
                out.append(.statement(tokens, line: tagLine))
                lineStarting = endedWithNewline
            default:
                let (tokens, endedWithNewline) = try tagTokens(block: false, tagLine: tagLine)
                out.append(.output(tokens, line: tagLine))
                lineStarting = endedWithNewline
            }
        }
        return out
    }

    /// Skips a comment body and its end (`#}`, `-#}` + whitespace, `+#}`, or `#}` + one newline).
    /// - Returns: whether the consumed text ended with a newline.
    private mutating func skipComment(tagLine: Int) throws -> Bool {
        let n = s.count
        while i + 1 < n {
            if s[i] == "+" || s[i] == "-", i + 2 < n, s[i + 1] == "#", s[i + 2] == "}" {
                let strip = s[i] == "-"
                i += 3
                return strip ? skipWhitespace() : false
            }
            if s[i] == "#", s[i + 1] == "}" {
                i += 2
                if i < n, s[i] == "\n" { i += 1; line += 1; return true }
                return false
            }
            if s[i] == "\n" { line += 1 }
            i += 1
        }
        throw syntax("missing end of comment tag '#}'", line: tagLine)
    }

    /// Skips whitespace after a `-` end delimiter; returns whether the last skipped character was a newline.
    private mutating func skipWhitespace() -> Bool {
        var last: Unicode.Scalar = " "
        var any = false
        while i < s.count, Self.isSpace(s[i]) {
            if s[i] == "\n" { line += 1 }
            last = s[i]
            any = true
            i += 1
        }
        return any && last == "\n"
    }

    /// Lexes the inside of a tag up to its end delimiter (only where brackets are balanced).
    /// - Returns: the tokens and whether the end delimiter (with what it consumed) ended in a newline.
    private mutating func tagTokens(block: Bool, tagLine: Int) throws -> ([JinjaLexedToken], Bool) {
        var tokens: [JinjaLexedToken] = []
        var brackets: [Unicode.Scalar] = []
        let n = s.count
        let close: Unicode.Scalar = block ? "%" : "}"
        while true {
            while i < n, Self.isSpace(s[i]) {
                if s[i] == "\n" { line += 1 }
                i += 1
            }
            guard i < n else { throw syntax("unclosed tag: expected '\(close)}'", line: tagLine) }
            if brackets.isEmpty {
                // End delimiters: `-%}` + whitespace, `+%}` (blocks only), `%}` (+ newline for blocks).
                if (s[i] == "-" || (block && s[i] == "+")), i + 2 < n, s[i + 1] == close, s[i + 2] == "}" {
                    let strip = s[i] == "-"
                    i += 3
                    return (tokens, strip ? skipWhitespace() : false)
                }
                if s[i] == close, i + 1 < n, s[i + 1] == "}" {
                    i += 2
                    if block, i < n, s[i] == "\n" { i += 1; line += 1; return (tokens, true) }
                    return (tokens, false)
                }
            }
            let tokenLine = line
            let c = s[i]
            if c == "'" || c == "\"" {
                tokens.append(JinjaLexedToken(token: .string(try stringLiteral(quote: c)), line: tokenLine))
            } else if c.properties.numericType != nil, c.isASCII {
                tokens.append(JinjaLexedToken(token: try number(), line: tokenLine))
            } else if c == "_" || (c.isASCII && c.properties.isAlphabetic) {
                let start = i
                while i < n, s[i] == "_" || (s[i].isASCII && (s[i].properties.isAlphabetic || s[i].properties.numericType != nil)) { i += 1 }
                tokens.append(JinjaLexedToken(token: .name(string(start ..< i)), line: tokenLine))
            } else {
                let two = i + 1 < n ? String(c) + String(s[i + 1]) : ""
                let op: String
                if ["//", "**", "==", "!=", ">=", "<="].contains(two) {
                    op = two
                } else if "+-*/%~<>()[]{},.:|=;".unicodeScalars.contains(c) {
                    op = String(c)
                } else {
                    throw syntax("unexpected character '\(c)'")
                }
                switch op {
                case "(": brackets.append(")")
                case "[": brackets.append("]")
                case "{": brackets.append("}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else { throw syntax("unexpected '\(op)'") }
                    guard String(expected) == op else { throw syntax("unexpected '\(op)', expected '\(expected)'") }
                default: break
                }
                i += op.unicodeScalars.count
                tokens.append(JinjaLexedToken(token: .op(op), line: tokenLine))
            }
        }
    }

    /// An integer (`12`, `1_000`, `0`) or float (`1.5`, `2e3`, `1.5e-3`); `0x`/`0o`/`0b` are not supported.
    private mutating func number() throws -> JinjaToken {
        let n = s.count
        func digits() -> String {
            var d = ""
            while i < n, s[i].isASCII, s[i].properties.numericType != nil || (s[i] == "_" && i + 1 < n && s[i + 1].properties.numericType != nil) {
                if s[i] != "_" { d.unicodeScalars.append(s[i]) }
                i += 1
            }
            return d
        }
        var text = digits()
        var isFloat = false
        if i + 1 < n, s[i] == ".", s[i + 1].isASCII, s[i + 1].properties.numericType != nil {
            i += 1
            text += "." + digits()
            isFloat = true
        }
        if i < n, s[i] == "e" || s[i] == "E" {
            var j = i + 1
            var exp = "e"
            if j < n, s[j] == "+" || s[j] == "-" { exp.unicodeScalars.append(s[j]); j += 1 }
            if j < n, s[j].isASCII, s[j].properties.numericType != nil {
                i = j
                text += exp + digits()
                isFloat = true
            }
        }
        if isFloat {
            guard let v = Double(text) else { throw syntax("invalid number '\(text)'") }
            return .float(v)
        }
        if i < n, s[i] == "x" || s[i] == "o" || s[i] == "b", text == "0" {
            throw ChatTemplateError.unsupported(origin: origin, line: line, feature: "hexadecimal, octal or binary integer literals")
        }
        guard let v = Int(text) else { throw syntax("integer '\(text)' is too large") }
        return .integer(v)
    }

    /// A quoted string, unescaped as Python's `unicode-escape` codec does (as Jinja does).
    private mutating func stringLiteral(quote: Unicode.Scalar) throws -> String {
        let startLine = line
        let n = s.count
        i += 1
        var out = String.UnicodeScalarView()
        while i < n {
            let c = s[i]
            if c == quote { i += 1; return String(out) }
            if c == "\n" { line += 1 }
            guard c == "\\", i + 1 < n else { out.append(c); i += 1; continue }
            let e = s[i + 1]
            i += 2
            switch e {
            case "\n": line += 1   // line continuation
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append(Unicode.Scalar(7))
            case "b": out.append(Unicode.Scalar(8))
            case "f": out.append(Unicode.Scalar(12))
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append(Unicode.Scalar(11))
            case "0" ... "7":
                var v = e.value - 0x30
                var k = 0
                while k < 2, i < n, s[i].value >= 0x30, s[i].value <= 0x37 { v = v * 8 + s[i].value - 0x30; i += 1; k += 1 }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "x", "u", "U":
                let count = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard i + count <= n, let v = UInt32(string(i ..< i + count), radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw syntax("invalid \\\(e) escape in a string literal", line: startLine)
                }
                out.append(scalar)
                i += count
            case "N":
                throw ChatTemplateError.unsupported(origin: origin, line: startLine, feature: "\\N{...} escapes in string literals")
            default:
                out.append("\\")   // Python keeps unknown escapes
                out.append(e)
            }
        }
        throw syntax("unterminated string literal", line: startLine)
    }
}
