/// Cuts a text into pieces of at most `budget` tokens, at paragraph boundaries where possible, then at
/// sentence, word and finally character boundaries. Pieces concatenate back to the text exactly.
///
/// ```swift
/// let chunker = TextChunker(budget: 1000) { tokenizer.encode($0, addSpecialTokens: false).count }
/// let windows = chunker.chunks(chapter.text)     // each ≤ 1000 tokens
/// ```
/// - Complexity: O(n) token counts of the units, plus one count per packed piece.
struct TextChunker {
    let budget: Int
    let count: (String) -> Int

    init(budget: Int, count: @escaping (String) -> Int) {
        self.budget = max(1, budget)
        self.count = count
    }

    func chunks(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        if count(text) <= budget { return [text] }
        return split(text, level: 0)
    }

    /// Splits into units at `level` (0 paragraphs, 1 sentences, 2 words, 3 halves), splits oversized
    /// units further, and packs consecutive units greedily up to the budget.
    private func split(_ text: String, level: Int) -> [String] {
        let units = level < 3 ? Self.units(text, level: level) : Self.halves(text)
        if units.count <= 1, level < 3 { return split(text, level: level + 1) }
        var pieces: [(text: String, tokens: Int)] = []
        for unit in units {
            let n = count(unit)
            if n > budget, unit.count > 1 {
                pieces.append(contentsOf: split(unit, level: level + 1).map { ($0, count($0)) })
            } else {
                pieces.append((unit, n))
            }
        }
        // Packing by summed token counts (nearly additive) toward an even size `target` (so a long text
        // gives windows of similar length, not full ones and a scrap), never past the budget. Each packed
        // piece is then checked and cut finer in the rare case joining made it longer than the budget.
        let total = pieces.reduce(0) { $0 + $1.tokens }
        let target = (total + (total + budget - 1) / budget - 1) / max(1, (total + budget - 1) / budget)
        var packed: [String] = []
        var current = ""
        var currentTokens = 0
        for piece in pieces {
            let overshoot = currentTokens + piece.tokens - target
            if !current.isEmpty, currentTokens + piece.tokens > budget || (overshoot > 0 && overshoot > target - currentTokens) {
                packed.append(current)
                current = ""
                currentTokens = 0
            }
            current += piece.text
            currentTokens += piece.tokens
        }
        if !current.isEmpty { packed.append(current) }
        return packed.flatMap { chunk -> [String] in
            guard chunk.count > 1, count(chunk) > budget else { return [chunk] }
            return level < 3 ? split(chunk, level: level + 1) : hardSplit(chunk)
        }
    }

    /// Halves until every piece fits (a single character always ends the recursion).
    private func hardSplit(_ text: String) -> [String] {
        guard text.count > 1, count(text) > budget else { return [text] }
        return Self.halves(text).flatMap(hardSplit)
    }

    /// Units with their trailing separators: paragraphs end after a blank line, sentences after
    /// `.`/`!`/`?` (and closing quotes or brackets) followed by whitespace, or after a line end; words after whitespace.
    static func units(_ text: String, level: Int) -> [String] {
        var out: [String] = []
        var current = ""
        var pendingSeparator = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let isSpace = c.isWhitespace
            if pendingSeparator, !isSpace {
                out.append(current)
                current = ""
                pendingSeparator = false
            }
            current.append(c)
            switch level {
            case 0:
                if c.isNewline, i + 1 < chars.count, chars[i + 1].isNewline { pendingSeparator = true }
            case 1:
                if c.isNewline {
                    pendingSeparator = true
                } else if ".!?".contains(c) {
                    var j = i + 1
                    while j < chars.count, "\"'”’)]".contains(chars[j]) { j += 1 }
                    if j < chars.count, chars[j].isWhitespace {
                        current.append(contentsOf: chars[(i + 1) ..< j])
                        i = j - 1
                        pendingSeparator = true
                    }
                }
            default:
                if isSpace { pendingSeparator = true }
            }
            i += 1
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func halves(_ text: String) -> [String] {
        let middle = text.index(text.startIndex, offsetBy: text.count / 2)
        return [String(text[..<middle]), String(text[middle...])].filter { !$0.isEmpty }
    }
}
