import Foundation

/// The Python methods chat templates call on strings, dicts and lists (`content.strip()`,
/// `message.get('content')`, `tool.items()`), as the immutable sandbox transformers renders with
/// allows them: mutating list and dict methods are refused.
enum JinjaMethods {
    private static func method(_ name: String, _ body: @escaping @Sendable ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue) -> JinjaCallable {
        JinjaCallable(name: name) { _, args, kwargs in try body(args, kwargs) }
    }

    private static func refused(_ type: String, _ name: String) -> JinjaCallable {
        method("\(type).\(name)") { _, _ in
            throw JinjaFailure.type("access to attribute '\(name)' of '\(type)' object is unsafe (chat templates run in an immutable sandbox)")
        }
    }

    private static func stringArgument(_ args: [JinjaValue], _ k: Int, _ name: String) throws -> String? {
        guard k < args.count else { return nil }
        switch args[k] {
        case .none: return nil
        case .string(let s): return s
        default: throw JinjaFailure.type("\(name)() argument \(k + 1) must be str or None, not \(args[k].typeName)")
        }
    }

    static func dictMethod(_ d: JinjaDict, _ name: String) -> JinjaCallable? {
        switch name {
        case "items": return method("dict.items") { _, _ in .list(d.entries.map { .tuple([.string($0.key), $0.value]) }) }
        case "keys": return method("dict.keys") { _, _ in .list(d.keys.map { .string($0) }) }
        case "values": return method("dict.values") { _, _ in .list(d.entries.map(\.value)) }
        case "get":
            return method("dict.get") { args, _ in
                guard let key = args.first else { throw JinjaFailure.type("get expected at least 1 argument, got 0") }
                guard case .string(let k) = key else { return args.count > 1 ? args[1] : .none }
                return d[k] ?? (args.count > 1 ? args[1] : .none)
            }
        case "update", "pop", "popitem", "setdefault", "clear": return refused("dict", name)
        default: return nil
        }
    }

    static func listMethod(_ a: [JinjaValue], _ name: String) -> JinjaCallable? {
        switch name {
        case "index":
            return method("list.index") { args, _ in
                guard let x = args.first, let i = a.firstIndex(where: { JinjaValue.equal($0, x) }) else {
                    throw JinjaFailure.type("value is not in list")
                }
                return .int(i)
            }
        case "count":
            return method("list.count") { args, _ in
                guard let x = args.first else { throw JinjaFailure.type("count() takes exactly one argument") }
                return .int(a.filter { JinjaValue.equal($0, x) }.count)
            }
        case "append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear": return refused("list", name)
        default: return nil
        }
    }

