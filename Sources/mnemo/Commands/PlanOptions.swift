import ArgumentParser
import Foundation
import Mnemo

/// The memory plan of `score`, `generate` and `stream`: a JSON file, shortcut flags, or both
/// (each flag overrides its field of the file; see `PlanFlags` and Docs/MemoryPlan.md).
struct PlanOptions: ParsableArguments {
    @Option(help: "Memory plan: a JSON file (see Docs/MemoryPlan.md); the flags below override its fields.")
    var plan: String?

    @Option(help: "Tokens per segment (plan segmentLength).")
    var segment: Int?

    @Option(help: "Transformer-XL memory: past tokens kept per layer (plan xl.memoryLength).")
    var xlMemory: Int?

    @Option(help: "kNN memory layers, e.g. \"1,3\" or \"2-5\" (plan knn.layers).")
    var knnLayers: String?

    @Option(help: "Neighbours retrieved per query and head by the kNN memory (plan knn.topK).")
    var knnTopK: Int?

    @Option(help: "Unlimiformer retrieval attention from this layer up (plan retrieval.layerBegin).")
    var retrievalFromLayer: Int?

    @Option(help: "RMT memory tokens (plan memoryTokens.count; the checkpoint must hold their embeddings).")
    var memoryTokens: Int?

    /// True when a plan file or any plan flag is given.
    var isGiven: Bool {
        plan != nil || segment != nil || xlMemory != nil || knnLayers != nil || knnTopK != nil
            || retrievalFromLayer != nil || memoryTokens != nil
    }

    /// The flags as a `PlanFlags` value.
    /// - Throws: `MemoryPlanError.invalidFlag` when `--knn-layers` does not parse.
    func flags() throws -> PlanFlags {
        try PlanFlags(segment: segment, xlMemory: xlMemory, knnLayers: knnLayers, knnTopK: knnTopK,
                      retrievalFromLayer: retrievalFromLayer, memoryTokens: memoryTokens)
    }

    /// The plan the file and flags describe, or nil when neither is given. Not validated against a
    /// model yet: `MemoryModel(model:plan:)` does that.
    /// - Throws: `MemoryPlanError` for an unreadable or malformed file, a bad flag, or flags
    ///   without `--segment` and without a file.
    func memoryPlan() throws -> MemoryPlan? {
        let flags = try flags()
        let base = try plan.map { try MemoryPlan.load(from: URL(fileURLWithPath: $0)) }
        if base == nil, flags.isEmpty { return nil }
        return try flags.plan(over: base)
    }

    /// The model the plan reads with: a `MemoryModel` over `model`, or `model` itself without a plan.
    /// - Throws: `MemoryPlanError.invalidPlan` naming each field the model cannot run, or a checkpoint error.
    static func logitsModel(_ model: LanguageModel, plan: MemoryPlan?) throws -> any LogitsModel {
        guard let plan else { return model }
        return try MemoryModel(model: model, plan: plan)
    }
}
