import Foundation

/// Finds chapter boundaries in a normalized text (see `Document` for the rules).
enum ChapterDetector {
    /// A heading found in the text: lines `line ..< endLine` hold it.
    struct Candidate {
        var line: Int
        var endLine: Int
        var title: String
        var level: HeadingParser.Level
        var key: String
        /// Non-blank lines between this heading and the next candidate.
        var contentLines = 0
    }

    /// A chapter before offsets are computed: it spans lines `startLine ..< ` the next one's start.
    struct Section {
        var title: String
        var part: String?
        var kind: Chapter.Kind
        var startLine: Int
    }

    /// Fewest words (outside heading lines) that make the text before the first heading a chapter.
    static let frontMatterMinWords = 100

    static func sections(_ lines: LineTable, markdown: Bool) -> [Section] {
        var all = markdown ? markdownCandidates(lines) : []
        if all.isEmpty { all = plainCandidates(lines) }
        countContent(&all, lines)
        let kept = removeTablesOfContents(all)
        var out: [Section] = []
        var pendingStart: Int?
        var part: String?
        for (k, c) in kept.enumerated() {
            let next = k + 1 < kept.count ? kept[k + 1] : nil
            if c.level == .part, let next, next.level == .chapter || c.contentLines == 0 {
                pendingStart = pendingStart ?? c.line
                part = c.title
                continue
            }
            if c.level == .part { part = nil }
            out.append(Section(title: c.title, part: part, kind: .chapter, startLine: pendingStart ?? c.line))
            pendingStart = nil
        }
        let firstStart = out.first?.startLine ?? lines.count
        var headingLine = [Bool](repeating: false, count: lines.count)
        for c in all { for l in c.line ..< c.endLine { headingLine[l] = true } }
        var words = 0
        for l in 0 ..< firstStart where !headingLine[l] {
            words += lines.trimmed(l).split(whereSeparator: { $0 == " " || $0 == "\t" }).count
            if words >= frontMatterMinWords { break }
        }
        if words >= frontMatterMinWords || (out.isEmpty && words > 0) {
            out.insert(Section(title: out.isEmpty ? "" : "Front matter", part: nil, kind: out.isEmpty ? .whole : .frontMatter,
                               startLine: 0), at: 0)
        }
        return out
    }

    /// Plain-text headings: a short line after a blank line (or at the start), followed by a blank line,
    /// with at most one continuation line (a subtitle under a bare "CHAPTER I.", or a wrapped long title).
    static func plainCandidates(_ lines: LineTable) -> [Candidate] {
        var found: [Candidate] = []
        let n = lines.count
        var i = 0
        while i < n {
            defer { i += 1 }
            let r = lines.trimmedRange(i)
            guard !r.isEmpty, r.count <= HeadingParser.maxHeadingLength,
                  i == 0 || lines.isBlank(i - 1) || found.last?.line == i - 1 else { continue }
            guard let m = HeadingParser.parsePlain(lines.string(r)) else { continue }
            var end = i + 1
            var title = m.text
            // A run of heading lines (a table of contents) ends each heading at its own line.
            if end < n, !lines.isBlank(end), lines.trimmedRange(end).count > HeadingParser.maxHeadingLength
                || HeadingParser.parsePlain(lines.trimmed(end)) == nil {
                let nextText = lines.trimmed(end)
                let continues = (!m.hasTitleText && m.kind != "roman") || m.text.utf8.count >= 60
                if continues, nextText.utf8.count <= 80, end + 1 >= n || lines.isBlank(end + 1) {
                    title += " " + nextText
                    end += 1
                } else if m.hasTitleText || m.kind == "roman" {
                    continue  // a sentence that happens to start like a heading
                }
            }
            let key = "\(m.kind)#\(m.number.map(String.init) ?? m.text.lowercased())"
            found.append(Candidate(line: i, endLine: end, title: collapse(title), level: m.level, key: key))
        }
        // Bare roman numerals count only without keyword headings, and only as a sequence I, II, III...
        // (restarting at I is allowed, e.g. in a new part).
        if found.contains(where: { $0.level == .chapter && !$0.key.hasPrefix("roman#") }) {
            return found.filter { !$0.key.hasPrefix("roman#") }
        }
        var expected = 1
        var keep: [Candidate] = []
        var romans = 0
        for c in found {
            guard c.key.hasPrefix("roman#") else { keep.append(c); continue }
            let v = Int(c.key.dropFirst(6)) ?? 0
            if v == expected || v == 1 { keep.append(c); romans += 1; expected = v + 1 }
        }
        return romans >= 3 ? keep : keep.filter { !$0.key.hasPrefix("roman#") }
    }

