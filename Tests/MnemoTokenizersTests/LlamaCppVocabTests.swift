import Foundation
import XCTest
@testable import MnemoTokenizers

/// llama.cpp's tokenizer tests (`tests/test-tokenizer-0.cpp`): every input of `<vocab>.gguf.inp`
/// must give the ids on the same line of `<vocab>.gguf.out` (no BOS). The expected ids were produced by
/// the reference Hugging Face tokenizers (llama.cpp `convert_hf_to_gguf_update.py`).
final class LlamaCppVocabTests: XCTestCase {
    /// (input, expected ids) pairs of one vocabulary's test files.
    static func cases(_ name: String) throws -> [(String, [Int])] {
        let inp = [UInt8](try Fixtures.data("tokenizers/llama.cpp-vocab/\(name).gguf.inp"))
        let out = String(decoding: try Fixtures.data("tokenizers/llama.cpp-vocab/\(name).gguf.out"), as: UTF8.self)
        let inputs = Fixtures.split(inp, on: Array("\n__ggml_vocab_test__\n".utf8)).map { String(decoding: $0, as: UTF8.self) }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(inputs.count, lines.count, "\(name): input and output counts differ")
        return zip(inputs, lines).map { text, line in
            (text, line.split(separator: " ").compactMap { Int($0) })
        }
    }

    func check(_ tokenizer: Tokenizer, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try Self.cases(name)
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        var failures = 0
        for (text, expected) in cases {
            let got = tokenizer.encode(text, addSpecialTokens: false)
            if got != expected {
                failures += 1
                XCTFail("\(name): \(text.debugDescription): expected \(expected), got \(got)", file: file, line: line)
            }
        }
        XCTAssertEqual(failures, 0)
    }

    func testLlamaSPMFromGGUF() throws {
        let t = try Tokenizer.load(from: Fixtures.url("tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))
        XCTAssertEqual(t.vocabularySize, 32000)
        XCTAssertEqual(t.bosTokenID, 1)
        XCTAssertEqual(t.eosTokenIDs, [2])
        try check(t, "ggml-vocab-llama-spm")
    }

    func testGPT2FromGGUF() throws {
        let t = try Tokenizer.load(from: Fixtures.url("tokenizers/llama.cpp-vocab/ggml-vocab-gpt-2.gguf"))
        XCTAssertEqual(t.vocabularySize, 50257)
        try check(t, "ggml-vocab-gpt-2")
    }

    func testLlamaSPMCasesThroughTokenizerJSON() throws {
        try check(try Fixtures.llama2, "ggml-vocab-llama-spm")
    }

    func testGPT2CasesThroughTokenizerJSON() throws {
        try check(try Fixtures.gpt2, "ggml-vocab-gpt-2")
    }

    /// GGUF and tokenizer.json of the same family decode the test ids back to the same text.
    func testDecodeAgreesBetweenGGUFAndJSON() throws {
        for (gguf, json, name) in [("ggml-vocab-llama-spm.gguf", try Fixtures.llama2, "ggml-vocab-llama-spm"),
                                   ("ggml-vocab-gpt-2.gguf", try Fixtures.gpt2, "ggml-vocab-gpt-2")] {
            let g = try Tokenizer.load(from: Fixtures.url("tokenizers/llama.cpp-vocab/\(gguf)"))
            for (text, ids) in try Self.cases(name) {
                XCTAssertEqual(g.decode(ids), json.decode(ids), "\(name): \(text.debugDescription)")
            }
        }
    }
}
