import Foundation
import XCTest
@testable import MnemoTokenizers

/// Seeded random texts (ASCII, Latin-1, Greek/Cyrillic, CJK, emoji, combining marks, whitespace/CR/LF
/// runs, digits) round-trip exactly through every loaded tokenizer, and streaming equals full decoding.
final class RoundTripPropertyTests: XCTestCase {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pools: [ClosedRange<UInt32>] = [0x20...0x7E, 0x20...0x7E, 0x20...0x7E, 0xA0...0xFF, 0x370...0x3FF, 0x400...0x4FF,
                                               0x4E00...0x4FFF, 0x1F300...0x1F64F, 0x300...0x36F, 0x9...0xD, 0x30...0x39, 0x2000...0x200D]

    static func randomText(_ rng: inout SplitMix64, length: Int) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<length {
            let pool = pools[Int(rng.next() % UInt64(pools.count))]
            let v = pool.lowerBound + UInt32(rng.next() % UInt64(pool.count))
            if let u = Unicode.Scalar(v) { s.append(u) }
        }
        return String(s)
    }

    func testRandomRoundTrips() throws {
        var rng = SplitMix64(state: 42)
        let tokenizers: [(String, Tokenizer)] = [
            ("gpt2.json", try Fixtures.gpt2), ("llama2.json", try Fixtures.llama2),
            ("gpt2.gguf", try Fixtures.tokenizer("tokenizers/llama.cpp-vocab/ggml-vocab-gpt-2.gguf")),
            ("llama-spm.gguf", try Fixtures.tokenizer("tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")),
            ("tok512.bin", try Fixtures.tokenizer("models/stories260K/tok512.bin")),
        ]
        for round in 0..<60 {
            let text = Self.randomText(&rng, length: Int(rng.next() % 80))
            for (name, t) in tokenizers {
                let ids = t.encode(text)
                XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < t.vocabularySize }, name)
                // Lossless: byte-level or byte fallback; the SentencePiece '▁' prefix / llama2.c dummy-prefix
                // space is removed again by the decoder (Strip) or run.c's strip-after-BOS.
                XCTAssertEqual(t.decode(ids), text, "\(name) round \(round): \(text.debugDescription) -> \(ids)")
                var stream = t.makeStreamingDecoder()
                var streamed = ""
                for id in ids { streamed += stream.append(id) }
                streamed += stream.flush()
                XCTAssertEqual(streamed, t.decode(ids), "\(name) streaming, round \(round)")
            }
        }
    }
}
