import Foundation

/// How `Document.load` interprets the file.
public enum DocumentFormat: String, Sendable, Codable, CaseIterable {
    /// Markdown for `.md`, `.markdown`, `.mdown`, `.mkd`; plain text otherwise.
    case auto
    case plain
    case markdown
}

/// Options for `Document.load` (`mnemo summarize --keep-boilerplate`, `--format`).
public struct DocumentOptions: Sendable, Equatable {
    /// Keep the Project Gutenberg header and license footer in `text`.
    public var keepBoilerplate: Bool
    public var format: DocumentFormat

    public init(keepBoilerplate: Bool = false, format: DocumentFormat = .auto) {
        self.keepBoilerplate = keepBoilerplate
        self.format = format
    }
}

/// Where a document came from and what its Project Gutenberg header says.
public struct DocumentSource: Sendable, Equatable {
    public var url: URL
    /// Bytes of the file as read.
    public var byteCount: Int
    public var hadByteOrderMark: Bool
    public var lineEnding: LineEnding
    /// Format used after resolving `.auto` (`.plain` or `.markdown`).
    public var format: DocumentFormat
    /// From the Gutenberg header ("Title:", "Author:", "Language:", "[EBook #2701]"), or, for Markdown
    /// with a single `#` heading, that heading.
    public var title: String?
    public var author: String?
    public var language: String?
    public var gutenbergNumber: Int?
}

/// One chapter of a `Document`: its heading and its span of `Document.text`.
public struct Chapter: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Text before the first heading (preface, title page...), kept only when it has 100+ words.
        case frontMatter
        /// A heading found in the text and everything up to the next one.
        case chapter
        /// No heading was found: the whole text.
        case whole
    }

    /// The heading as written, whitespace collapsed, with its subtitle line ("CHAPTER I. Down the Rabbit-Hole").
    public var title: String
    /// Enclosing part ("BOOK ONE: 1805"), if any.
    public var part: String?
    public var kind: Kind
    /// Span of `Document.text` in UTF-8 bytes (`text.utf8`), heading included.
    public var utf8Range: Range<Int>
    /// The same span in Unicode scalars (`text.unicodeScalars`).
    public var scalarRange: Range<Int>
    /// The chapter's text (a copy of that span).
    public var text: String
}

/// A plain-text or Markdown document read for summarization: normalized text plus its chapters.
///
/// ```swift
/// let doc = try Document.load(from: URL(fileURLWithPath: "moby_dick_pg2701.txt"))
/// for chapter in doc.chapters { print(chapter.title, chapter.text.count) }
/// ```
/// Rules (issue #7, item 1):
/// - Input must be UTF-8 (a BOM is dropped) with LF, CRLF or CR line ends (all become LF).
/// - Project Gutenberg: everything up to the START marker line and from the END marker (or the
///   "End of the Project Gutenberg EBook" line) on is dropped, unless `keepBoilerplate`; see `GutenbergBoilerplate`.
/// - Leading blank lines and trailing whitespace are trimmed.
/// - Chapters: `CHAPTER`/`Chapter`/`LETTER`/`Letter` + number (arabic, roman, words) lines standing as
///   their own paragraph; `BOOK`/`PART`/`VOLUME`/`[FIRST] EPILOGUE`/`PROLOGUE` lines are parts when
///   chapters follow, chapters otherwise; bare roman numerals only as a sequence I, II, III...; for Markdown,
///   `#`/`##` headings. A table of contents the body repeats is skipped (see `ChapterDetector`).
/// - Chapters tile the text from the first heading (or from 0 when front matter is kept) to the end.
///
/// Tested on Alice, Frankenstein, Pride and Prejudice and Moby Dick (Fixtures/novels). War and Peace
/// (shared/data, 3.3 MB, not a fixture) was checked by hand: 365 chapters in 17 parts ("BOOK ONE: 1805"
/// ... "SECOND EPILOGUE"), ~0.5 s in a debug build; its producer credit line ("An Anonymous Volunteer,
/// and David Widger") has no "Produced by" and stays at the top of `text`.
public struct Document: Sendable, Equatable {
    /// Normalized text: no BOM, LF line ends, boilerplate removed unless kept.
    public var text: String
    public var chapters: [Chapter]
    /// True when a Gutenberg header or footer was found and dropped.
    public var boilerplateRemoved: Bool
    public var source: DocumentSource