    /// ATX Markdown headings `#` and `##` outside fenced code blocks. With several `#` and some `##`, the
    /// `#` headings are parts; a single `#` is the document title; otherwise the shallowest level are chapters.
    static func markdownCandidates(_ lines: LineTable) -> [Candidate] {
        var raw: [(line: Int, level: Int, title: String)] = []
        var fence = false
        for i in 0 ..< lines.count {
            let r = lines.range(i)
            guard let f = r.first else { continue }
            let c = lines.bytes[f]
            if c == UInt8(ascii: "`") || c == UInt8(ascii: "~") {
                let s = lines.string(r)
                if s.hasPrefix("```") || s.hasPrefix("~~~") { fence.toggle() }
                continue
            }
            guard !fence, c == UInt8(ascii: "#"), let h = HeadingParser.parseMarkdown(lines.string(r)) else { continue }
            raw.append((i, h.level, h.title))
        }
        let h1 = raw.filter { $0.level == 1 }.count, h2 = raw.count - h1
        return raw.compactMap { h in
            let level: HeadingParser.Level
            if h2 == 0 { level = .chapter } else if h1 <= 1 {
                guard h.level == 2 else { return nil }
                level = .chapter
            } else { level = h.level == 1 ? .part : .chapter }
            return Candidate(line: h.line, endLine: h.line + 1, title: h.title, level: level,
                             key: "markdown#\(collapse(h.title).lowercased())")
        }
    }

    static func countContent(_ cs: inout [Candidate], _ lines: LineTable) {
        for k in cs.indices {
            let stop = k + 1 < cs.count ? cs[k + 1].line : lines.count
            var count = 0
            for l in cs[k].endLine ..< max(cs[k].endLine, stop) where !lines.isBlank(l) { count += 1 }
            cs[k].contentLines = count
        }
    }

    /// Drops tables of contents. A TOC is a run of headings with no text between them that the body
    /// repeats: from a heading with no text after it up to (excluding) the next heading with the same key
    /// (e.g. the body's "CHAPTER I."), where only the last TOC entry may be followed by text. Runs of
    /// three or more empty chapter headings that the body does not repeat are dropped too.
    static func removeTablesOfContents(_ cs: [Candidate]) -> [Candidate] {
        var toc = [Bool](repeating: false, count: cs.count)
        var i = 0
        while i < cs.count {
            if cs[i].contentLines == 0, let j = cs[(i + 1)...].firstIndex(where: { $0.key == cs[i].key }),
               j - i >= 2, cs[i ..< (j - 1)].allSatisfy({ $0.contentLines == 0 }) {
                for k in i ..< j { toc[k] = true }
                i = j
            } else {
                i += 1
            }
        }
        var k = 0
        while k < cs.count {
            var e = k
            while e < cs.count, !toc[e], cs[e].level == .chapter, cs[e].contentLines == 0 { e += 1 }
            if e - k >= 3 { for x in k ..< e { toc[x] = true } }
            k = max(e, k + 1)
        }
        return cs.indices.filter { !toc[$0] }.map { cs[$0] }
    }

    static func collapse(_ s: String) -> String {
        s.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
