import Foundation
@testable import MnemoEngine

/// Lock-protected counter shared between a producing task and the test; every access takes the
/// lock, which is why `@unchecked Sendable` is safe here.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private var sizes: [Int] = []
    func record(_ size: Int) { lock.lock(); value += 1; sizes.append(size); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    var batchSizes: [Int] { lock.lock(); defer { lock.unlock() }; return sizes }
}

final class FakeState: ModelState {
    var count = 0
    func reset() { count = 0 }
}

enum FakeModelError: Error { case contextOverflow(Int), foreignState }

/// A first-order Markov "model": the logits after token `t` are `table[t]`, whatever the position.
/// When `script` is set the logits instead put +10 on `script[p]` after position `p`
/// (EOS past its end), so greedy decoding replays the script.
final class FakeModel: LogitsModel {
    let vocabularySize: Int
    let contextLength: Int
    let endOfSequenceTokenIDs: [Int]
    let table: [[Float]]
    let script: [Int]?
    let delay: TimeInterval
    let calls = CallCounter()

    init(table: [[Float]], contextLength: Int, eos: [Int] = []) {
        self.vocabularySize = table.count
        self.contextLength = contextLength
        self.endOfSequenceTokenIDs = eos
        self.table = table
        self.script = nil
        self.delay = 0
    }

    init(script: [Int], vocabularySize: Int, eos: Int, contextLength: Int = 1024, delay: TimeInterval = 0) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.endOfSequenceTokenIDs = [eos]
        self.table = []
        self.script = script
        self.delay = delay
    }

    func makeState() -> any ModelState { FakeState() }

    func forward(_ tokens: [Int], state: any ModelState, allLogits: Bool) throws -> [Float] {
        guard let state = state as? FakeState else { throw FakeModelError.foreignState }
        guard state.count + tokens.count <= contextLength else {
            throw FakeModelError.contextOverflow(state.count + tokens.count)
        }
        calls.record(tokens.count)
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var rows: [[Float]] = []
        for (i, token) in tokens.enumerated() {
            let position = state.count + i
            if let script {
                var row = [Float](repeating: 0, count: vocabularySize)
                row[position < script.count ? script[position] : endOfSequenceTokenIDs[0]] = 10
                rows.append(row)
            } else {
                rows.append(table[token])
            }
        }
        state.count += tokens.count
        return allLogits ? rows.flatMap { $0 } : rows[rows.count - 1]
    }
}

/// Byte-level codec: ids 0...255 are bytes, 256 is BOS, 257 is EOS.
struct ByteCodec: TokenCodec {
    static let bos = 256
    static let eos = 257
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        (addSpecialTokens ? [Self.bos] : []) + text.utf8.map { Int($0) }
    }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        String(decoding: ids.filter { $0 < 256 }.map { UInt8($0) }, as: UTF8.self)
    }
    var bosTokenID: Int? { Self.bos }
    var eosTokenIDs: [Int] { [Self.eos] }
    func makeTextStream() -> any TokenTextStream { ByteTextStream() }
}

/// Emits only complete UTF-8 characters.
struct ByteTextStream: TokenTextStream {
    var pending: [UInt8] = []
    mutating func append(_ id: Int) -> String {
        guard id < 256 else { return "" }
        pending.append(UInt8(id))
        var complete = pending.count
        // Hold back a trailing incomplete sequence.
        for back in 1 ... min(3, pending.count) {
            let byte = pending[pending.count - back]
            if byte & 0xC0 == 0x80 { continue }
            let need = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if need > back { complete = pending.count - back }
            break
        }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }
    mutating func flush() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
