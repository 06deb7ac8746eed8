import Foundation

/// Finds the Project Gutenberg header and footer of a normalized text.
///
/// Marker spellings follow c-w/gutenberg `gutenberg/_domain_model/text.py` (TEXT_START_MARKERS,
/// TEXT_END_MARKERS) and `gutenberg/cleanup/strip_headers.py`, reduced to the marker lines, matched
/// case-insensitively after leading asterisks and spaces:
/// start: `*** START OF THIS|THE [COPYRIGHTED] PROJECT GUTENBERG EBOOK|ETEXT ... ***`, `*END*THE SMALL PRINT`;
/// end: `*** END OF THIS|THE PROJECT GUTENBERG ...`, `End of [the|this] Project Gutenberg...` (the line PG
/// puts just before the END marker), `END OF PROJECT GUTENBERG`. Everything from the end marker on (the
/// license) is dropped; a leading "Produced by ..." credit paragraph right after START is dropped too.
enum GutenbergBoilerplate {
    struct Split {
        /// Lines of the body (all lines when no marker was found).
        var body: Range<Int>
        /// True when a START or END marker was found.
        var found: Bool
    }

    static func split(_ lines: LineTable) -> Split {
        var start: Int?
        for i in 0 ..< lines.count where isStartMarker(lines, i) { start = i; break }
        var bodyStart = 0
        if let s = start {
            bodyStart = s + 1
            // A marker wrapped over several lines ends with "***".
            let first = lines.trimmed(s)
            if first.hasPrefix("*"), !first.hasSuffix("***") {
                var k = s + 1
                while k < min(s + 3, lines.count), !lines.isBlank(k) {
                    if lines.trimmed(k).hasSuffix("***") { bodyStart = k + 1; break }
                    k += 1
                }
            }
            bodyStart = skipCredits(lines, from: bodyStart)
        }
        var end = lines.count
        for i in bodyStart ..< lines.count where isEndMarker(lines, i) { end = i; break }
        return Split(body: bodyStart ..< max(bodyStart, end), found: start != nil || end < lines.count)
    }

    /// Lowercased line with leading asterisks and spaces removed.
    private static func key(_ lines: LineTable, _ i: Int) -> String? {
        let r = lines.trimmedRange(i)
        guard r.count >= 8, r.count <= 200 else { return nil }
        let first = lines.bytes[r.lowerBound] | 0x20  // ASCII lower case; '*' is unchanged
        guard first == UInt8(ascii: "*") || first == UInt8(ascii: "s") || first == UInt8(ascii: "e") else { return nil }
        return String(lines.string(r).lowercased().drop { $0 == "*" || $0 == " " })
    }

    static func isStartMarker(_ lines: LineTable, _ i: Int) -> Bool {
        guard let k = key(lines, i) else { return false }
        if k.hasPrefix("end*the small print") || k.hasPrefix("end the small print") { return true }
        for p in ["start of this project gutenberg", "start of the project gutenberg",
                  "start of the copyrighted project gutenberg", "start of project gutenberg"] where k.hasPrefix(p) {
            return true
        }
        return false
    }

    static func isEndMarker(_ lines: LineTable, _ i: Int) -> Bool {
        guard let k = key(lines, i) else { return false }
        for p in ["end of this project gutenberg", "end of the project gutenberg", "end of project gutenberg",
                  "end of the copyrighted project gutenberg"] where k.hasPrefix(p) {
            return true
        }
        return false
    }

    /// Skips blank lines and a first paragraph that credits the producers ("Produced by ...").
    private static func skipCredits(_ lines: LineTable, from: Int) -> Int {
        var i = from
        while i < lines.count, lines.isBlank(i) { i += 1 }
        guard i < lines.count else { return from }
        let first = lines.trimmed(i).lowercased()
        let credits = ["produced by", "e-text prepared by", "this etext was prepared by", "this ebook was prepared by",
                       "this etext was produced by", "transcribed from"]
        guard credits.contains(where: { first.hasPrefix($0) }) else { return from }
        while i < lines.count, !lines.isBlank(i) { i += 1 }
        return i
    }

    /// Title, author, language and ebook number from the header lines `0 ..< end`.
    static func metadata(_ lines: LineTable, headerEnd end: Int) -> (title: String?, author: String?, language: String?, number: Int?) {
        var fields: [String: String] = [:]
        var number: Int?
        var i = 0
        while i < min(end, lines.count) {
            let line = lines.trimmed(i)
            if number == nil, let r = line.range(of: "book #", options: .caseInsensitive) {
                number = Int(line[r.upperBound...].prefix { $0.isNumber })
            }
            if let colon = line.firstIndex(of: ":"), line.distance(from: line.startIndex, to: colon) <= 10 {
                let name = line[..<colon].lowercased()
                var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                // Continuation lines of a field are indented.
                while i + 1 < end, !lines.isBlank(i + 1), lines.bytes[lines.range(i + 1).lowerBound] == 0x20 {
                    i += 1
                    value += " " + lines.trimmed(i)
                }
                if ["title", "author", "language"].contains(name), fields[name] == nil, !value.isEmpty { fields[name] = value }
            }
            i += 1
        }
        return (fields["title"], fields["author"], fields["language"], number)
    }
}
