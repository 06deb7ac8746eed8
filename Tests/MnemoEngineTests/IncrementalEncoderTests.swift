import XCTest
import MnemoTensor
import MnemoTokenizers
@testable import MnemoEngine

/// Text fed in pieces must encode to exactly the ids of the whole text (the golden is the
/// tokenizer's own whole-text `encode`, itself checked against HF `tokenizers` and `run.c`).
final class IncrementalEncoderTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures").standardized

    static func tokenizer(_ path: String) throws -> Tokenizer {
        try Tokenizer.load(from: fixtures.appendingPathComponent(path))
    }

    /// The first `bytes` UTF-8 bytes of a fixture novel (cut at a scalar boundary).
    static func excerpt(_ name: String, bytes: Int) throws -> String {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("novels/\(name)"))
        var end = min(bytes, data.count)
        while end < data.count, data[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: data[..<end], as: UTF8.self)
    }

    /// Lines starting with what must not become a cut (combining marks, spaces, tabs, format
    /// characters, blank lines) or must (CJK, emoji, digits, punctuation), with CRLF and CR.
    static let tricky = """
        First line.
        \u{301}combining acute at a line start
         leading space\n\tleading tab\n\n\n\nafter blank lines\r\nCRLF line\rCR line
        漢字で始まる行
        🙂 emoji line\n\u{200D}zero-width joiner\n\u{FEFF}BOM inside\n1234 digits\n"quoted"\n—dash
        it's a contraction line\n's\n'll start\n   \n\u{00A0}no-break space\nend
        """

    /// Seeded piece sizes in 1...maxPiece bytes, cut at scalar boundaries.
    static func pieces(_ text: String, maxPiece: Int, seed: UInt64) -> [String] {
        var rng = SplitMix64(seed: seed)
        let bytes = Array(text.utf8)
        var out: [String] = []
        var start = 0
        while start < bytes.count {
            var end = min(bytes.count, start + 1 + Int(rng.next() % UInt64(maxPiece)))
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            out.append(String(decoding: bytes[start ..< end], as: UTF8.self))
            start = end
        }
        return out
    }

    static func encodeInPieces(_ codec: any TokenCodec, _ pieces: [String], addSpecialTokens: Bool = true) throws -> [Int] {
        var encoder = IncrementalEncoder(tokenizer: codec, addSpecialTokens: addSpecialTokens)
        var ids: [Int] = []
        for piece in pieces { ids += try encoder.append(piece) }
        return ids + (try encoder.finish())
    }

    private func check(_ codec: any TokenCodec, _ text: String, _ what: String, maxPieces: [Int] = [1, 7, 64, 700, 5_000]) throws {
        for special in [true, false] {
            let whole = codec.encode(text, addSpecialTokens: special)
            for (n, maxPiece) in maxPieces.enumerated() {
                let ids = try Self.encodeInPieces(codec, Self.pieces(text, maxPiece: maxPiece, seed: UInt64(n + 1)), addSpecialTokens: special)
                XCTAssertEqual(ids.count, whole.count, "\(what), pieces ≤ \(maxPiece) bytes, special \(special)")
                if let i = (0 ..< min(ids.count, whole.count)).first(where: { ids[$0] != whole[$0] }) {
                    XCTFail("\(what), pieces ≤ \(maxPiece) bytes, special \(special): first difference at id \(i): \(ids[i]) vs \(whole[i])")
                }
            }
            // The whole text as one piece, and one piece per line.
            XCTAssertEqual(try Self.encodeInPieces(codec, [text], addSpecialTokens: special), whole, "\(what), one piece")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { $0 > 0 ? "\n" + $1 : String($1) }
            XCTAssertEqual(try Self.encodeInPieces(codec, lines, addSpecialTokens: special), whole, "\(what), one piece per line")
        }
    }

    func testLlama2cTok512MatchesWholeText() throws {
        let codec = try Self.tokenizer("models/stories260K/tok512.bin")
        try check(codec, Self.excerpt("alice_in_wonderland_pg11.txt", bytes: 12_000), "tok512 Alice")
        try check(codec, Self.tricky, "tok512 tricky")
    }

    func testSentencePieceBPEMatchesWholeText() throws {
        let codec = try Self.tokenizer("tokenizers/llama2/tokenizer.json")
        try check(codec, Self.excerpt("moby_dick_pg2701.txt", bytes: 12_000), "llama2 Moby Dick (BOM, CRLF)")
        try check(codec, Self.tricky, "llama2 tricky")
    }

    func testByteLevelBPEMatchesWholeText() throws {
        let codec = try Self.tokenizer("tokenizers/gpt2/tokenizer.json")
        try check(codec, Self.excerpt("frankenstein_pg84.txt", bytes: 12_000), "gpt2 Frankenstein")
        try check(codec, Self.tricky, "gpt2 tricky")
    }

    /// Chunks are committed while text arrives (not everything at `finish()`), and most of the text
    /// is committed by then.
    func testCommitsIncrementally() throws {
        let codec = try Self.tokenizer("models/stories260K/tok512.bin")
        let text = try Self.excerpt("alice_in_wonderland_pg11.txt", bytes: 20_000)
        var encoder = IncrementalEncoder(tokenizer: codec)
        var before = 0
        for piece in Self.pieces(text, maxPiece: 400, seed: 9) { before += try encoder.append(piece).count }
        XCTAssertGreaterThan(encoder.committedBytes, text.utf8.count * 9 / 10)
        XCTAssertLessThan(encoder.bufferedBytes, 1_000)
        let rest = try encoder.finish()
        XCTAssertEqual(before + rest.count, codec.encode(text, addSpecialTokens: true).count)
        XCTAssertLessThan(rest.count, before / 10)
        XCTAssertEqual(encoder.committedBytes, text.utf8.count)
    }

    /// A tokenizer with a SentencePiece-like dummy prefix, BOS and EOS, and a token that crosses a
    /// line start ("\nA"): the cuts before "A" fail their check and are not used.
    func testMergesAcrossLineStartsAreDetected() throws {
        let codec = MergingCodec()
        var rng = SplitMix64(seed: 5)
        var text = ""
        for i in 0 ..< 300 {
            let start = ["A", "B", "Ab", " c", "A"][Int(rng.next() % 5)]
            text += start + "line \(i)\n"
        }
        text += "A last"
        try check(codec, text, "merging codec")
        // Every line starts with "A": no cut ever holds, the text is encoded at finish().
        let allA = String(repeating: "Aaa\n", count: 200)
        var encoder = IncrementalEncoder(tokenizer: codec)
        var early: [Int] = []
        for piece in Self.pieces(allA, maxPiece: 10, seed: 3) { early += try encoder.append(piece) }
        XCTAssertEqual(early, [])
        XCTAssertEqual(try encoder.finish(), codec.encode(allA, addSpecialTokens: true))
    }

    func testInputAfterFinishThrows() throws {
        var encoder = IncrementalEncoder(tokenizer: MergingCodec())
        _ = try encoder.append("x\ny\nz")
        _ = try encoder.finish()
        XCTAssertThrowsError(try encoder.append("more")) { XCTAssertEqual($0 as? SegmentStreamError, .finished) }
        XCTAssertThrowsError(try encoder.finish()) { XCTAssertEqual($0 as? SegmentStreamError, .finished) }
    }

    func testEmptyTextGivesTheSpecialTokensOnly() throws {
        let codec = MergingCodec()
        XCTAssertEqual(try Self.encodeInPieces(codec, []), codec.encode("", addSpecialTokens: true))
        XCTAssertEqual(try Self.encodeInPieces(codec, ["", ""]), [MergingCodec.bos, MergingCodec.eos])
    }
}

/// One id per Unicode scalar, except "\n" followed by "A" (one id, crossing the line start); a
/// dummy prefix (id 32, a space) before non-empty text; BOS and EOS with special tokens.
struct MergingCodec: TokenCodec {
    static let bos = 1_000_001
    static let eos = 1_000_002
    static let newlineA = 1_000_003

    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var out = addSpecialTokens ? [Self.bos] : []
        if !text.isEmpty { out.append(32) }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\n", i + 1 < scalars.count, scalars[i + 1] == "A" {
                out.append(Self.newlineA)
                i += 2
            } else {
                out.append(Int(scalars[i].value))
                i += 1
            }
        }
        return addSpecialTokens ? out + [Self.eos] : out
    }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String { "" }
    var bosTokenID: Int? { Self.bos }
    var eosTokenIDs: [Int] { [Self.eos] }
    func makeTextStream() -> any TokenTextStream { ByteTextStream() }
}
