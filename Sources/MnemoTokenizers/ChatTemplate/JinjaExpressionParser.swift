/// Recursive-descent parser for the expressions inside one tag, following the grammar and
/// precedence of `jinja2/parser.py` (Jinja 3.1): conditional < `or` < `and` < `not` < comparisons
/// (`== != < > <= >= in`, `not in`) < `+ -` < `~` < `* / // %` < `**` < unary `- +` < filters
/// and tests (`|`, `is`) < postfix (`.name`, `[key]`, `(args)`).
struct JinjaTokenStream {
    let tokens: [JinjaLexedToken]
    var position = 0
    /// Nesting of brackets and unary operators, bounded so a hostile template cannot exhaust the stack.
    private var depth = 0
    static let maxDepth = 128
    let tagLine: Int
    let origin: String

    init(_ tokens: [JinjaLexedToken], tagLine: Int, origin: String) {
        self.tokens = tokens
        self.tagLine = tagLine
        self.origin = origin
    }

    var current: JinjaToken? { position < tokens.count ? tokens[position].token : nil }
    var atEnd: Bool { position >= tokens.count }
    var line: Int { position < tokens.count ? tokens[position].line : (tokens.last?.line ?? tagLine) }

    func peek(_ k: Int = 1) -> JinjaToken? { position + k < tokens.count ? tokens[position + k].token : nil }

    func isName(_ name: String) -> Bool { current == .name(name) }
    func isOp(_ op: String) -> Bool { current == .op(op) }

    mutating func advance() { position += 1 }

    /// Consumes `name` if it is the current token.
    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    /// Consumes `op` if it is the current token.
    mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    func fail(_ message: String) -> ChatTemplateError {
        .syntax(origin: origin, line: line, message: message)
    }

