import Foundation
import XCTest
@testable import MnemoTokenizers

/// The hand-written GPT-2 / Llama 3 / Qwen2 scanners against Hugging Face `tokenizers`' own
/// `Split(Regex(pattern), "isolated")` (Oniguruma) on 149 texts (llama.cpp vocab inputs, the 83
/// multilingual inputs, edge cases: contractions in both cases, whitespace runs before text and at the
/// end, CR/LF runs, digit runs, NBSP/em/ideographic spaces, combining marks, emoji ZWJ sequences).
final class PreTokenizerSplitTests: XCTestCase {
    func testScannersMatchOniguruma() throws {
        let root = try XCTUnwrap(try Fixtures.json("tokenizers/goldens/pretokenizer_splits.json") as? [String: Any])
        let patterns = try XCTUnwrap(root["patterns"] as? [String: String])
        let splitters: [(String, RegexSplitter)] = [("gpt2", .gpt2), ("llama3", .llama3), ("qwen2", .qwen2)]
        for (name, splitter) in splitters {
            XCTAssertEqual(RegexSplitter(pattern: try XCTUnwrap(patterns[name])), splitter, "pattern text of \(name)")
        }
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 140)
        var scratch = SplitScratch()
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            let bytes = Array(text.utf8)
            for (name, splitter) in splitters {
                let expected = try XCTUnwrap(c[name] as? [[Int]]).map { $0[0]..<$0[1] }
                var got: [Range<Int>] = []
                bytes.withUnsafeBufferPointer { splitter.split($0, 0..<bytes.count, scratch: &scratch, into: &got) }
                XCTAssertEqual(got, expected, "\(name): \(text.debugDescription)")
            }
        }
    }
}
