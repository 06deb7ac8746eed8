import Foundation
import XCTest
@testable import MnemoTokenizers

/// The two BPE merge loops (scan for short words, heap for long ones) agree on every word; long words
/// (whitespace runs, digit strings, a novel with its spaces removed) go through the heap in `encode`.
final class MergeAlgorithmTests: XCTestCase {
    func bpe(_ t: Tokenizer) throws -> BPEModel {
        guard case .bpe(let m) = t.model else { throw XCTSkip("not BPE") }
        return m
    }

    func testScanAndHeapAgree() throws {
        let text = try readUTF8Text(url: Fixtures.url("novels/alice_in_wonderland_pg11.txt"))
        let bytes = Array(text.utf8)
        for t in [try Fixtures.gpt2, try Fixtures.llama2] {
            let model = try bpe(t)
            // Words: cut at spaces; '▁'-prefixed for the Llama alphabet.
            var words: [[UInt8]] = []
            for w in bytes.split(separator: UInt8(ascii: " ")).prefix(2000) {
                words.append(model.alphabet == .byteLevel ? [UInt8(ascii: " ")] + w : Array("\u{2581}".utf8) + w)
            }
            words.append(Array(repeating: UInt8(ascii: " "), count: 300))
            words.append(Array(String(repeating: "1234567890", count: 30).utf8))
            words.append(Array(bytes.filter { $0 != UInt8(ascii: " ") && $0 != 10 }.prefix(3000)))
            var a = BPEScratch(), b = BPEScratch()
            for w in words {
                w.withUnsafeBufferPointer { p in
                    a.symbols.removeAll(); b.symbols.removeAll()
                    model.encodeWord(p, 0..<p.count, scratch: &a)   // picks scan or heap by length
                    // Force the other algorithm on a fresh copy of the initial symbols.
                    let initial = Self.initial(model, p)
                    b.symbols = initial
                    if initial.count >= BPEModel.heapThreshold { model.mergeByScan(&b) } else { model.mergeWithHeap(&b) }
                }
                XCTAssertEqual(a.symbols, b.symbols, String(decoding: w.prefix(40), as: UTF8.self))
            }
        }
    }

    /// Initial symbols via the public path: a merge table lookup-free encode of single characters.
    static func initial(_ m: BPEModel, _ p: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var s = BPEScratch()
        let empty = BPEModel(alphabet: m.alphabet, byteIDs: m.byteIDs, scalarIDs: m.scalarIDs, vocabulary: ByteMap(),
                             merges: PairTable(capacity: 1), unknownID: m.unknownID, fuseUnknown: m.fuseUnknown,
                             byteFallback: m.byteFallback, ignoreMerges: false, splitsBeforeMetaspace: false)
        empty.encodeWord(p, 0..<p.count, scratch: &s)
        return s.symbols
    }
}
