import XCTest
import MnemoModels
import MnemoTensor
@testable import MnemoEngine

/// RMT read/write memory tokens against an independent reference: `Fixtures/scripts/make_rmt_goldens.py`
/// runs booydar/recurrent-memory-transformer's `MemoryCell` recurrence on transformers' own Llama and
/// GPT-2 classes (float64) over a document of several segments and a partial last one, with the
/// checkpoint's `memory_cell.memory`; and RMT + Transformer-XL, whose semantics the script defines
/// (see Docs/Memory.md, "RMT memory tokens").
final class RMTTests: XCTestCase {
    struct Run: Decodable {
        var memory_length: Int?
        var logits: [[Double]]
        var memory: [[Double]]
    }

    struct Golden: Decodable {
        var m: Int
        var segment_length: Int
        var tokens: [Int]
        var hidden_size: Int
        var rmt: Run
        var rmt_xl: Run
    }

    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/models").standardized
    static let names = ["rmt-llama", "rmt-gpt2"]

    static func golden(_ name: String) throws -> Golden {
        let data = try Data(contentsOf: models.appendingPathComponent(name).appendingPathComponent("rmt_golden.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    static func reader(_ name: String, _ g: Golden, xl: Bool) throws -> MemoryModel {
        let model = try LanguageModel.load(from: models.appendingPathComponent(name))
        var plan = MemoryPlan(segmentLength: g.segment_length, memoryTokens: .init(count: g.m))
        if xl { plan.xl = .init(memoryLength: try XCTUnwrap(g.rmt_xl.memory_length)) }
        return try MemoryModel(model: model, plan: plan)
    }

    /// Largest |a - b| over two equally long sequences (asserts the lengths agree).
    static func worst(_ a: [Float], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
    }

    /// Reads the golden document segment by segment (or in `chunks`) and checks every logit row and the
    /// memory after every complete segment; returns the largest |Δ logit| and |Δ memory|.
    private func check(_ name: String, xl: Bool, chunks: [Int]? = nil) throws -> (logits: Double, memory: Double) {
        let g = try Self.golden(name)
        let run = xl ? g.rmt_xl : g.rmt
        let reader = try Self.reader(name, g, xl: xl)
        let state = reader.makeMemoryState()
        let S = g.segment_length, V = reader.vocabularySize
        XCTAssertEqual(state.memory.count, g.m * g.hidden_size)
        var sizes = chunks ?? Array(repeating: S, count: g.tokens.count / S)
        let fed = sizes.reduce(0, +)
        if fed < g.tokens.count { sizes.append(g.tokens.count - fed) }
        var worstLogit = 0.0, worstMemory = 0.0
        var start = 0
        let initial = state.memory
        for size in sizes {
            let logits = try reader.forward(Array(g.tokens[start ..< start + size]), state: state, allLogits: true)
            let expected = Array(run.logits[start ..< start + size].joined())
            worstLogit = max(worstLogit, Self.worst(logits, expected, "\(name) tokens \(start)..<\(start + size)"))
            XCTAssertEqual(logits.count, size * V)
            start += size
            // The memory is written when a segment completes (its write rows); inside a segment, and after
            // the partial last one, it is the memory of the last completed segment.
            let completed = start / S
            if completed == 0 {
                XCTAssertTrue(state.memory == initial, "\(name): memory changed before the first segment completed")
            } else {
                worstMemory = max(worstMemory, Self.worst(state.memory, run.memory[completed - 1], "\(name) memory after \(start) tokens"))
            }
        }
        XCTAssertEqual(state.count, g.tokens.count)
        XCTAssertLessThanOrEqual(worstLogit, 1e-4, "\(name)\(xl ? " + XL" : ""): largest |Δ logit| vs transformers = \(worstLogit)")
        XCTAssertLessThanOrEqual(worstMemory, 1e-4, "\(name)\(xl ? " + XL" : ""): largest |Δ memory| vs transformers = \(worstMemory)")
        return (worstLogit, worstMemory)
    }

    /// Plain RMT (no XL window): per-segment logits and the memory after each segment equal the
    /// reference recurrence.
    func testRMTMatchesReferenceMemoryCell() throws {
        for name in Self.names {
            let (l, m) = try check(name, xl: false)
            print("RMT \(name): max |Δ logit| = \(l), max |Δ memory| = \(m)")
        }
    }

    /// Feeding the document in uneven pieces (a segment split over several calls, single tokens, pieces
    /// crossing segment boundaries) gives the same logits and memory as whole segments.
    func testRMTStreamedInPiecesMatchesReference() throws {
        for name in Self.names {
            let g = try Self.golden(name)
            let S = g.segment_length
            // 1, 1, S-3, then pieces of 5 and 7 that cross boundaries, the rest in one call.
            var chunks = [1, 1, S - 3, 1, 5, 7, 5]
            let sum = chunks.reduce(0, +)
            chunks.append(g.tokens.count - sum)
            _ = try check(name, xl: false, chunks: chunks)
            _ = try check(name, xl: true, chunks: chunks)
        }
    }

    /// RMT + Transformer-XL: the window holds earlier segments' token rows (never the read/write rows),
    /// trimmed to `xl.memoryLength` at each segment start, re-based to window positions.
    func testRMTWithXLMatchesReferenceComposition() throws {
        for name in Self.names {
            let (l, m) = try check(name, xl: true)
            print("RMT + XL \(name): max |Δ logit| = \(l), max |Δ memory| = \(m)")
        }
    }

    /// The composition is not vacuous: the XL window and the memory both change the logits.
    func testMemoryAndWindowMatter() throws {
        let g = try Self.golden("rmt-llama")
        let S = g.segment_length
        let later = Array(g.rmt.logits[S...].joined()), laterXL = Array(g.rmt_xl.logits[S...].joined())
        XCTAssertGreaterThan(zip(later, laterXL).map { abs($0 - $1) }.max() ?? 0, 0.1)
        // Reading with a zeroed memory tensor instead of the checkpoint's gives other logits after segment 1.
        let reader = try Self.reader("rmt-llama", g, xl: false)
        let state = reader.makeMemoryState()
        state.memory = [Float](repeating: 0, count: state.memory.count)
        let logits = try reader.forward(g.tokens, state: state, allLogits: true)
        let firstSegment = Self.worst(Array(logits[0 ..< S * reader.vocabularySize]), Array(g.rmt.logits[..<S].joined()), "segment 0")
        XCTAssertGreaterThan(firstSegment, 0.01)
    }

    /// `reset()` and `beginDocument()` restore the checkpoint's memory, so a second read repeats the first.
    func testResetRestoresCheckpointMemory() throws {
        let g = try Self.golden("rmt-gpt2")
        let reader = try Self.reader("rmt-gpt2", g, xl: true)
        let state = reader.makeMemoryState()
        let initial = state.memory
        let first = try reader.forward(g.tokens, state: state, allLogits: true)
        XCTAssertNotEqual(state.memory, initial)
        state.beginDocument()
        XCTAssertEqual(state.memory, initial)
        XCTAssertEqual(state.cache.count, 0)
        let second = try reader.forward(g.tokens, state: state, allLogits: true)
        XCTAssertEqual(first, second)
    }

    /// RMT on a model with a PEFT LoRA adapter whose file also carries `memory_cell.memory` (the reference
    /// trains both): the merged model with the adapter's memory follows the MemoryCell recurrence run on
    /// peft's unmerged `PeftModel` (`Fixtures/scripts/make_lora_goldens.py`).
    func testRMTWithLoRAAdapterAndMemoryInAdapterFile() throws {
        struct LoRAGolden: Decodable {
            struct RMT: Decodable { var m: Int; var segment_length: Int; var tokens: [Int]; var logits: [[Double]]; var memory: [[Double]] }
            var rmt: RMT
        }
        let folder = Self.models.appendingPathComponent("lora-gpt2")
        let g = try JSONDecoder().decode(LoRAGolden.self, from: Data(contentsOf: folder.appendingPathComponent("lora_golden.json"))).rmt
        let model = try LanguageModel.load(from: folder)
        let reader = try MemoryModel(model: model, plan: MemoryPlan(segmentLength: g.segment_length, memoryTokens: .init(count: g.m)))
        let state = reader.makeMemoryState()
        var worstLogit = 0.0, worstMemory = 0.0
        for (k, start) in stride(from: 0, to: g.tokens.count, by: g.segment_length).enumerated() {
            let end = min(g.tokens.count, start + g.segment_length)
            let logits = try reader.forward(Array(g.tokens[start ..< end]), state: state, allLogits: true)
            worstLogit = max(worstLogit, Self.worst(logits, Array(g.logits[start ..< end].joined()), "lora-gpt2 segment \(k)"))
            if end - start == g.segment_length {
                worstMemory = max(worstMemory, Self.worst(state.memory, g.memory[k], "lora-gpt2 memory \(k)"))
            }
        }
        print("RMT + LoRA lora-gpt2: max |Δ logit| = \(worstLogit), max |Δ memory| = \(worstMemory)")
        XCTAssertLessThanOrEqual(worstLogit, 1e-4, "RMT + LoRA: largest |Δ logit| vs peft = \(worstLogit)")
        XCTAssertLessThanOrEqual(worstMemory, 1e-4, "RMT + LoRA: largest |Δ memory| vs peft = \(worstMemory)")
    }

    /// The reference stores `memory_cell.memory` as [m, hidden]; [1, m, hidden] is accepted too, any
    /// other shape (even with the same number of floats) is a typed one-line error naming the tensor.
    func testMemoryTensorShapes() throws {
        let g = try Self.golden("rmt-llama")
        let H = g.hidden_size, m = g.m
        let base = Self.models.appendingPathComponent("rmt-llama")
        let reference = try Self.reader("rmt-llama", g, xl: false)
        let memory = try reference.model.auxiliaryTensor("memory_cell.memory")
        XCTAssertEqual(memory.shape, [m, H])
        for (shape, ok) in [([1, m, H], true), ([H, m], false), ([m * H], false), ([2 * m, H / 2], false)] {
            let dir = try TestFolder.make(self)
            try FileManager.default.copyItem(at: base.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
            var tensors = try TinySafetensors.tensors(of: Self.models.appendingPathComponent("llama-gqa/model.safetensors"))
            tensors.append(("memory_cell.memory", shape, memory.values))
            try TinySafetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
            let loaded = try LanguageModel.load(from: dir)
            let plan = MemoryPlan(segmentLength: g.segment_length, memoryTokens: .init(count: m))
            if ok {
                let reader = try MemoryModel(model: loaded, plan: plan)
                let a = try reader.forward(g.tokens, state: reader.makeState(), allLogits: true)
                let b = try reference.forward(g.tokens, state: reference.makeState(), allLogits: true)
                XCTAssertEqual(a, b, "shape \(shape)")
            } else {
                XCTAssertThrowsError(try MemoryModel(model: loaded, plan: plan), "shape \(shape)") { error in
                    XCTAssertEqual("\(error)", "\(dir.path): tensor memory_cell.memory: shape \(shape), expected [\(m), \(H)] or [1, \(m), \(H)] (memoryTokens.count x hidden size)")
                }
            }
        }
        // A plan asking for more memory tokens than the checkpoint has.
        var plan = MemoryPlan(segmentLength: g.segment_length, memoryTokens: .init(count: m + 1))
        XCTAssertThrowsError(try MemoryModel(model: reference.model, plan: plan)) { error in
            XCTAssertTrue("\(error)".contains("shape [\(m), \(H)], expected [\(m + 1), \(H)]"), "\(error)")
        }
        plan.memoryTokens = .init(count: m, tensor: "memory_cell.other")
        XCTAssertThrowsError(try MemoryModel(model: reference.model, plan: plan)) { error in
            XCTAssertTrue("\(error)".contains("memoryTokens.tensor"), "\(error)")
        }
    }
}