    /// Reads and normalizes a document and finds its chapters.
    ///
    /// - Parameters:
    ///   - url: a UTF-8 plain-text or Markdown file.
    ///   - options: boilerplate and format options.
    /// - Throws: `DocumentError` when the file is missing, empty, whitespace only (possibly after
    ///   boilerplate removal), binary, UTF-16/32, or not valid UTF-8 (with the byte offset).
    /// - Complexity: O(n) in the file size.
    public static func load(from url: URL, options: DocumentOptions = DocumentOptions()) throws -> Document {
        let raw = try TextInput.read(url)
        let (bytes, hadBOM, ending) = TextInput.normalize(raw)
        let all = LineTable(bytes)
        let split = GutenbergBoilerplate.split(all)
        let meta = GutenbergBoilerplate.metadata(all, headerEnd: split.found ? split.body.lowerBound : min(all.count, 60))
        let body = options.keepBoilerplate ? 0 ..< all.count : split.body
        // Drop leading blank lines and trailing whitespace.
        var first = body.lowerBound
        while first < body.upperBound, all.isBlank(first) { first += 1 }
        var lo = first < body.upperBound ? all.range(first).lowerBound : 0
        var hi = body.isEmpty ? lo : all.range(body.upperBound - 1).upperBound
        if first >= body.upperBound { lo = 0; hi = 0 }
        while hi > lo, [0x20, 0x09, 0x0A, 0x0B, 0x0C].contains(bytes[hi - 1]) { hi -= 1 }
        guard hi > lo else {
            throw DocumentError.whitespaceOnly(file: url.path, afterBoilerplateRemoval: split.found && !options.keepBoilerplate)
        }
        let textBytes = Array(bytes[lo ..< hi])
        let text = String(decoding: textBytes, as: UTF8.self)
        var format = options.format
        if format == .auto {
            format = ["md", "markdown", "mdown", "mkd"].contains(url.pathExtension.lowercased()) ? .markdown : .plain
        }
        let lines = LineTable(textBytes)
        var title = meta.title
        if format == .markdown, title == nil {
            let h1 = (0 ..< lines.count).compactMap { HeadingParser.parseMarkdown(lines.string(lines.range($0))) }.filter { $0.level == 1 }
            if h1.count == 1 { title = h1[0].title }
        }
        var sections = ChapterDetector.sections(lines, markdown: format == .markdown)
        if sections.isEmpty { sections = [.init(title: "", part: nil, kind: .whole, startLine: 0)] }
        let source = DocumentSource(url: url, byteCount: raw.utf8.count, hadByteOrderMark: hadBOM, lineEnding: ending,
                                    format: format, title: title, author: meta.author, language: meta.language,
                                    gutenbergNumber: meta.number)
        let chapters = makeChapters(sections, lines: lines, text: textBytes, wholeTitle: title ?? url.lastPathComponent)
        return Document(text: text, chapters: chapters, boilerplateRemoved: split.found && !options.keepBoilerplate, source: source)
    }

    /// Turns line-based sections into chapters with UTF-8 and scalar ranges.
    private static func makeChapters(_ sections: [ChapterDetector.Section], lines: LineTable, text: [UInt8],
                                     wholeTitle: String) -> [Chapter] {
        let starts = sections.map { lines.range($0.startLine).lowerBound }
        let bounds = starts + [text.count]
        // Unicode scalars before each boundary: count bytes that are not UTF-8 continuation bytes.
        var scalarAt: [Int] = []
        var scalars = 0, pos = 0
        for b in bounds {
            while pos < b { if text[pos] & 0xC0 != 0x80 { scalars += 1 }; pos += 1 }
            scalarAt.append(scalars)
        }
        return sections.indices.map { k in
            let r = bounds[k] ..< bounds[k + 1]
            return Chapter(title: sections[k].kind == .whole ? wholeTitle : sections[k].title, part: sections[k].part,
                           kind: sections[k].kind, utf8Range: r, scalarRange: scalarAt[k] ..< scalarAt[k + 1],
                           text: String(decoding: text[r], as: UTF8.self))
        }
    }
}