    static func stringMethod(_ s: String, _ name: String) -> JinjaCallable? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return method("str.\(name)") { args, _ in
                let chars = try stringArgument(args, 0, name).map { Set($0.unicodeScalars) }
                return .string(strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "upper": return method("str.upper") { _, _ in .string(s.uppercased()) }
        case "lower": return method("str.lower") { _, _ in .string(s.lowercased()) }
        case "title": return method("str.title") { _, _ in .string(pythonTitle(s)) }
        case "capitalize": return method("str.capitalize") { _, _ in .string(capitalize(s)) }
        case "startswith", "endswith":
            return method("str.\(name)") { args, _ in
                guard let prefix = args.first else { throw JinjaFailure.type("\(name)() takes at least 1 argument") }
                let options: [JinjaValue]
                if case .tuple(let t) = prefix { options = t } else { options = [prefix] }
                for o in options {
                    guard case .string(let p) = o else { throw JinjaFailure.type("\(name) first arg must be str or a tuple of str") }
                    let hit = name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                        : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
                    if hit { return .bool(true) }
                }
                return .bool(false)
            }
        case "split", "rsplit":
            return method("str.\(name)") { args, kwargs in
                if case .string("")? = args.first { throw JinjaFailure.type("empty separator") }
                let sep = try stringArgument(args, 0, name) ?? kwargs.first(where: { $0.0 == "sep" }).flatMap { if case .string(let x) = $0.1 { return x }; return nil }
                let maxValue = args.count > 1 ? args[1] : kwargs.first(where: { $0.0 == "maxsplit" })?.1
                let maxSplit = maxValue?.integer ?? -1
                return .list(split(s, separator: sep, maxSplit: maxSplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines":
            return method("str.splitlines") { _, _ in
                .list(s.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).map { .string(String($0)) }
                        .dropLast(s.last?.isNewline == true ? 1 : 0).map { $0 })
            }
        case "replace":
            return method("str.replace") { args, _ in
                guard let old = try stringArgument(args, 0, name), let new = try stringArgument(args, 1, name) else {
                    throw JinjaFailure.type("replace() takes 2 string arguments")
                }
                let count = args.count > 2 ? (args[2].integer ?? -1) : -1
                return .string(replace(s, old, new, count: count))
            }
        case "find", "count", "index":
            return method("str.\(name)") { args, _ in
                guard let needle = try stringArgument(args, 0, name) else { throw JinjaFailure.type("\(name)() takes a string") }
                let hay = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
                var found: [Int] = []
                var i = 0
                while i + n.count <= hay.count {
                    if Array(hay[i ..< i + n.count]) == n { found.append(i); i += max(n.count, 1) } else { i += 1 }
                    if name != "count", !found.isEmpty { break }
                }
                if name == "count" { return .int(found.count) }
                if name == "index", found.isEmpty { throw JinjaFailure.type("substring not found") }
                return .int(found.first ?? -1)
            }
        case "join":
            return method("str.join") { args, _ in
                guard let items = args.first else { throw JinjaFailure.type("join() takes exactly one argument") }
                return .string(try JinjaBuiltins.iterate(items).map { v -> String in
                    guard case .string(let x) = v else { throw JinjaFailure.type("sequence item: expected str instance, \(v.typeName) found") }
                    return x
                }.joined(separator: s))
            }
        case "removeprefix", "removesuffix":
            return method("str.\(name)") { args, _ in
                guard let affix = try stringArgument(args, 0, name) else { throw JinjaFailure.type("\(name)() takes a string") }
                if name == "removeprefix", s.hasPrefix(affix) { return .string(String(s.dropFirst(affix.count))) }
                if name == "removesuffix", s.hasSuffix(affix), !affix.isEmpty { return .string(String(s.dropLast(affix.count))) }
                return .string(s)
            }
        case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower":
            return method("str.\(name)") { _, _ in
                guard !s.isEmpty else { return .bool(false) }
                switch name {
                case "isdigit": return .bool(s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
                case "isalpha": return .bool(s.allSatisfy(\.isLetter))
                case "isalnum": return .bool(s.allSatisfy { $0.isLetter || $0.isNumber })
                case "isspace": return .bool(s.unicodeScalars.allSatisfy(JinjaLexer.isSpace))
                case "isupper": return .bool(s == s.uppercased() && s != s.lowercased())
                default: return .bool(s == s.lowercased() && s != s.uppercased())
                }
            }
        case "format":
            return method("str.format") { _, _ in throw JinjaFailure.unsupported("str.format()") }
        default:
            return nil
        }
    }

    /// Python `str.strip([chars])` (whitespace as `str.isspace`).
    static func strip(_ s: String, chars: Set<Unicode.Scalar>?, leading: Bool = true, trailing: Bool = true) -> String {
        let scalars = Array(s.unicodeScalars)
        func drop(_ c: Unicode.Scalar) -> Bool { chars.map { $0.contains(c) } ?? JinjaLexer.isSpace(c) }
        var lo = 0, hi = scalars.count
        if leading { while lo < hi, drop(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo, drop(scalars[hi - 1]) { hi -= 1 } }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars[lo ..< hi])
        return String(v)
    }

    /// Python `str.title()`: a letter after a non-letter is upper-cased, others lower-cased.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s {
            if c.isLetter {
                out += previousCased ? c.lowercased() : c.uppercased()
                previousCased = true
            } else {
                out.append(c)
                previousCased = false
            }
        }
        return out
    }

    /// Python `str.capitalize()`.
    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    /// Python `str.split(sep, maxsplit)` / `rsplit`.
    static func split(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool) -> [String] {
        guard let separator else {
            // Runs of whitespace, no empty strings; the unsplit remainder keeps its inner and outer spacing.
            let sc = Array(s.unicodeScalars)
            func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(sc[r])) }
            var out: [String] = []
            if !fromRight {
                var i = 0
                while true {
                    while i < sc.count, JinjaLexer.isSpace(sc[i]) { i += 1 }
                    if i >= sc.count { break }
                    if maxSplit >= 0, out.count == maxSplit { out.append(text(i ..< sc.count)); break }
                    var j = i
                    while j < sc.count, !JinjaLexer.isSpace(sc[j]) { j += 1 }
                    out.append(text(i ..< j))
                    i = j
                }
                return out
            }
            var j = sc.count
            while true {
                while j > 0, JinjaLexer.isSpace(sc[j - 1]) { j -= 1 }
                if j == 0 { break }
                if maxSplit >= 0, out.count == maxSplit { out.append(text(0 ..< j)); break }
                var i = j
                while i > 0, !JinjaLexer.isSpace(sc[i - 1]) { i -= 1 }
                out.append(text(i ..< j))
                j = i
            }
            return out.reversed()
        }
        var parts = s.components(separatedBy: separator)
        if maxSplit >= 0, parts.count > maxSplit + 1 {
            if fromRight {
                let tail = Array(parts.suffix(maxSplit))
                parts = [parts.dropLast(maxSplit).joined(separator: separator)] + tail
            } else {
                let head = Array(parts.prefix(maxSplit))
                parts = head + [parts.dropFirst(maxSplit).joined(separator: separator)]
            }
        }
        return parts
    }

    /// Python `str.replace(old, new, count)`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        guard count != 0 else { return s }
        if old.isEmpty { return s }   // Python inserts `new` between characters; no template relies on it
        var parts = s.components(separatedBy: old)
        if count > 0, parts.count > count + 1 {
            parts = Array(parts.prefix(count)) + [parts.dropFirst(count).joined(separator: old)]
        }
        return parts.joined(separator: new)
    }
}
