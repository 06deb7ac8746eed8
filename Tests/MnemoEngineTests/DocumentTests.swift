import XCTest
@testable import MnemoEngine

/// Input handling for `mnemo summarize` (issue #7, item 1): normalization, Gutenberg boilerplate,
/// chapter detection on real novels, and the error for each bad input.
///
/// Expected chapter counts were checked by hand against each novel and by independent greps on the
/// fixture files (run from Fixtures/novels):
///   grep -cE '^CHAPTER [IVXL]+\.$' alice_in_wonderland_pg11.txt                    -> 12
///   grep -cE '^Letter [0-9]+$' frankenstein_pg84.txt                               -> 4
///   grep -cE '^Chapter [0-9]+$' frankenstein_pg84.txt                              -> 24
///   grep -ciE '^chapter [IVXL]+\.?\]?$' pride_and_prejudice_pg1342.txt             -> 61
///   tr -d '\r' < moby_dick_pg2701.txt | sed -n '/^Original Transcriber/,$p' | grep -cE '^CHAPTER [0-9]+\. '  -> 135
///   (and one '^Epilogue$' line after the table of contents)
/// (The tables of contents are indented or followed by text on the same line, so these patterns only
/// count body headings.) War and Peace (shared/data, 3.3 MB: 15 books + 2 epilogues, 365 chapters by
/// `grep -cE '^CHAPTER [IVXL]+$'`) is too big for a fixture; it was checked by hand: 365 chapters, the
/// first "CHAPTER I" in part "BOOK ONE: 1805", the last "CHAPTER XII" in part "SECOND EPILOGUE".
final class DocumentTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized

    static func url(_ path: String) -> URL { fixtures.appendingPathComponent(path) }

    /// Each novel is loaded once per test run (debug builds take ~0.2-0.7 s per novel).
    static let novels: [String: Result<Document, Error>] = {
        var out: [String: Result<Document, Error>] = [:]
        for name in ["alice_in_wonderland_pg11", "frankenstein_pg84", "pride_and_prejudice_pg1342", "moby_dick_pg2701"] {
            out[name] = Result { try Document.load(from: url("novels/\(name).txt")) }
        }
        return out
    }()

    func novel(_ name: String) throws -> Document { try XCTUnwrap(Self.novels[name]).get() }

    func load(_ path: String, _ options: DocumentOptions = DocumentOptions()) throws -> Document {
        try Document.load(from: Self.url(path), options: options)
    }

    /// Chapters tile the text: contiguous UTF-8 and scalar ranges that end at the end of the text, and
    /// each `chapter.text` is exactly its span.
    func assertWellFormed(_ doc: Document, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(doc.chapters.isEmpty, file: file, line: line)
        XCTAssertFalse(doc.text.utf8.contains(0x0D), "no CR left", file: file, line: line)
        XCTAssertFalse(doc.text.hasPrefix("\u{FEFF}"), "no BOM left", file: file, line: line)
        let utf8 = Array(doc.text.utf8)
        let scalars = Array(doc.text.unicodeScalars)
        XCTAssertEqual(doc.chapters.last?.utf8Range.upperBound, utf8.count, file: file, line: line)
        XCTAssertEqual(doc.chapters.last?.scalarRange.upperBound, scalars.count, file: file, line: line)
        for (a, b) in zip(doc.chapters, doc.chapters.dropFirst()) {
            XCTAssertEqual(a.utf8Range.upperBound, b.utf8Range.lowerBound, file: file, line: line)
            XCTAssertEqual(a.scalarRange.upperBound, b.scalarRange.lowerBound, file: file, line: line)
        }
        for c in doc.chapters {
            XCTAssertEqual(c.text, String(decoding: utf8[c.utf8Range], as: UTF8.self), file: file, line: line)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[c.scalarRange])
            XCTAssertEqual(c.text, String(view), file: file, line: line)
        }
    }

    // MARK: Novels

    func testAliceCleanTwelveChapters() throws {
        let doc = try novel("alice_in_wonderland_pg11")
        assertWellFormed(doc)
        XCTAssertFalse(doc.boilerplateRemoved)
        XCTAssertFalse(doc.source.hadByteOrderMark)
        XCTAssertEqual(doc.source.lineEnding, .lf)
        XCTAssertNil(doc.source.title)
        // A clean LF file is kept as is, except for trailing whitespace.
        let raw = try String(contentsOf: Self.url("novels/alice_in_wonderland_pg11.txt"), encoding: .utf8)
        XCTAssertEqual(doc.text, String(raw.reversed().drop { $0.isWhitespace }.reversed()))
        // The title page and table of contents (~70 words) are too short to be front matter; the TOC
        // lines "CHAPTER I.     Down the Rabbit-Hole" are skipped in favour of the body headings.
        XCTAssertEqual(doc.chapters.count, 12)
        XCTAssertEqual(doc.chapters.first?.title, "CHAPTER I. Down the Rabbit-Hole")
        XCTAssertEqual(doc.chapters[6].title, "CHAPTER VII. A Mad Tea-Party")
        XCTAssertEqual(doc.chapters.last?.title, "CHAPTER XII. Alice’s Evidence")
        XCTAssertTrue(doc.chapters[0].text.hasPrefix("CHAPTER I.\nDown the Rabbit-Hole\n\n\nAlice was beginning"))
        XCTAssertTrue(doc.chapters[11].text.hasSuffix("the happy summer\ndays.\n\nTHE END"))
        XCTAssertTrue(doc.chapters.allSatisfy { $0.kind == .chapter && $0.part == nil })
    }

    func testFrankensteinLettersThenChapters() throws {
        let doc = try novel("frankenstein_pg84")
        assertWellFormed(doc)
        let expected = (1 ... 4).map { "Letter \($0)" } + (1 ... 24).map { "Chapter \($0)" }
        XCTAssertEqual(doc.chapters.map(\.title), expected)
        XCTAssertTrue(doc.chapters[0].text.hasPrefix("Letter 1\n\n_To Mrs. Saville, England._"))
        XCTAssertTrue(doc.chapters[27].text.hasSuffix("lost in darkness and distance."))
    }

    func testPrideAndPrejudicePrefaceIsFrontMatter() throws {
        let doc = try novel("pride_and_prejudice_pg1342")
        assertWellFormed(doc)
        XCTAssertEqual(doc.chapters.count, 62)
        XCTAssertEqual(doc.chapters[0].kind, .frontMatter)
        XCTAssertEqual(doc.chapters[0].title, "Front matter")
        XCTAssertTrue(doc.chapters[0].text.contains("PREFACE.\n\n[Illustration]"))
        XCTAssertTrue(doc.chapters[0].text.contains("Heading to Chapter I."), "the list of illustrations is not a chapter")
        // Chapter I is written inside an illustration caption ("Chapter I.]") and two headings lack the period.
        XCTAssertEqual(doc.chapters[1].title, "Chapter I.")
        XCTAssertEqual(doc.chapters[13].title, "CHAPTER XIII")
        XCTAssertEqual(doc.chapters[46].title, "Chapter XLVI.")
        XCTAssertEqual(doc.chapters.last?.title, "CHAPTER LXI.")
        let numbers = doc.chapters.dropFirst().map { c -> Int? in
            let token = c.title.split(separator: " ")[1].trimmingCharacters(in: CharacterSet(charactersIn: "."))
            return HeadingParser.roman(token)
        }
        XCTAssertEqual(numbers, (1 ... 61).map { $0 })
    }

    func testMobyDickBoilerplateDroppedAndChapters() throws {
        let doc = try novel("moby_dick_pg2701")
        assertWellFormed(doc)
        XCTAssertTrue(doc.boilerplateRemoved)
        XCTAssertTrue(doc.source.hadByteOrderMark)
        XCTAssertEqual(doc.source.lineEnding, .crlf)
        XCTAssertEqual(doc.source.byteCount, 1_276_201)
        XCTAssertEqual(doc.source.title, "Moby Dick; or The Whale")
        XCTAssertEqual(doc.source.author, "Herman Melville")
        XCTAssertEqual(doc.source.language, "English")
        XCTAssertEqual(doc.source.gutenbergNumber, 2701)
        // First body line after the START marker and the "Produced by" credit; last line before
        // "End of Project Gutenberg's Moby Dick".
        XCTAssertTrue(doc.text.hasPrefix("MOBY-DICK;\n\nor, THE WHALE.\n\nBy Herman Melville\n"))
        XCTAssertTrue(doc.text.hasSuffix("devious-cruising Rachel, that in her retracing search after her missing\nchildren, only found another orphan."))
        for boilerplate in ["*** START", "*** END", "Project Gutenberg-tm", "End of Project Gutenberg", "Produced by",
                            "This eBook is for the use of anyone", "Release Date:", "gutenberg.org"] {
            XCTAssertFalse(doc.text.contains(boilerplate), boilerplate)
        }
        // The only mention left is in the book's own transcriber's note ("one from Project Gutenberg’s archives").
        XCTAssertEqual(doc.text.components(separatedBy: "Project Gutenberg").count - 1, 1)
        XCTAssertTrue(doc.text.contains("project at Virginia Tech and one from Project Gutenberg’s archives."))

        XCTAssertEqual(doc.chapters.count, 137)
        XCTAssertEqual(doc.chapters[0].kind, .frontMatter)
        XCTAssertTrue(doc.chapters[0].text.contains("\n  ETYMOLOGY.\n"))
        XCTAssertTrue(doc.chapters[0].text.contains("\nEXTRACTS.\n"))
        XCTAssertEqual(doc.chapters[1].title, "CHAPTER 1. Loomings.")
        XCTAssertTrue(doc.chapters[1].text.hasPrefix("CHAPTER 1. Loomings.\n\nCall me Ishmael."))
        XCTAssertEqual(doc.chapters[56].title,
                       "CHAPTER 56. Of the Less Erroneous Pictures of Whales, and the True Pictures of Whaling Scenes.")
        XCTAssertEqual(doc.chapters[135].title, "CHAPTER 135. The Chase.—Third Day.")
        XCTAssertEqual(doc.chapters[136].title, "Epilogue")
        XCTAssertEqual(doc.chapters[136].kind, .chapter)
        XCTAssertTrue(doc.chapters[136].text.hasPrefix("Epilogue\n\n“AND I ONLY AM ESCAPED ALONE TO TELL THEE” Job."))
        for k in 1 ... 135 { XCTAssertTrue(doc.chapters[k].title.hasPrefix("CHAPTER \(k). "), doc.chapters[k].title) }
    }

    func testMobyDickKeepBoilerplate() throws {
        let doc = try load("novels/moby_dick_pg2701.txt", DocumentOptions(keepBoilerplate: true))
        assertWellFormed(doc)
        XCTAssertFalse(doc.boilerplateRemoved)
        XCTAssertEqual(doc.source.title, "Moby Dick; or The Whale")
        XCTAssertTrue(doc.text.hasPrefix("The Project Gutenberg EBook of Moby Dick; or The Whale, by Herman\nMelville\n"))
        XCTAssertTrue(doc.text.contains("\n*** START OF THIS PROJECT GUTENBERG EBOOK MOBY DICK; OR THE WHALE ***\n"))
        XCTAssertTrue(doc.text.contains("\n*** END OF THIS PROJECT GUTENBERG EBOOK MOBY DICK; OR THE WHALE ***\n"))
        XCTAssertTrue(doc.text.hasSuffix("subscribe to our email newsletter to hear about new eBooks."))
        // Same chapters; the footer ends up in the epilogue's span.
        XCTAssertEqual(doc.chapters.count, 137)
        XCTAssertEqual(doc.chapters.last?.title, "Epilogue")
    }

    // MARK: Hand-made edge cases

    func testBOMAndCRLFNormalized() throws {
        let doc = try load("documents/bom_crlf.txt")
        XCTAssertEqual(doc.text, "CHAPTER 1\n\nBOM and CRLF.\n\nCHAPTER 2\n\nSecond.")
        XCTAssertTrue(doc.source.hadByteOrderMark)
        XCTAssertEqual(doc.source.lineEnding, .crlf)
        XCTAssertEqual(doc.chapters.map(\.title), ["CHAPTER 1", "CHAPTER 2"])
        assertWellFormed(doc)
    }

    func testCROnlyLineEnds() throws {
        let doc = try load("documents/cr_only.txt")
        XCTAssertEqual(doc.source.lineEnding, .cr)
        XCTAssertEqual(doc.text, "CHAPTER I\n\nThe first line of chapter one.\nIts second line.\n\nCHAPTER II\n\nChapter two is short.")
        XCTAssertEqual(doc.chapters.map(\.title), ["CHAPTER I", "CHAPTER II"])
        XCTAssertEqual(doc.chapters[1].text, "CHAPTER II\n\nChapter two is short.")
        assertWellFormed(doc)
    }

    func testMarkdownHeadings() throws {
        let doc = try load("documents/markdown_headings.md")
        XCTAssertEqual(doc.source.format, .markdown)
        XCTAssertEqual(doc.source.title, "Field Notes", "a single # heading is the title")
        XCTAssertEqual(doc.chapters.map(\.title), ["Arrival", "Departure"], "## in a code fence is not a heading")
        XCTAssertTrue(doc.chapters[0].text.contains("## not a heading"))
        assertWellFormed(doc)
        // The same file read as plain text has no chapter markers: one whole-text chapter.
        let plain = try load("documents/markdown_headings.md", DocumentOptions(format: .plain))
        XCTAssertEqual(plain.chapters.map(\.kind), [.whole])
        XCTAssertEqual(plain.chapters[0].title, "markdown_headings.md")
        XCTAssertEqual(plain.chapters[0].text, plain.text)
    }

    func testMarkdownPartsAndChapters() throws {
        let doc = try load("documents/markdown_parts.md")
        XCTAssertEqual(doc.chapters.map(\.title), ["The Letter", "The Reply", "The Visit"])
        XCTAssertEqual(doc.chapters.map(\.part), ["Part One", "Part One", "Part Two"])
        XCTAssertTrue(doc.chapters[0].text.hasPrefix("# Part One\n\n## The Letter"))
        XCTAssertTrue(doc.chapters[2].text.hasPrefix("# Part Two\n\n## The Visit"))
        assertWellFormed(doc)
    }

    func testBooksChaptersAndEpilogue() throws {
        let doc = try load("documents/books_and_epilogue.txt")
        XCTAssertEqual(doc.chapters.map(\.title), ["CHAPTER I", "CHAPTER II", "CHAPTER I", "EPILOGUE"])
        XCTAssertEqual(doc.chapters.map(\.part), ["BOOK ONE: 1805", "BOOK ONE: 1805", "BOOK TWO: 1806", nil])
        XCTAssertTrue(doc.chapters[2].text.hasPrefix("BOOK TWO: 1806\n\nCHAPTER I\n"))
        XCTAssertEqual(doc.chapters[3].text, "EPILOGUE\n\nWhat happened afterwards.")
        assertWellFormed(doc)
    }

    func testTableOfContentsFollowedByBody() throws {
        let doc = try load("documents/toc_then_body.txt")
        XCTAssertEqual(doc.chapters.map(\.title), ["Chapter 1 The Start", "Chapter 2 The Middle", "Chapter 3 The End"])
        XCTAssertEqual(doc.chapters[0].text, "Chapter 1 The Start\n\nIt began on a Monday.\n\n")
        // The first chapter starts at the body heading, after the table of contents.
        let body = try XCTUnwrap(doc.text.range(of: "\n\n\nChapter 1 The Start\n"))
        XCTAssertEqual(doc.chapters[0].utf8Range.lowerBound, doc.text.utf8.distance(from: doc.text.startIndex, to: body.lowerBound) + 3)
        assertWellFormed(doc)
    }

    func testRomanNumeralsOnlyAsSequence() throws {
        let doc = try load("documents/roman_sequence.txt")
        XCTAssertEqual(doc.chapters.map(\.title), ["I.", "II.", "III."], "a stray 'C' line is not chapter 100")
        XCTAssertTrue(doc.chapters[1].text.contains("\n\nC\n\n"))
        let single = try load("documents/roman_single.txt")
        XCTAssertEqual(single.chapters.map(\.kind), [.whole])
    }

    func testGutenbergStartMarkerOnly() throws {
        let doc = try load("documents/start_marker_only.txt")
        XCTAssertTrue(doc.boilerplateRemoved)
        XCTAssertEqual(doc.source.title, "Half a Header")
        XCTAssertEqual(doc.text, "The body begins here.\n\nAnd ends here, with no end marker.")
    }

    func testOldSmallPrintStyle() throws {
        let doc = try load("documents/old_small_print.txt")
        XCTAssertTrue(doc.boilerplateRemoved)
        XCTAssertEqual(doc.text, "A short story told in the old style.\n\nIt has two paragraphs.")
        let kept = try load("documents/old_small_print.txt", DocumentOptions(keepBoilerplate: true))
        XCTAssertTrue(kept.text.hasSuffix("More license text that must be dropped."))
    }

    func testGutenbergHeaderOnly() throws {
        let path = Self.url("documents/gutenberg_header_only.txt").path
        XCTAssertThrowsError(try load("documents/gutenberg_header_only.txt")) { error in
            XCTAssertEqual(error as? DocumentError, .whitespaceOnly(file: path, afterBoilerplateRemoval: true))
            XCTAssertEqual("\(error)", "\(path): no text left after removing the Project Gutenberg header and footer (use --keep-boilerplate to keep them)")
        }
        let kept = try load("documents/gutenberg_header_only.txt", DocumentOptions(keepBoilerplate: true))
        XCTAssertEqual(kept.source.title, "An Empty Book A Subtitle on a Second Line")
        XCTAssertEqual(kept.source.author, "Nobody")
        XCTAssertEqual(kept.source.gutenbergNumber, 99999)
        XCTAssertTrue(kept.text.hasSuffix("*** START OF THIS PROJECT GUTENBERG EBOOK AN EMPTY BOOK ***"))
    }

    // MARK: Errors

    func assertError(_ path: String, _ expected: DocumentError, _ message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(path), file: file, line: line) { error in
            XCTAssertEqual(error as? DocumentError, expected, file: file, line: line)
            XCTAssertEqual("\(error)", message, file: file, line: line)
            XCTAssertEqual(error.localizedDescription, message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), file: file, line: line)
        }
    }

    func testErrors() {
        func p(_ name: String) -> String { Self.url(name).path }
        assertError("documents/empty.txt", .empty(file: p("documents/empty.txt")),
                    "\(p("documents/empty.txt")): the file is empty (0 bytes); expected some text")
        assertError("documents/whitespace_only.txt", .whitespaceOnly(file: p("documents/whitespace_only.txt"), afterBoilerplateRemoval: false),
                    "\(p("documents/whitespace_only.txt")): the file contains only whitespace; expected some text")
        assertError("documents/binary.bin", .binary(file: p("documents/binary.bin"), reason: "NUL byte at offset 2"),
                    "\(p("documents/binary.bin")): looks binary (NUL byte at offset 2); expected UTF-8 plain text or Markdown")
        assertError("documents/invalid_utf8.txt", .invalidUTF8(file: p("documents/invalid_utf8.txt"), offset: 10),
                    "\(p("documents/invalid_utf8.txt")): invalid UTF-8 at byte offset 10; expected UTF-8 text (convert it, e.g. with iconv -t UTF-8)")
        assertError("documents/utf16le.txt", .unsupportedEncoding(file: p("documents/utf16le.txt"), found: "UTF-16LE (byte-order mark FF FE)"),
                    "\(p("documents/utf16le.txt")): encoded as UTF-16LE (byte-order mark FF FE); expected UTF-8 (convert it, e.g. with iconv -t UTF-8)")
        assertError("documents/no_such_file.txt", .fileNotFound(file: p("documents/no_such_file.txt")),
                    "\(p("documents/no_such_file.txt")): file not found (expected a UTF-8 plain-text or Markdown document)")
        assertError("documents", .notAFile(file: p("documents")),
                    "\(p("documents")): not a regular file (expected a UTF-8 plain-text or Markdown document)")
    }

    func testControlCharacterRatioLooksBinary() throws {
        // No NUL, but 8 of 20 bytes are control characters.
        XCTAssertThrowsError(try TextInput.sniff(Array("\u{01}\u{02}\u{03}\u{04}\u{05}\u{06}\u{07}\u{08}abcdefghijkl".utf8), file: "f")) { error in
            XCTAssertEqual(error as? DocumentError, .binary(file: "f", reason: "8 control bytes in the first 20 bytes"))
        }
        XCTAssertNoThrow(try TextInput.sniff(Array("tabs\tand\u{0C}form feeds\r\n".utf8), file: "f"))
    }
}
