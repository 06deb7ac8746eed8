import Foundation
import XCTest
@testable import MnemoModels

/// stories260K (llama2.c legacy and v1 exports) against llama2.c `run.c`'s published greedy output.
final class Llama2cTests: XCTestCase {
    /// llama2.c `tokenizer.bin`: int32 max_token_length, then per token float score, int32 length, bytes.
    private func pieces(_ url: URL) throws -> [[UInt8]] {
        let data = try Data(contentsOf: url)
        var offset = 4
        var result: [[UInt8]] = []
        func int32(_ at: Int) -> Int { Int(data[at..<at + 4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }) }
        while offset + 8 <= data.count {
            let length = int32(offset + 4)
            offset += 8
            guard length >= 0, offset + length <= data.count else { break }
            result.append(Array(data[offset..<offset + length]))
            offset += length
        }
        return result
    }

    /// run.c `decode`: strip the leading space after BOS, `<0xXX>` pieces are raw bytes.
    private func decode(_ ids: [Int], pieces: [[UInt8]]) -> String {
        var bytes: [UInt8] = []
        var previous = 1
        for id in ids {
            var piece = pieces[id]
            if previous == 1, piece.first == UInt8(ascii: " ") { piece.removeFirst() }
            if let s = String(bytes: piece, encoding: .utf8), s.hasPrefix("<0x"), s.hasSuffix(">"), s.count == 6,
               let b = UInt8(s.dropFirst(3).dropLast(), radix: 16) {
                piece = [b]
            }
            bytes += piece
            previous = id
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text `./run stories260K.bin -z tok512.bin -t 0.0` printed, from REFERENCE_stories260K.md.
    private func referenceText() throws -> String {
        let doc = try String(contentsOf: fixtureURL("models/stories260K/REFERENCE_stories260K.md"), encoding: .utf8)
        let marker = "-t 0.0\n"
        guard let start = doc.range(of: marker), let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            XCTFail("reference block not found")
            return ""
        }
        return String(doc[start.upperBound..<end.lowerBound])
    }

    /// Greedy decode from BOS like run.c: 256 forward steps, stop at BOS.
    private func greedy(_ model: LanguageModel, steps: Int) throws -> (ids: [Int], firstLogits: [[Float]]) {
        let cache = model.makeCache()
        var token = 1
        var ids: [Int] = []
        var first: [[Float]] = []
        for _ in 0..<steps {
            let logits = try model.forward([token], cache: cache, allLogits: false)
            if first.count < 4 { first.append(logits) }
            let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            if next == 1 { break }
            ids.append(next)
            token = next
        }
        return (ids, first)
    }

    struct GreedyIDs: Decodable { var first_token: Int; var steps: Int; var generated: [Int] }
    struct FirstLogits: Decodable { var tokens_fed: [Int]; var positions: [Int]; var logits: [[Float]] }

    /// Greedy decoding from BOS reproduces run.c on both exports: the published text
    /// (REFERENCE_stories260K.md), and the token ids and first three steps' logits printed by run.c
    /// itself (`greedy_ids.json`, `logits_first_steps.json`; see `Fixtures/scripts/stories260K_greedy.md`).
    func testGreedyDecodeReproducesRunC() throws {
        let pieces = try pieces(fixtureURL("models/stories260K/tok512.bin"))
        XCTAssertEqual(pieces.count, 512)
        let reference = try referenceText().trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(reference.hasPrefix("Once upon a time, there was a little girl named Lily."))
        let expected = try JSONDecoder().decode(GreedyIDs.self, from: Data(contentsOf: fixtureURL("models/stories260K/greedy_ids.json")))
        let first = try JSONDecoder().decode(FirstLogits.self, from: Data(contentsOf: fixtureURL("models/stories260K/logits_first_steps.json")))
        XCTAssertEqual(expected.first_token, 1)
        XCTAssertEqual(expected.generated.count, 256)
        for file in ["stories260K.bin", "stories260K_v1.bin"] {
            let model = try LanguageModel.load(from: fixtureURL("models/stories260K/\(file)"))
            XCTAssertEqual(model.summary.format, .llama2c)
            XCTAssertEqual(model.config.rope?.pairing, .interleaved)
            XCTAssertEqual(model.config.kvHeadCount, 4)
            XCTAssertTrue(model.config.tieWordEmbeddings)
            let (ids, logits) = try greedy(model, steps: expected.steps)
            XCTAssertEqual(ids, expected.generated, file)
            let text = decode(ids, pieces: pieces).trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(text, reference, file)
            XCTAssertEqual(Array([1] + ids.prefix(2)), first.tokens_fed)
            for (p, row) in first.logits.enumerated() {
                let (worst, maxAbs) = compare(logits[p], row, atol: 1e-4, rtol: 1e-4)
                XCTAssertLessThanOrEqual(worst, 0, "\(file) position \(p): max |Δ| = \(maxAbs)")
                print("stories260K \(file) position \(p): max |Δ| vs run.c = \(maxAbs)")
            }
        }
    }

    func testSummaryAndParameterCount() throws {
        let model = try LanguageModel.load(from: fixtureURL("models/stories260K/stories260K.bin"))
        // 260,032 fp32 weights in the file (SOURCES.md), classifier shared with the embedding.
        XCTAssertEqual(model.parameterCount, 260_032)
        let text = "\(model.summary)"
        XCTAssertTrue(text.contains("format: llama2c"), text)
        XCTAssertTrue(text.contains("rope: theta 10000.0, dims 8, pairing interleaved, scaling none"), text)
        XCTAssertTrue(text.contains("tensors F32: "), text)
    }

    func testTruncatedCheckpointThrowsTypedError() throws {
        let data = try Data(contentsOf: fixtureURL("models/stories260K/stories260K_v1.bin"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnemo-l2c-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for cut in [0, 3, 27, 255, 256, 1000, data.count / 2, data.count - 1] {
            let url = dir.appendingPathComponent("cut\(cut).bin")
            try data.prefix(cut).write(to: url)
            XCTAssertThrowsError(try LanguageModel.load(from: url), "cut at \(cut)") { error in
                XCTAssertFalse("\(error)".isEmpty)
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        let garbage = dir.appendingPathComponent("garbage.bin")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: garbage)
        XCTAssertThrowsError(try LanguageModel.load(from: garbage))
    }
}
