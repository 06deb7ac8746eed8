import Foundation

/// Arguments of one filter call: positional, then keyword, with defaults.
private struct FilterArguments {
    let positional: [JinjaValue]
    let keyword: [(String, JinjaValue)]

    func get(_ index: Int, _ name: String) -> JinjaValue? {
        if index < positional.count { return positional[index] }
        return keyword.first(where: { $0.0 == name })?.1
    }

    func string(_ index: Int, _ name: String, default fallback: String? = nil) throws -> String? {
        guard let v = get(index, name) else { return fallback }
        if case .none = v { return fallback }
        guard case .string(let s) = v else { throw JinjaFailure.type("argument '\(name)' must be a string, not \(v.typeName)") }
        return s
    }

    func int(_ index: Int, _ name: String, default fallback: Int) throws -> Int {
        guard let v = get(index, name) else { return fallback }
        guard let i = v.integer else { throw JinjaFailure.type("argument '\(name)' must be an integer, not \(v.typeName)") }
        return i
    }

    func bool(_ index: Int, _ name: String, default fallback: Bool) -> Bool {
        get(index, name)?.truthy ?? fallback
    }
}

extension JinjaBuiltins {
    /// Applies filter `name` (Jinja 3.1's built-in filters that chat templates use, and
    /// transformers' `tojson`, which is `json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=...)`).
    static func filter(_ name: String, _ v: JinjaValue, _ positional: [JinjaValue], _ keyword: [(String, JinjaValue)],
                       interpreter: JinjaInterpreter) throws -> JinjaValue {
        let a = FilterArguments(positional: positional, keyword: keyword)
        switch name {
        case "trim":
            let chars = try a.string(0, "chars").map { Set($0.unicodeScalars) }
            return .string(JinjaMethods.strip(v.text, chars: chars))
        case "length", "count":
            return .int(try length(v))
        case "default", "d":
            let fallback = a.get(0, "default_value") ?? .string("")
            let useFalsy = a.bool(1, "boolean", default: false)
            return v.isUndefined || (useFalsy && !v.truthy) ? fallback : v
        case "string":
            return .string(v.text)
        case "upper": return .string(v.text.uppercased())
        case "lower": return .string(v.text.lowercased())
        case "capitalize": return .string(JinjaMethods.capitalize(v.text))
        case "title": return .string(jinjaTitle(v.text))
        case "replace":
            guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
                throw JinjaFailure.type("replace needs 'old' and 'new' strings")
            }
            return .string(JinjaMethods.replace(v.text, old, new, count: try a.int(2, "count", default: -1)))
        case "tojson":
            if a.get(2, "separators") != nil { throw JinjaFailure.unsupported("tojson(separators=...)") }
            let indent: Int? = a.get(0, "indent").flatMap { if case .none = $0 { return nil }; return $0.integer }
            let sortKeys = a.bool(3, "sort_keys", default: false)
            return .string(try (sortKeys ? sortedKeys(v) : v).json(indent: indent))
        case "first":
            return try iterate(v).first ?? .undefined("first of an empty sequence")
        case "last":
            return try iterate(v).last ?? .undefined("last of an empty sequence")
        case "list":
            return .list(try iterate(v))
        case "reverse":
            if case .string(let s) = v { return .string(String(s.unicodeScalars.reversed().map(Character.init))) }
            return .list(try iterate(v).reversed())
        case "join":
            let separator = try a.string(0, "d", default: "") ?? ""
            var items = try iterate(v)
            if let attribute = try a.string(1, "attribute") { items = try items.map { try self.attribute(path: attribute, of: $0) } }
            return .string(items.map(\.text).joined(separator: separator))
        case "items":
            if v.isUndefined { return .list([]) }
            guard case .dict(let d) = v else { throw JinjaFailure.type("items filter needs a mapping, got \(v.typeName)") }
            return .list(d.entries.map { .tuple([.string($0.key), $0.value]) })
        case "dictsort":
            guard case .dict(let d) = v else { throw JinjaFailure.type("dictsort needs a mapping, got \(v.typeName)") }
            let byValue = try a.string(1, "by", default: "key") == "value"
            let pairs = try d.entries.sorted { x, y in
                try JinjaOperators.compare(byValue ? x.value : .string(x.key.lowercased()), byValue ? y.value : .string(y.key.lowercased())) < 0
            }
            let list = pairs.map { JinjaValue.tuple([.string($0.key), $0.value]) }
            return .list(a.bool(2, "reverse", default: false) ? list.reversed() : list)
        case "map":
            let items = try iterate(v)
            if let attribute = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = a.keyword.first(where: { $0.0 == "default" })?.1
                return .list(try items.map { item in
                    let got = try self.attribute(path: attribute.text, of: item)
                    return got.isUndefined ? (fallback ?? got) : got
                })
            }
            guard case .string(let filterName)? = positional.first else { throw JinjaFailure.type("map needs a filter name or attribute=") }
            let rest = Array(positional.dropFirst())
            return .list(try items.map { try filter(filterName, $0, rest, keyword, interpreter: interpreter) })
        case "select", "reject":
            let keep = name == "select"
            let items = try iterate(v)
            guard case .string(let testName)? = positional.first else {
                return .list(items.filter { $0.truthy == keep })
            }
            let rest = Array(positional.dropFirst())
            return .list(try items.filter { try test(testName, $0, rest, interpreter: interpreter) == keep })
        case "selectattr", "rejectattr":
            let keep = name == "selectattr"
            guard case .string(let path)? = positional.first else { throw JinjaFailure.type("\(name) needs an attribute name") }
            let items = try iterate(v)
            let testName: String? = positional.count > 1 ? positional[1].text : nil
            let rest = Array(positional.dropFirst(2))
            return .list(try items.filter { item in
                let field = try self.attribute(path: path, of: item)
                let passed = try testName.map { try test($0, field, rest, interpreter: interpreter) } ?? field.truthy
                return passed == keep
            })
        case "unique":
            var out: [JinjaValue] = []
            for item in try iterate(v) where !out.contains(where: { JinjaValue.equal($0, item) }) { out.append(item) }
            return .list(out)
        case "sort":
            let reverse = a.bool(0, "reverse", default: false)
            let attribute = try a.string(2, "attribute")
            let items = try iterate(v)
            let keys = try items.map { item in try attribute.map { try self.attribute(path: $0, of: item) } ?? item }
            let order = try Array(items.indices).sorted { x, y in
                let c = try JinjaOperators.compare(foldCase(keys[x]), foldCase(keys[y]))
                return reverse ? c > 0 : c < 0
            }
            return .list(order.map { items[$0] })
        case "sum":
            var total = a.get(1, "start") ?? .int(0)
            let attribute = try a.string(0, "attribute")
            for item in try iterate(v) { total = try JinjaOperators.add(total, try attribute.map { try self.attribute(path: $0, of: item) } ?? item) }
            return total
        case "max", "min":
            let items = try iterate(v)
            guard var best = items.first else { return .undefined("\(name) of an empty sequence") }
            for item in items.dropFirst() {
                let c = try JinjaOperators.compare(foldCase(item), foldCase(best))
                if (name == "max" && c > 0) || (name == "min" && c < 0) { best = item }
            }
            return best
        case "int":
            let fallback = a.get(0, "default") ?? .int(0)
            switch v {
            case .int, .bool: return .int(v.integer ?? 0)
            case .double(let d): return d.isFinite ? .int(Int(d)) : fallback
            case .string(let s): return Int(JinjaMethods.strip(s, chars: nil)).map { .int($0) } ?? fallback
            default: return fallback
            }
        case "float":
            let fallback = a.get(0, "default") ?? .double(0)
            if let n = v.number { return .double(n) }
            if case .string(let s) = v, let d = Double(JinjaMethods.strip(s, chars: nil)) { return .double(d) }
            return fallback
        case "abs":
            if case .int(let i) = v { return .int(abs(i)) }
            guard let n = v.number else { throw JinjaFailure.type("bad operand type for abs(): '\(v.typeName)'") }
            return .double(abs(n))
        case "round":
            guard let n = v.number else { throw JinjaFailure.type("round needs a number, got \(v.typeName)") }
            let precision = try a.int(0, "precision", default: 0)
            let scale = pow(10, Double(precision))
            let method = try a.string(1, "method", default: "common") ?? "common"
            // "common" is Python's round(): halves go to the even neighbour.
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : (method == "floor" ? .down : .toNearestOrEven)
            return .double((n * scale).rounded(rule) / scale)
        case "attr":
            // Python getattr only: a dict's keys are not attributes (unlike `value.name`).
            guard let attribute = try a.string(0, "name") else { throw JinjaFailure.type("attr needs a name") }
            switch v {
            case .dict(let d): return JinjaMethods.dictMethod(d, attribute).map { .callable($0) } ?? .undefined(attribute)
            case .undefined: return .undefined(attribute)
            default: return try self.attribute(v, attribute)
            }
        case "indent":
            return .string(indent(v.text, width: try a.int(0, "width", default: 4), first: a.bool(1, "first", default: false),
                                  blank: a.bool(2, "blank", default: false)))
        case "safe":
            return v
        case "e", "escape", "forceescape":
            return .string(v.text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&#34;")
                .replacingOccurrences(of: "'", with: "&#39;"))
        case "wordcount":
            return .int(v.text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).count)
        default:
            throw JinjaFailure.unsupported("filter '\(name)'")
        }
    }

    /// `a.b.c` on `value` (Jinja's `make_attrgetter`: integer parts index lists).
    static func attribute(path: String, of value: JinjaValue) throws -> JinjaValue {
        var v = value
        for part in path.split(separator: ".") {
            if let i = Int(part) { v = try item(v, .int(i)) } else { v = try attribute(v, String(part)) }
            if v.isUndefined { return v }
        }
        return v
    }

    /// Jinja's `title` filter: each word (split at whitespace, `-`, and opening brackets) capitalized.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s {
            if c.isWhitespace || "-({[<".contains(c) {
                out.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? c.uppercased() : c.lowercased()
                atWordStart = false
            }
        }
        return out
    }

    /// Strings compared case-insensitively, as Jinja's `sort`, `min` and `max` do by default.
    private static func foldCase(_ v: JinjaValue) -> JinjaValue {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func sortedKeys(_ v: JinjaValue, depth: Int = 0) -> JinjaValue {
        if depth > JinjaValue.maxNesting { return v }   // `json` reports the nesting
        switch v {
        case .dict(let d):
            let sorted = d.entries.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value } }
            return .dict(JinjaDict(sorted.map { ($0.key, sortedKeys($0.value, depth: depth + 1)) }))
        case .list(let a): return .list(a.map { sortedKeys($0, depth: depth + 1) })
        case .tuple(let a): return .tuple(a.map { sortedKeys($0, depth: depth + 1) })
        default: return v
        }
    }

    /// Jinja's `indent`: lines after the first (and the first with `first`) get `width` spaces; blank lines only with `blank`.
    private static func indent(_ s: String, width: Int, first: Bool, blank: Bool) -> String {
        let pad = String(repeating: " ", count: max(0, width))
        var lines = (s + "\n").split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).map(String.init)
        lines.removeLast()
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + pad)
        } else {
            rv = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty { rv += "\n" + lines.map { $0.isEmpty ? $0 : pad + $0 }.joined(separator: "\n") }
        }
        return first ? pad + rv : rv
    }
}
