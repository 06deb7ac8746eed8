import Foundation

/// Attribute and item access, iteration, tests and globals (Jinja 3.1 `defaults.py`, `tests.py`,
/// the sandbox's `range` limit, and the globals transformers adds: `raise_exception`, `strftime_now`,
/// `namespace`, `dict`).
enum JinjaBuiltins {
    /// Python iteration: list/tuple items, dict keys, string characters (code points); undefined is empty.
    static func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .undefined: return []
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw JinjaFailure.type("'\(v.typeName)' object is not iterable")
        }
    }

    /// Python `len()`.
    static func length(_ v: JinjaValue) throws -> Int {
        switch v {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        default: throw JinjaFailure.type("object of type '\(v.typeName)' has no len()")
        }
    }

    /// `value.name`: a method where Python has one, else the item; undefined when missing.
    static func attribute(_ v: JinjaValue, _ name: String) throws -> JinjaValue {
        switch v {
        case .undefined(let what):
            throw JinjaFailure.undefined("'\(what)' is undefined (reading '.\(name)')")
        case .dict(let d):
            if let method = JinjaMethods.dictMethod(d, name) { return .callable(method) }
            return d[name] ?? .undefined(name)
        case .namespace(let ns):
            return ns.values[name] ?? .undefined(name)
        case .string(let s):
            return JinjaMethods.stringMethod(s, name).map { .callable($0) } ?? .undefined(name)
        case .list(let a):
            return JinjaMethods.listMethod(a, name).map { .callable($0) } ?? .undefined(name)
        default:
            return .undefined(name)
        }
    }

    /// `value[key]`: the item, else an attribute (as Jinja's `getitem`); undefined when missing.
    static func item(_ v: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (v, key) {
        case (.undefined(let what), _):
            throw JinjaFailure.undefined("'\(what)' is undefined (reading [\(key.repr)])")
        case let (.list(a), _), let (.tuple(a), _):
            guard let i = key.integer else { return .undefined("[\(key.repr)]") }
            let k = i < 0 ? a.count + i : i
            return k >= 0 && k < a.count ? a[k] : .undefined("[\(i)]")
        case let (.string(s), _):
            guard let i = key.integer else { return .undefined("[\(key.repr)]") }
            let scalars = Array(s.unicodeScalars)
            let k = i < 0 ? scalars.count + i : i
            return k >= 0 && k < scalars.count ? .string(String(scalars[k])) : .undefined("[\(i)]")
        case let (.dict(d), .string(name)):
            return try d[name] ?? attribute(v, name)
        case let (.namespace(ns), .string(name)):
            return ns.values[name] ?? .undefined(name)
        default:
            return .undefined("[\(key.repr)]")
        }
    }

    /// Python slicing of lists, tuples and strings.
    static func slice(_ v: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws -> JinjaValue {
        func bound(_ x: JinjaValue?) throws -> Int? {
            guard let x, !(x.isUndefined), !({ if case .none = x { return true }; return false }()) else { return nil }
            guard let i = x.integer else { throw JinjaFailure.type("slice indices must be integers or None, not \(x.typeName)") }
            return i
        }
        let s = try bound(step) ?? 1
        guard s != 0 else { throw JinjaFailure.type("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ fallback: Int) -> Int {
                guard var i else { return fallback }
                if i < 0 { i += count }
                return s > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let lo = clamp(try bound(start), s > 0 ? 0 : count - 1)
            let hi = clamp(try bound(stop), s > 0 ? count : -1)
            return Array(stride(from: lo, to: hi, by: s))
        }
        switch v {
        case .list(let a): return .list(try indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(try indices(a.count).map { a[$0] })
        case .string(let str):
            let scalars = Array(str.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined(let what): throw JinjaFailure.undefined("'\(what)' is undefined (slicing)")
        default: throw JinjaFailure.type("'\(v.typeName)' object is not subscriptable")
        }
    }

    // MARK: - Globals

    static func global(_ name: String) -> JinjaValue? {
        switch name {
        case "raise_exception":
            return .callable(JinjaCallable(name: name) { _, args, _ in
                throw JinjaFailure.raised(args.first?.text ?? "")
            })
        case "range":
            return .callable(JinjaCallable(name: name) { _, args, _ in try range(args) })
        case "namespace":
            return .callable(JinjaCallable(name: name) { _, args, kwargs in
                var values = JinjaDict()
                for a in args {
                    guard case .dict(let d) = a else { throw JinjaFailure.type("namespace() takes a dict or keyword arguments") }
                    for e in d.entries { values[e.key] = e.value }
                }
                for (k, v) in kwargs { values[k] = v }
                return .namespace(JinjaNamespace(values))
            })
        case "dict":
            return .callable(JinjaCallable(name: name) { _, args, kwargs in
                var values = JinjaDict()
                for a in args {
                    guard case .dict(let d) = a else { throw JinjaFailure.type("dict() takes a dict or keyword arguments") }
                    for e in d.entries { values[e.key] = e.value }
                }
                for (k, v) in kwargs { values[k] = v }
                return .dict(values)
            })
        case "strftime_now":
            return .callable(JinjaCallable(name: name) { _, args, _ in
                guard case .string(let format)? = args.first else { throw JinjaFailure.type("strftime_now() needs a format string") }
                return .string(strftimeNow(format))
            })
        default:
            return nil
        }
    }

    /// The sandbox's `range`, limited to 100,000 items like Jinja's `MAX_RANGE`.
    private static func range(_ args: [JinjaValue]) throws -> JinjaValue {
        let ints = try args.map { a -> Int in
            guard let i = a.integer else { throw JinjaFailure.type("range() arguments must be integers, not \(a.typeName)") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw JinjaFailure.type("range() takes 1 to 3 arguments, got \(ints.count)")
        }
        guard step != 0 else { throw JinjaFailure.type("range() arg 3 must not be zero") }
        let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
        guard count <= 100_000 else { throw JinjaFailure.limit("range too big (\(count) items; at most 100000)") }
        return .list((0 ..< count).map { .int(start + $0 * step) })
    }

    /// `datetime.now().strftime(format)` in local time.
    private static func strftimeNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 512)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Tests

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], interpreter: JinjaInterpreter) throws -> Bool {
        func arg(_ k: Int) throws -> JinjaValue {
            guard k < args.count else { throw JinjaFailure.type("test '\(name)' needs an argument") }
            return args[k]
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "number": switch v { case .int, .double, .bool: return true; default: return false }
        case "string": if case .string = v { return true } else { return false }
        case "mapping": switch v { case .dict: return true; default: return false }
        case "sequence": switch v { case .list, .tuple, .string, .dict: return true; default: return false }
        case "iterable": switch v { case .list, .tuple, .string, .dict, .undefined: return true; default: return false }
        case "callable": if case .callable = v { return true } else { return false }
        case "odd", "even":
            guard let i = v.integer else { throw JinjaFailure.type("test '\(name)' needs an integer, got \(v.typeName)") }
            return (i & 1 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = v.integer, let d = try arg(0).integer, d != 0 else { throw JinjaFailure.type("divisibleby needs non-zero integers") }
            return i % d == 0
        case "eq", "equalto", "==": return JinjaValue.equal(v, try arg(0))
        case "ne", "!=": return !JinjaValue.equal(v, try arg(0))
        case "lt", "lessthan", "<": return try JinjaOperators.compare(v, try arg(0)) < 0
        case "le", "<=": return try JinjaOperators.compare(v, try arg(0)) <= 0
        case "gt", "greaterthan", ">": return try JinjaOperators.compare(v, try arg(0)) > 0
        case "ge", ">=": return try JinjaOperators.compare(v, try arg(0)) >= 0
        case "in": return try JinjaOperators.contains(try arg(0), v)
        case "sameas":
            let other = try arg(0)
            switch (v, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            default: return false
            }
        case "lower": if case .string(let s) = v { return s == s.lowercased() && s != s.uppercased() } else { return false }
        case "upper": if case .string(let s) = v { return s == s.uppercased() && s != s.lowercased() } else { return false }
        default: throw JinjaFailure.unsupported("test '\(name)'")
        }
    }
}
