import Foundation

/// Executes a parsed template with Jinja's scoping rules: `if` shares its scope; each `for`
/// iteration and each macro call gets a fresh scope, so a `{% set %}` inside them is not seen
/// afterwards (templates use `namespace()` for that); macros see the template's top-level names.
///
/// One interpreter renders once, on one thread. Limits keep a hostile template from running away:
/// `maxSteps` statements and loop iterations, `maxOutput` characters, `maxDepth` nested macro calls.
final class JinjaInterpreter {
    let origin: String
    /// Scopes, outermost (the render context) first.
    private var frames: [[String: JinjaValue]]
    /// Line of the statement being executed, for error messages.
    private(set) var line = 1
    private var steps = 0
    private var depth = 0
    /// Statements and loop iterations allowed (`defaultMaxSteps` unless a test lowers it).
    let maxSteps: Int

    static let defaultMaxSteps = 1_000_000
    static let maxOutput = 32 << 20
    static let maxDepth = 64

    /// Where control goes after a statement.
    enum Flow { case normal, breakLoop, continueLoop }

    init(origin: String, context: [String: JinjaValue], maxSteps: Int = JinjaInterpreter.defaultMaxSteps) {
        self.origin = origin
        self.frames = [context]
        self.maxSteps = maxSteps
    }

    /// Renders `nodes` at the top level.
    /// - Throws: `ChatTemplateError` (`.raised`, `.evaluation`, `.unsupported`).
    func render(_ nodes: [JinjaNode]) throws -> String {
        var out = ""
        do {
            if try exec(nodes, into: &out) != .normal {
                throw JinjaFailure.type("'break' or 'continue' outside a for loop")
            }
        } catch let failure as JinjaFailure {
            throw error(failure)
        }
        return out
    }

    /// The user-facing error for an evaluation failure at the current line.
    func error(_ failure: JinjaFailure) -> ChatTemplateError {
        switch failure {
        case .raised(let message): return .raised(origin: origin, message: message)
        case .unsupported(let feature): return .unsupported(origin: origin, line: line, feature: feature)
        case .type(let m): return .evaluation(origin: origin, line: line, message: m)
        case .undefined(let m): return .evaluation(origin: origin, line: line, message: m)
        case .limit(let m): return .evaluation(origin: origin, line: line, message: m)
        }
    }

    private func tick() throws {
        steps += 1
        if steps > maxSteps { throw JinjaFailure.limit("template ran more than \(maxSteps) steps") }
    }

    // MARK: - Scopes

    func lookup(_ name: String) -> JinjaValue {
        for frame in frames.reversed() {
            if let v = frame[name] { return v }
        }
        return JinjaBuiltins.global(name) ?? .undefined(name)
    }

    private func assign(_ name: String, _ value: JinjaValue) {
        frames[frames.count - 1][name] = value
    }

    // MARK: - Statements

