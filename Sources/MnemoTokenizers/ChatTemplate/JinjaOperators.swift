import Foundation

/// Binary operators with Python's semantics (what Jinja compiles them to).
enum JinjaOperators {
    static func binary(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(JinjaValue.equal(l, r))
        case "!=": return .bool(!JinjaValue.equal(l, r))
        case "<", ">", "<=", ">=":
            let c = try compare(l, r, op)
            switch op {
            case "<": return .bool(c < 0)
            case ">": return .bool(c > 0)
            case "<=": return .bool(c <= 0)
            default: return .bool(c >= 0)
            }
        case "in": return .bool(try contains(r, l))
        case "not in": return .bool(!(try contains(r, l)))
        case "~": return .string(l.text + r.text)
        case "+": return try add(l, r)
        case "-", "*", "/", "//", "%", "**": return try arithmetic(op, l, r)
        default: throw JinjaFailure.unsupported("operator '\(op)'")
        }
    }

    private static func undefinedOperand(_ l: JinjaValue, _ r: JinjaValue, _ op: String) -> JinjaFailure? {
        for v in [l, r] {
            if case .undefined(let what) = v { return .undefined("'\(what)' is undefined (used with '\(op)')") }
        }
        return nil
    }

    private static func typeError(_ op: String, _ l: JinjaValue, _ r: JinjaValue) -> JinjaFailure {
        undefinedOperand(l, r, op) ?? .type("unsupported operand type(s) for \(op): '\(l.typeName)' and '\(r.typeName)'")
    }

    static func add(_ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        switch (l, r) {
        case let (.string(a), .string(b)): return .string(a + b)
        case let (.list(a), .list(b)): return .list(a + b)
        case let (.tuple(a), .tuple(b)): return .tuple(a + b)
        default:
            if let a = l.integer, let b = r.integer {
                let (sum, overflow) = a.addingReportingOverflow(b)
                if overflow { throw JinjaFailure.limit("integer overflow in +") }
                return .int(sum)
            }
            if let a = l.number, let b = r.number { return .double(a + b) }
            throw typeError("+", l, r)
        }
    }

    static func arithmetic(_ op: String, _ l: JinjaValue, _ r: JinjaValue) throws -> JinjaValue {
        if op == "*" {
            // Sequence repetition: 'ab' * 2, [x] * 3.
            switch (l, r) {
            case let (.string(s), .int(n)), let (.int(n), .string(s)):
                guard n <= 1 << 20 else { throw JinjaFailure.limit("string repetition by \(n)") }
                return .string(n > 0 ? String(repeating: s, count: n) : "")
            case let (.list(a), .int(n)), let (.int(n), .list(a)):
                guard n * max(a.count, 1) <= 1 << 20 else { throw JinjaFailure.limit("list repetition by \(n)") }
                return .list(n > 0 ? Array((0 ..< n).map { _ in a }.joined()) : [])
            default: break
            }
        }
        if op == "%", case .string = l { throw JinjaFailure.unsupported("printf-style '%' string formatting") }
        if let a = l.integer, let b = r.integer {
            switch op {
            case "-":
                let (v, o) = a.subtractingReportingOverflow(b)
                if o { throw JinjaFailure.limit("integer overflow in -") }
                return .int(v)
            case "*":
                let (v, o) = a.multipliedReportingOverflow(by: b)
                if o { throw JinjaFailure.limit("integer overflow in *") }
                return .int(v)
            case "/":
                guard b != 0 else { throw JinjaFailure.type("division by zero") }
                return .double(Double(a) / Double(b))
            case "//", "%":
                guard b != 0 else { throw JinjaFailure.type("integer division or modulo by zero") }
                // Python floors toward negative infinity; the remainder takes the divisor's sign.
                var q = a / b
                var m = a % b
                if m != 0, (m < 0) != (b < 0) { q -= 1; m += b }
                return .int(op == "//" ? q : m)
            default:  // **
                guard b >= 0 else { return .double(pow(Double(a), Double(b))) }
                var result = 1
                for _ in 0 ..< min(b, 4096) {
                    let (v, o) = result.multipliedReportingOverflow(by: a)
                    if o { throw JinjaFailure.limit("integer overflow in **") }
                    result = v
                }
                return .int(result)
            }
        }
        guard let a = l.number, let b = r.number else { throw typeError(op, l, r) }
        switch op {
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw JinjaFailure.type("float division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw JinjaFailure.type("float floor division by zero") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw JinjaFailure.type("float modulo by zero") }
            let m = a.truncatingRemainder(dividingBy: b)
            return .double(m != 0 && (m < 0) != (b < 0) ? m + b : m)
        default: return .double(pow(a, b))
        }
    }

    /// Python ordering of numbers, strings (by code point) and sequences; -1, 0 or 1.
    static func compare(_ l: JinjaValue, _ r: JinjaValue, _ op: String = "<", depth: Int = 0) throws -> Int {
        if depth > JinjaValue.maxNesting { throw JinjaFailure.limit("value nested deeper than \(JinjaValue.maxNesting) levels") }
        switch (l, r) {
        case let (.string(a), .string(b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars, by: { $0.value < $1.value }) ? -1
                : (a.unicodeScalars.elementsEqual(b.unicodeScalars) ? 0 : 1)
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
            for (x, y) in zip(a, b) where !JinjaValue.equal(x, y) { return try compare(x, y, op, depth: depth + 1) }
            return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
        default:
            if let a = l.number, let b = r.number { return a < b ? -1 : (a == b ? 0 : 1) }
            throw undefinedOperand(l, r, op)
                ?? JinjaFailure.type("'\(op)' not supported between instances of '\(l.typeName)' and '\(r.typeName)'")
        }
    }

    /// Python `needle in container`.
    static func contains(_ container: JinjaValue, _ needle: JinjaValue) throws -> Bool {
        switch container {
        case .undefined: return false
        case .string(let s):
            guard case .string(let n) = needle else {
                throw JinjaFailure.type("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return n.isEmpty || s.range(of: n, options: .literal) != nil
        case .list(let a), .tuple(let a): return a.contains { JinjaValue.equal($0, needle) }
        case .dict(let d):
            guard case .string(let key) = needle else { return false }
            return d[key] != nil
        case .namespace(let ns):
            guard case .string(let key) = needle else { return false }
            return ns.values[key] != nil
        default:
            throw JinjaFailure.type("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
