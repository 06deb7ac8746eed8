import Foundation
import MnemoModels

/// A language model read through a `MemoryPlan`: tokens are run segment by segment and the model
/// remembers earlier segments through Transformer-XL recurrence, kNN memory, Unlimiformer retrieval
/// and RMT memory tokens (see `Docs/Memory.md`).
///
/// It is a `LogitsModel`, so `Scorer` and `Generator` work on it unchanged: its state is a
/// `MemoryState` (window, stores, memory tokens) instead of a plain KV cache, and its context is
/// unbounded.
/// ```swift
/// let plan = MemoryPlan(segmentLength: 256, xl: .init(memoryLength: 256))
/// let reader = try MemoryModel(model: model, plan: plan)
/// let result = try Scorer(model: reader).score(tokens: ids)     // a whole book, bounded window
/// ```
public final class MemoryModel: LogitsModel, @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init (the model is Sendable,
    // the plan and derived tables are values).
    public let model: LanguageModel
    public let plan: MemoryPlan
    /// `sigmoid(b_h)` per kNN layer (gate fusion only).
    let gates: [Int: [Float]]
    /// Initial RMT memory, `count × hiddenSize` (empty without memory tokens).
    let initialMemory: [Float]
    /// f32 key/value projections of the retrieval layers.
    let projections: [Int: AttentionProjection]

    /// Validates `plan` against `model` and loads what it names from the checkpoint (gate biases,
    /// memory-token embeddings).
    /// - Throws: `MemoryPlanError.invalidPlan` naming each bad field, `ModelError.auxiliaryTensor`.
    public init(model: LanguageModel, plan: MemoryPlan) throws {
        try plan.validate(for: ModelFacts(model: model))
        self.model = model
        self.plan = plan
        let c = model.config
        var gates: [Int: [Float]] = [:]
        if let knn = plan.knn, case let .gate(source) = knn.fusion {
            for layer in knn.layers {
                var biases: [Double]
                switch source {
                case .value(let b): biases = Array(repeating: b, count: c.headCount)
                case .perHead(let b): biases = b
                case .tensor:
                    let name = source.tensorName(layer: layer) ?? ""
                    let tensor = try model.auxiliaryTensor(name)
                    guard tensor.values.count == c.headCount else {
                        throw ModelError.auxiliaryTensor(name: name, file: model.url.path,
                                                         reason: "has \(tensor.values.count) values, expected one per head (\(c.headCount))")
                    }
                    biases = tensor.values.map(Double.init)
                }
                gates[layer] = biases.map { Float(1 / (1 + Foundation.exp(-$0))) }
            }
        }
        self.gates = gates
        if let tokens = plan.memoryTokens, tokens.count > 0 {
            // The RMT reference's `MemoryCell.memory` is [m, hidden]; a batched [1, m, hidden] copy is accepted too.
            let tensor = try model.auxiliaryTensor(tokens.tensor)
            let m = tokens.count, H = c.hiddenSize
            guard tensor.shape == [m, H] || tensor.shape == [1, m, H] else {
                throw ModelError.auxiliaryTensor(name: tokens.tensor, file: model.url.path,
                                                 reason: "shape \(tensor.shape), expected [\(m), \(H)] or [1, \(m), \(H)] (memoryTokens.count x hidden size)")
            }
            initialMemory = tensor.values
        } else {
            initialMemory = []
        }
        var projections: [Int: AttentionProjection] = [:]
        if let retrieval = plan.retrieval {
            for layer in retrieval.layerBegin..<c.layerCount { projections[layer] = model.attentionProjection(layer: layer) }
        }
        self.projections = projections
    }

    public var vocabularySize: Int { model.config.vocabularySize }
    /// Unbounded: the window slides and memory holds the rest.
    public var contextLength: Int { Int.max }
    public var endOfSequenceTokenIDs: [Int] { model.config.eosTokenIDs }

    /// A fresh state with empty memory.
    public func makeState() -> any ModelState { makeMemoryState() }

    /// A fresh, typed state.
    public func makeMemoryState() -> MemoryState { MemoryState(reader: self) }

    /// Runs `tokens` through `state`'s memory mechanisms, segment by segment.
    /// - Throws: `GenerationError.foreignState` for a state of another reader, the model's and the stores' errors.
    public func forward(_ tokens: [Int], state: any ModelState, allLogits: Bool) throws -> [Float] {
        guard let memory = state as? MemoryState, memory.reader === self else {
            throw GenerationError.foreignState(expected: "MemoryState of this MemoryModel", found: "\(type(of: state))")
        }
        return try memory.read(tokens, allLogits: allLogits)
    }
}

extension ModelFacts {
    /// The facts a plan is validated against, read from a loaded model.
    public init(model: LanguageModel) {
        let c = model.config
        self.init(layerCount: c.layerCount, headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
                  hiddenSize: c.hiddenSize, contextLength: c.contextLength,
                  availableTensors: Set(model.auxiliaryTensorNames))
    }
}
