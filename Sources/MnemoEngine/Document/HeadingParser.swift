import Foundation

/// Recognizes the heading lines novels use to mark chapters and parts.
enum HeadingParser {
    enum Level: Int { case part = 0, chapter = 1 }

    struct Match: Equatable {
        var level: Level
        /// "chapter", "letter", "book", "epilogue", "roman" or "markdown": with `number`, the key that
        /// identifies a heading repeated in a table of contents.
        var kind: String
        var number: Int?
        /// The line has words after the number ("CHAPTER 1. Loomings.").
        var hasTitleText: Bool
        /// The heading text (trimmed; a trailing "]" of an illustration caption removed).
        var text: String
    }

    static let maxHeadingLength = 100

    /// Parses a plain-text heading: `CHAPTER I.`, `Chapter 1`, `CHAPTER XLII. The ...`, `LETTER 1`,
    /// `BOOK ONE: 1805`, `PART II`, `VOLUME I`, `EPILOGUE`, `FIRST EPILOGUE: 1813 - 20`, or a bare
    /// upper-case roman numeral (`XIV`, `I.`).
    static func parsePlain(_ line: String) -> Match? {
        var s = line.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty, s.utf8.count <= maxHeadingLength else { return nil }
        if s.hasSuffix("]"), !s.contains("[") { s = String(s.dropLast()).trimmingCharacters(in: .whitespaces) }
        let words = s.split(separator: " ", omittingEmptySubsequences: true)
        guard let w0 = words.first else { return nil }
        let head = String(w0)
        let kind: (String, Level)?
        switch head {
        case "CHAPTER", "Chapter", "CHAP.", "Chap.": kind = ("chapter", .chapter)
        case "LETTER", "Letter": kind = ("letter", .chapter)
        case "BOOK", "Book", "PART", "Part", "VOLUME", "Volume": kind = ("book", .part)
        default: kind = nil
        }
        if let (name, level) = kind, words.count >= 2 {
            var index = 1
            if words[1].lowercased() == "the", words.count >= 3 { index = 2 }
            let token = words[index].trimmingCharacters(in: CharacterSet(charactersIn: ".:,;—-"))
            guard let n = number(token) else { return nil }
            let rest = words.dropFirst(index + 1).joined(separator: " ")
            // "CHAPTER 1. Loomings.", "Chapter 1 The Start", but not the sentence "Chapter two is short."
            if let r = rest.first, !(words[index].last.map { ".:,;—-".contains($0) } ?? false),
               !(r.isUppercase || r.isNumber || "“\"'([_".contains(r)) {
                return nil
            }
            return Match(level: level, kind: name, number: n, hasTitleText: rest.contains { $0.isLetter || $0.isNumber }, text: s)
        }
        // EPILOGUE / PROLOGUE, optionally preceded by an ordinal: part level (may hold chapters).
        let bare = { (w: Substring) in w.trimmingCharacters(in: CharacterSet(charactersIn: ".:")) }
        let logues: Set<String> = ["EPILOGUE", "Epilogue", "PROLOGUE", "Prologue"]
        if logues.contains(bare(w0)) {
            return Match(level: .part, kind: bare(w0).lowercased(), number: 1, hasTitleText: words.count > 1, text: s)
        }
        if words.count >= 2, logues.contains(bare(words[1])), let n = number(String(w0)), w0.first?.isUppercase == true {
            return Match(level: .part, kind: bare(words[1]).lowercased(), number: n, hasTitleText: words.count > 2, text: s)
        }
        // A bare upper-case roman numeral, optionally followed by a period.
        if words.count == 1 {
            let token = s.hasSuffix(".") ? String(s.dropLast()) : s
            if token.allSatisfy({ "IVXLCDM".contains($0) }), let n = roman(token) {
                return Match(level: .chapter, kind: "roman", number: n, hasTitleText: false, text: s)
            }
        }
        return nil
    }

    /// Parses an ATX Markdown heading of level 1 or 2 (`# Title`, `## Title ##`); returns level and title.
    static func parseMarkdown(_ line: String) -> (level: Int, title: String)? {
        guard line.hasPrefix("#") else { return nil }
        let hashes = line.prefix { $0 == "#" }.count
        guard hashes <= 2 else { return nil }
        let rest = line.dropFirst(hashes)
        guard let space = rest.first, space == " " || space == "\t" else { return nil }
        var title = rest.trimmingCharacters(in: .whitespaces)
        while title.hasSuffix("#") { title.removeLast() }
        title = title.trimmingCharacters(in: .whitespaces)
        return title.isEmpty ? nil : (hashes, title)
    }

    /// Arabic digits, a roman numeral (either case), or an English number word ("ONE", "Twenty-First").
    static func number(_ token: String) -> Int? {
        if let n = Int(token), n >= 0, n < 10_000 { return n }
        if token == token.uppercased() || token == token.lowercased(), let n = roman(token.uppercased()) { return n }
        return numberWord(token.lowercased())
    }

    private static let units = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                                "eighteen", "nineteen"]
    private static let ordinals = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                                   "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                                   "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
    private static let tens = ["twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                               "eighty": 80, "ninety": 90]

    private static func numberWord(_ w: String) -> Int? {
        if let n = units.firstIndex(of: w) ?? ordinals.firstIndex(of: w), n > 0 { return n }
        if let n = tens[w] { return n }
        if w.hasSuffix("ieth"), let n = tens[String(w.dropLast(4)) + "y"] { return n }
        let parts = w.split(separator: "-")
        if parts.count == 2, let t = tens[String(parts[0])],
           let u = units.firstIndex(of: String(parts[1])) ?? ordinals.firstIndex(of: String(parts[1])), u > 0, u < 10 {
            return t + u
        }
        return nil
    }

    /// Value of a canonical upper-case roman numeral (I ... MMMCMXCIX), or nil.
    static func roman(_ s: String) -> Int? {
        let values: [Character: Int] = ["I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000]
        guard !s.isEmpty, s.count <= 15 else { return nil }
        var total = 0
        let digits = s.compactMap { values[$0] }
        guard digits.count == s.count else { return nil }
        for (i, v) in digits.enumerated() {
            total += (i + 1 < digits.count && digits[i + 1] > v) ? -v : v
        }
        return total > 0 && total < 4000 && romanString(total) == s ? total : nil
    }

    private static func romanString(_ n: Int) -> String {
        let table: [(Int, String)] = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                                      (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        var n = n, out = ""
        for (v, s) in table { while n >= v { out += s; n -= v } }
        return out
    }
}