    static func describe(_ t: JinjaToken?) -> String {
        switch t {
        case nil: return "end of tag"
        case .name(let n)?: return "'\(n)'"
        case .string(let s)?: return "string '\(s.prefix(20))'"
        case .integer(let v)?: return "\(v)"
        case .float(let v)?: return "\(v)"
        case .op(let o)?: return "'\(o)'"
        }
    }

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', found \(Self.describe(current))") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let n)? = current else { throw fail("expected a name, found \(Self.describe(current))") }
        advance()
        return n
    }

    func expectEnd() throws {
        guard atEnd else { throw fail("unexpected \(Self.describe(current))") }
    }

    // MARK: - Expressions

    /// `expr` or `expr, expr, ...` (a tuple), as Jinja's `parse_tuple`.
    mutating func parseTuple(withCondition: Bool = true, stopAtNames: Set<String> = []) throws -> JinjaExpr {
        var items: [JinjaExpr] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard skipOp(",") else { break }
                sawComma = true
            }
            if atEnd || isOp(")") || isOp("]") || isOp("}") { break }
            if case .name(let n)? = current, stopAtNames.contains(n) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
        }
        if items.isEmpty { throw fail("expected an expression, found \(Self.describe(current))") }
        return sawComma || items.count > 1 ? .tuple(items) : items[0]
    }

    mutating func parseExpression() throws -> JinjaExpr {
        var expr = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            let otherwise: JinjaExpr? = skipName("else") ? try parseExpression() : nil
            expr = .conditional(then: expr, condition: condition, otherwise: otherwise)
        }
        return expr
    }

    mutating func parseOr() throws -> JinjaExpr {
        var left = try parseAnd()
        while skipName("or") { left = .binary("or", left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws -> JinjaExpr {
        var left = try parseNot()
        while skipName("and") { left = .binary("and", left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws -> JinjaExpr {
        if skipName("not") {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw fail("expression nested deeper than \(Self.maxDepth) levels") }
            return .unary("not", try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> JinjaExpr {
        let first = try parseMath1()
        var operations: [(String, JinjaExpr)] = []
        while true {
            if case .op(let o)? = current, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                advance()
                operations.append((o, try parseMath1()))
            } else if skipName("in") {
                operations.append(("in", try parseMath1()))
            } else if isName("not"), peek() == .name("in") {
                advance(); advance()
                operations.append(("not in", try parseMath1()))
            } else {
                return operations.isEmpty ? first : .compare(first, operations)
            }
        }
    }

    mutating func parseMath1() throws -> JinjaExpr {
        var left = try parseConcat()
        while case .op(let o)? = current, o == "+" || o == "-" {
            advance()
            left = .binary(o, left, try parseConcat())
        }
        return left
    }

    mutating func parseConcat() throws -> JinjaExpr {
        var left = try parseMath2()
        while skipOp("~") { left = .binary("~", left, try parseMath2()) }
        return left
    }

    mutating func parseMath2() throws -> JinjaExpr {
        var left = try parsePow()
        while case .op(let o)? = current, ["*", "/", "//", "%"].contains(o) {
            advance()
            left = .binary(o, left, try parsePow())
        }
        return left
    }

    mutating func parsePow() throws -> JinjaExpr {
        var left = try parseUnary()
        while skipOp("**") { left = .binary("**", left, try parseUnary()) }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpr {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("expression nested deeper than \(Self.maxDepth) levels") }
        var node: JinjaExpr
        if skipOp("-") {
            node = .unary("-", try parseUnary(withFilter: false))
        } else if skipOp("+") {
            node = .unary("+", try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    mutating func parsePrimary() throws -> JinjaExpr {
        guard let token = current else { throw fail("expected an expression, found end of tag") }
        switch token {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .variable(n)
            }
        case .string(var s):
            advance()
            while case .string(let more)? = current { s += more; advance() }   // adjacent literals concatenate
            return .literal(.string(s))
        case .integer(let v):
            advance()
            return .literal(.int(v))
        case .float(let v):
            advance()
            return .literal(.double(v))
        case .op("("):
            advance()
            if skipOp(")") { return .tuple([]) }
            let inner = try parseTuple()
            try expectOp(")")
            return inner
        case .op("["):
            advance()
            var items: [JinjaExpr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw fail("unexpected \(Self.describe(token))")
        }
    }

    mutating func parsePostfix(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if skipOp(".") {
                switch current {
                case .name(let n)?: advance(); node = .attribute(node, n)
                case .integer(let v)?: advance(); node = .index(node, .literal(.int(v)))
                default: throw fail("expected an attribute name after '.', found \(Self.describe(current))")
                }
            } else if skipOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = .call(node, try parseArguments())
            } else {
                return node
            }
        }
    }

    /// After `[`: a key or a slice `start:stop:step`, then `]`.
    mutating func parseSubscript(_ base: JinjaExpr) throws -> JinjaExpr {
        var parts: [JinjaExpr?] = [nil]
        var isSlice = false
        while !isOp("]") {
            if skipOp(":") {
                isSlice = true
                parts.append(nil)
                guard parts.count <= 3 else { throw fail("a slice takes at most start:stop:step") }
                continue
            }
            guard parts[parts.count - 1] == nil else { throw fail("expected ':' or ']', found \(Self.describe(current))") }
            parts[parts.count - 1] = try parseExpression()
        }
        try expectOp("]")
        if !isSlice {
            guard let key = parts[0] else { throw fail("empty subscript") }
            return .index(base, key)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, parts[0], parts[1], parts[2])
    }

    /// `(a, b, name=c)`.
    mutating func parseArguments() throws -> JinjaArguments {
        try expectOp("(")
        var args = JinjaArguments()
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") {
                throw ChatTemplateError.unsupported(origin: origin, line: line, feature: "*args / **kwargs in calls")
            }
            if case .name(let n)? = current, peek() == .op("=") {
                advance(); advance()
                args.keyword.append((n, try parseExpression()))
            } else {
                guard args.keyword.isEmpty else { throw fail("positional argument after a keyword argument") }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    /// Filters (`| name(args)`) and tests (`is [not] name args`) after a unary expression.
    mutating func parseFilterExpression(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if skipOp("|") {
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                let args = isOp("(") ? try parseArguments() : JinjaArguments()
                node = .filter(node, name, args)
            } else if skipName("is") {
                let negated = skipName("not")
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                var args = JinjaArguments()
                if isOp("(") {
                    args = try parseArguments()
                } else if let t = current, Self.startsTestArgument(t) {
                    if isName("is") { throw fail("you cannot chain multiple tests with 'is'") }
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name, args, negated: negated)
            } else if isOp("(") {
                node = .call(node, try parseArguments())
            } else {
                return node
            }
        }
    }

    /// Whether `t` starts the single argument of a test written without parentheses (`is divisibleby 3`).
    static func startsTestArgument(_ t: JinjaToken) -> Bool {
        switch t {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float, .op("["), .op("{"): return true
        default: return false
        }
    }

    /// Targets of `for` and `set`: `name` or `a, b` (optionally parenthesized).
    mutating func parseTargetNames() throws -> [String] {
        let parenthesized = skipOp("(")
        var names = [try expectName()]
        while skipOp(",") {
            if isOp(")") || isName("in") || isOp("=") { break }
            names.append(try expectName())
        }
        if parenthesized { try expectOp(")") }
        return names
    }
}
