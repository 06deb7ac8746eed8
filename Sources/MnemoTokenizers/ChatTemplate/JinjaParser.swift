/// Builds the statement tree from lexed segments: `if`/`elif`/`else`, `for` (with a loop filter and
/// `else`), `set` (names, tuples, namespace attributes, blocks), `macro`, `break`/`continue`
/// (`jinja2.ext.loopcontrols`, which transformers enables) and `generation` (transformers'
/// `AssistantTracker` tag, rendered as its body).
struct JinjaParser {
    private let segments: [JinjaSegment]
    private var index = 0
    private let origin: String
    /// Nesting of block statements, bounded so a hostile template cannot exhaust the stack.
    private var depth = 0
    static let maxDepth = 100

    /// Statements that exist in Jinja but not in this renderer.
    private static let unsupportedStatements: Set<String> = [
        "include", "import", "from", "extends", "block", "call", "filter", "with", "autoescape", "do", "trans", "raw",
    ]

    static func parse(_ segments: [JinjaSegment], origin: String) throws -> [JinjaNode] {
        var parser = JinjaParser(segments: segments, origin: origin)
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw ChatTemplateError.syntax(origin: origin, line: end.tagLine, message: "unexpected '\(end.name)'") }
        return nodes
    }

    private init(segments: [JinjaSegment], origin: String) {
        self.segments = segments
        self.origin = origin
    }

    /// The tag that ended a body: its keyword and the rest of its tokens.
    private struct EndTag {
        var name: String
        var stream: JinjaTokenStream
        var tagLine: Int { stream.tagLine }
    }

    /// Parses statements until one of `ends` (returned) or the end of the template (nil).
    private mutating func parseBody(until ends: Set<String>) throws -> ([JinjaNode], EndTag?) {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            throw ChatTemplateError.syntax(origin: origin, line: lastLine, message: "blocks nested deeper than \(Self.maxDepth) levels")
        }
        var nodes: [JinjaNode] = []
        while index < segments.count {
            let segment = segments[index]
            index += 1
            switch segment {
            case .text(let t):
                nodes.append(.text(t))
            case let .output(tokens, line):
                var stream = JinjaTokenStream(tokens, tagLine: line, origin: origin)
                let expr = try stream.parseTuple()
                try stream.expectEnd()
                nodes.append(.output(expr, line: line))
            case let .statement(tokens, line):
                var stream = JinjaTokenStream(tokens, tagLine: line, origin: origin)
                let keyword = try stream.expectName()
                if ends.contains(keyword) { return (nodes, EndTag(name: keyword, stream: stream)) }
                if let node = try parseStatement(keyword, &stream, line: line) { nodes.append(contentsOf: node) }
            }
        }
        if !ends.isEmpty {
            let expected = ends.sorted().joined(separator: "' or '")
            throw ChatTemplateError.syntax(origin: origin, line: lastLine, message: "unexpected end of template, expected '\(expected)'")
        }
        return (nodes, nil)
    }

    private var lastLine: Int {
        for segment in segments.reversed() {
            switch segment {
            case .output(_, let line), .statement(_, let line): return line
            case .text: continue
            }
        }
        return 1
    }

    private mutating func parseStatement(_ keyword: String, _ stream: inout JinjaTokenStream, line: Int) throws -> [JinjaNode]? {
        switch keyword {
        case "if":
            return [try parseIf(&stream, line: line)]
        case "for":
            return [try parseFor(&stream, line: line)]
        case "set":
            return [try parseSet(&stream, line: line)]
        case "macro":
            return [try parseMacro(&stream, line: line)]
        case "break", "continue":
            try stream.expectEnd()
            return [keyword == "break" ? .breakLoop(line: line) : .continueLoop(line: line)]
        case "generation":
            try stream.expectEnd()
            let (body, end) = try parseBody(until: ["endgeneration"])
            try end?.stream.expectEnd()
            return body
        default:
            if Self.unsupportedStatements.contains(keyword) {
                throw ChatTemplateError.unsupported(origin: origin, line: line, feature: "{% \(keyword) %}")
            }
            throw ChatTemplateError.syntax(origin: origin, line: line, message: "unknown or misplaced statement '\(keyword)'")
        }
    }

    private mutating func parseIf(_ stream: inout JinjaTokenStream, line: Int) throws -> JinjaNode {
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var condition = try stream.parseTuple()
        try stream.expectEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            guard var end else { break }
            switch end.name {
            case "elif":
                condition = try end.stream.parseTuple()
                try end.stream.expectEnd()
            case "else":
                try end.stream.expectEnd()
                let (otherwise, close) = try parseBody(until: ["endif"])
                try close?.stream.expectEnd()
                return .ifBlock(branches: branches, otherwise: otherwise, line: line)
            default:
                try end.stream.expectEnd()
                return .ifBlock(branches: branches, otherwise: [], line: line)
            }
        }
        return .ifBlock(branches: branches, otherwise: [], line: line)
    }

    private mutating func parseFor(_ stream: inout JinjaTokenStream, line: Int) throws -> JinjaNode {
        let targets = try stream.parseTargetNames()
        guard stream.skipName("in") else { throw stream.fail("expected 'in' in for loop, found \(JinjaTokenStream.describe(stream.current))") }
        let iterable = try stream.parseTuple(withCondition: false, stopAtNames: ["if", "recursive"])
        var filter: JinjaExpr?
        if stream.skipName("if") { filter = try stream.parseExpression() }
        if stream.isName("recursive") {
            throw ChatTemplateError.unsupported(origin: origin, line: line, feature: "recursive for loops")
        }
        try stream.expectEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        var otherwise: [JinjaNode] = []
        if let end {
            try end.stream.expectEnd()
            if end.name == "else" {
                let (elseBody, close) = try parseBody(until: ["endfor"])
                try close?.stream.expectEnd()
                otherwise = elseBody
            }
        }
        return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
    }

    private mutating func parseSet(_ stream: inout JinjaTokenStream, line: Int) throws -> JinjaNode {
        let first = try stream.expectName()
        let target: JinjaSetTarget
        if stream.skipOp(".") {
            target = .attribute(first, try stream.expectName())
        } else if stream.isOp(",") {
            var names = [first]
            while stream.skipOp(",") { names.append(try stream.expectName()) }
            target = .names(names)
        } else {
            target = .name(first)
        }
        if stream.atEnd, case .name(let name) = target {
            let (body, end) = try parseBody(until: ["endset"])
            try end?.stream.expectEnd()
            return .setBlock(name, body, line: line)
        }
        if stream.isOp("|") {
            throw ChatTemplateError.unsupported(origin: origin, line: line, feature: "filtered {% set %} blocks")
        }
        try stream.expectOp("=")
        let value = try stream.parseTuple()
        try stream.expectEnd()
        return .set(target, value, line: line)
    }

    private mutating func parseMacro(_ stream: inout JinjaTokenStream, line: Int) throws -> JinjaNode {
        let name = try stream.expectName()
        try stream.expectOp("(")
        var parameters: [(String, JinjaExpr?)] = []
        while !stream.isOp(")") {
            if !parameters.isEmpty { try stream.expectOp(",") }
            if stream.isOp(")") { break }
            let parameter = try stream.expectName()
            let defaultValue: JinjaExpr? = stream.skipOp("=") ? try stream.parseExpression() : nil
            parameters.append((parameter, defaultValue))
        }
        try stream.expectOp(")")
        try stream.expectEnd()
        let (body, end) = try parseBody(until: ["endmacro"])
        if var end, !end.stream.atEnd {
            _ = end.stream.skipName(name)
            try end.stream.expectEnd()
        }
        return .macro(name: name, parameters: parameters, body: body, line: line)
    }
}