    func exec(_ nodes: [JinjaNode], into out: inout String) throws -> Flow {
        for node in nodes {
            try tick()
            switch node {
            case .text(let t):
                try emit(t, into: &out)
            case let .output(expr, line):
                self.line = line
                try emit(try eval(expr).text, into: &out)
            case let .ifBlock(branches, otherwise, line):
                self.line = line
                var chosen = otherwise
                for (condition, body) in branches where try eval(condition).truthy {
                    chosen = body
                    break
                }
                let flow = try exec(chosen, into: &out)
                if flow != .normal { return flow }
            case let .forLoop(targets, iterable, filter, body, otherwise, line):
                self.line = line
                try runLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, into: &out)
            case let .set(target, expr, line):
                self.line = line
                try set(target, try eval(expr))
            case let .setBlock(name, body, line):
                self.line = line
                var captured = ""
                frames.append([:])
                defer { frames.removeLast() }
                _ = try exec(body, into: &captured)
                frames[frames.count - 2][name] = .string(captured)
            case let .macro(name, parameters, body, line):
                self.line = line
                assign(name, .callable(makeMacro(name: name, parameters: parameters, body: body)))
            case .breakLoop(let line):
                self.line = line
                return .breakLoop
            case .continueLoop(let line):
                self.line = line
                return .continueLoop
            }
        }
        return .normal
    }

    private func emit(_ text: String, into out: inout String) throws {
        out += text
        if out.utf8.count > Self.maxOutput { throw JinjaFailure.limit("template output exceeds \(Self.maxOutput) bytes") }
    }

    private func set(_ target: JinjaSetTarget, _ value: JinjaValue) throws {
        switch target {
        case .name(let name):
            assign(name, value)
        case .names(let names):
            let items = try unpack(value, count: names.count)
            for (n, v) in zip(names, items) { assign(n, v) }
        case let .attribute(object, attribute):
            guard case .namespace(let ns) = lookup(object) else {
                throw JinjaFailure.type("cannot assign attribute '\(attribute)' on '\(object)': not a namespace()")
            }
            ns.values[attribute] = value
        }
    }

    private func unpack(_ value: JinjaValue, count: Int) throws -> [JinjaValue] {
        let items = try JinjaBuiltins.iterate(value)
        guard items.count == count else {
            throw JinjaFailure.type("cannot unpack \(items.count) values into \(count) names")
        }
        return items
    }

    private func runLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode],
                         otherwise: [JinjaNode], into out: inout String) throws {
        var items = try JinjaBuiltins.iterate(try eval(iterable))
        func bind(_ item: JinjaValue) throws -> [String: JinjaValue] {
            if targets.count == 1 { return [targets[0]: item] }
            return Dictionary(uniqueKeysWithValues: zip(targets, try unpack(item, count: targets.count)))
        }
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                try tick()
                frames.append(try bind(item))
                defer { frames.removeLast() }
                if try eval(filter).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try exec(otherwise, into: &out)
            return
        }
        let n = items.count
        for (k, item) in items.enumerated() {
            try tick()
            var frame = try bind(item)
            frame["loop"] = .dict(JinjaDict([
                ("index", .int(k + 1)), ("index0", .int(k)), ("revindex", .int(n - k)), ("revindex0", .int(n - k - 1)),
                ("first", .bool(k == 0)), ("last", .bool(k == n - 1)), ("length", .int(n)),
                ("previtem", k > 0 ? items[k - 1] : .undefined("loop.previtem")),
                ("nextitem", k + 1 < n ? items[k + 1] : .undefined("loop.nextitem")),
                ("depth", .int(1)), ("depth0", .int(0)),
                ("cycle", .callable(JinjaCallable(name: "loop.cycle") { _, args, _ in
                    guard !args.isEmpty else { throw JinjaFailure.type("loop.cycle() needs at least one value") }
                    return args[k % args.count]
                })),
            ]))
            frames.append(frame)
            let flow: Flow
            do { defer { frames.removeLast() }; flow = try exec(body, into: &out) }
            if flow == .breakLoop { break }
        }
    }

    private func makeMacro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode]) -> JinjaCallable {
        JinjaCallable(name: name) { interpreter, positional, keyword in
            try interpreter.callMacro(name: name, parameters: parameters, body: body, positional: positional, keyword: keyword)
        }
    }

    private func callMacro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode],
                           positional: [JinjaValue], keyword: [(String, JinjaValue)]) throws -> JinjaValue {
        guard positional.count <= parameters.count else {
            throw JinjaFailure.type("macro '\(name)' takes \(parameters.count) arguments, got \(positional.count)")
        }
        guard depth < Self.maxDepth else { throw JinjaFailure.limit("macro calls nested deeper than \(Self.maxDepth)") }
        var frame: [String: JinjaValue] = [:]
        for (k, (parameter, defaultValue)) in parameters.enumerated() {
            if k < positional.count {
                frame[parameter] = positional[k]
            } else if let v = keyword.first(where: { $0.0 == parameter })?.1 {
                frame[parameter] = v
            } else {
                frame[parameter] = try defaultValue.map { try eval($0) } ?? .undefined(parameter)
            }
        }
        if let unknown = keyword.first(where: { k in !parameters.contains { $0.0 == k.0 } }) {
            throw JinjaFailure.type("macro '\(name)' has no parameter '\(unknown.0)'")
        }
        let saved = frames
        let savedLine = line
        frames = [frames[0], frame]
        depth += 1
        defer { frames = saved; depth -= 1; line = savedLine }
        var out = ""
        _ = try exec(body, into: &out)
        return .string(out)
    }

    // MARK: - Expressions

    func eval(_ expr: JinjaExpr) throws -> JinjaValue {
        switch expr {
        case .literal(let v): return v
        case .variable(let name): return lookup(name)
        case .list(let items): return .list(try items.map { try eval($0) })
        case .tuple(let items): return .tuple(try items.map { try eval($0) })
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                guard case .string(let key) = try eval(k) else { throw JinjaFailure.unsupported("dictionary keys that are not strings") }
                d[key] = try eval(v)
            }
            return .dict(d)
        case let .attribute(base, name):
            return try JinjaBuiltins.attribute(try eval(base), name)
        case let .index(base, key):
            return try JinjaBuiltins.item(try eval(base), try eval(key))
        case let .slice(base, start, stop, step):
            return try JinjaBuiltins.slice(try eval(base), try start.map { try eval($0) }, try stop.map { try eval($0) },
                                           try step.map { try eval($0) })
        case let .call(callee, arguments):
            let f = try eval(callee)
            guard case .callable(let function) = f else {
                if case .undefined(let what) = f { throw JinjaFailure.undefined("'\(what)' is undefined and cannot be called") }
                throw JinjaFailure.type("'\(f.typeName)' object is not callable")
            }
            let (positional, keyword) = try evalArguments(arguments)
            return try function.call(self, positional, keyword)
        case let .filter(value, name, arguments):
            let (positional, keyword) = try evalArguments(arguments)
            return try JinjaBuiltins.filter(name, try eval(value), positional, keyword, interpreter: self)
        case let .test(value, name, arguments, negated):
            let (positional, _) = try evalArguments(arguments)
            let result = try JinjaBuiltins.test(name, try eval(value), positional, interpreter: self)
            return .bool(result != negated)
        case let .unary(op, operand):
            let v = try eval(operand)
            switch op {
            case "not": return .bool(!v.truthy)
            case "-":
                if case .int(let i) = v { return .int(-i) }
                guard let x = v.number else { throw JinjaFailure.type("bad operand type for unary -: '\(v.typeName)'") }
                return .double(-x)
            default:
                guard v.number != nil else { throw JinjaFailure.type("bad operand type for unary +: '\(v.typeName)'") }
                return v
            }
        case let .binary(op, left, right):
            switch op {
            case "and":
                let l = try eval(left)
                return l.truthy ? try eval(right) : l
            case "or":
                let l = try eval(left)
                return l.truthy ? l : try eval(right)
            default:
                return try JinjaOperators.binary(op, try eval(left), try eval(right))
            }
        case let .compare(first, operations):
            var left = try eval(first)
            for (op, expr) in operations {
                let right = try eval(expr)
                guard try JinjaOperators.binary(op, left, right).truthy else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .conditional(then, condition, otherwise):
            if try eval(condition).truthy { return try eval(then) }
            return try otherwise.map { try eval($0) } ?? .undefined("conditional expression without else")
        }
    }

    private func evalArguments(_ arguments: JinjaArguments) throws -> ([JinjaValue], [(String, JinjaValue)]) {
        (try arguments.positional.map { try eval($0) }, try arguments.keyword.map { ($0.0, try eval($0.1)) })
    }
}
