// PlanFlags: the CLI's shortcut flags for common plans, and their merge over a plan file.

/// The memory-plan flags of the `mnemo` CLI; each set flag overrides the plan file.
///
/// | flag | plan field |
/// |---|---|
/// | `--segment N` | `segmentLength` |
/// | `--xl-memory N` | `xl.memoryLength` |
/// | `--knn-layers 1,3` / `2-5` | `knn.layers` |
/// | `--knn-top-k K` | `knn.topK` |
/// | `--retrieval-from-layer L` | `retrieval.layerBegin` |
/// | `--memory-tokens M` | `memoryTokens.count` |
/// ```swift
/// let flags = try PlanFlags(segment: 512, knnLayers: "2-5", knnTopK: 16)
/// let plan = try flags.plan(over: MemoryPlan.load(from: url))   // or flags.plan(over: nil)
/// try plan.validate(for: facts)
/// ```
public struct PlanFlags: Sendable, Equatable {
    public var segment: Int?
    public var xlMemory: Int?
    public var knnLayers: [Int]?
    public var knnTopK: Int?
    public var retrievalFromLayer: Int?
    public var memoryTokens: Int?

    public init(segment: Int? = nil, xlMemory: Int? = nil, knnLayers: [Int]? = nil, knnTopK: Int? = nil,
                retrievalFromLayer: Int? = nil, memoryTokens: Int? = nil) {
        self.segment = segment
        self.xlMemory = xlMemory
        self.knnLayers = knnLayers
        self.knnTopK = knnTopK
        self.retrievalFromLayer = retrievalFromLayer
        self.memoryTokens = memoryTokens
    }

    /// Flags with `--knn-layers` given as text ("1,3", "2-5", "0,4-6").
    /// - Throws: `MemoryPlanError.invalidFlag` naming `--knn-layers` if the list does not parse.
    public init(segment: Int? = nil, xlMemory: Int? = nil, knnLayers: String?, knnTopK: Int? = nil,
                retrievalFromLayer: Int? = nil, memoryTokens: Int? = nil) throws {
        self.init(segment: segment, xlMemory: xlMemory, knnLayers: try knnLayers.map { try Self.parseLayerList($0) },
                  knnTopK: knnTopK, retrievalFromLayer: retrievalFromLayer, memoryTokens: memoryTokens)
    }

    /// True when no flag is set.
    public var isEmpty: Bool { self == PlanFlags() }

    /// Parses a layer list: comma-separated indices and inclusive ranges, e.g. "1,3" or "2-5" or "0,4-6".
    /// Order is kept; duplicates and ranges are checked by `MemoryPlan.validate(for:)`.
    /// - Parameter flag: the flag named in errors.
    /// - Throws: `MemoryPlanError.invalidFlag` for an empty item, a non-number, a reversed range, a range
    ///   ending above `maxLayerIndex`, or more than `maxLayerIndex + 1` layers in all.
    public static func parseLayerList(_ text: String, flag: String = "--knn-layers") throws -> [Int] {
        let form = "expected layer indices like \"1,3\" or \"2-5\""
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MemoryPlanError.invalidFlag(flag: flag, value: text, expected: "empty list: \(form)")
        }
        var layers: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = item.trimmingCharacters(in: .whitespaces)
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1 ... 2).contains(bounds.count), bounds.allSatisfy({ isIndex($0) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]) else {
                let what = item.isEmpty ? "empty item" : "'\(item)' is not a layer index or range"
                throw MemoryPlanError.invalidFlag(flag: flag, value: text, expected: "\(what): \(form)")
            }
            guard low <= high else {
                throw MemoryPlanError.invalidFlag(flag: flag, value: text,
                                                  expected: "range '\(item)' is reversed: write it low-high (\(high)-\(low))")
            }
            // Checked before expanding: "0-999999999" would otherwise materialise 10^9 Ints.
            guard bounds.count == 1 || high <= maxLayerIndex else {
                throw MemoryPlanError.invalidFlag(flag: flag, value: text,
                                                  expected: "range '\(item)' ends above \(maxLayerIndex), the largest layer index accepted")
            }
            guard layers.count + (high - low + 1) <= maxLayerIndex + 1 else {
                throw MemoryPlanError.invalidFlag(flag: flag, value: text,
                                                  expected: "lists more than \(maxLayerIndex + 1) layers, so some layer repeats")
            }
            layers.append(contentsOf: low ... high)
        }
        return layers
    }

    /// The largest layer index a `--knn-layers` range may reach (no released model is deeper).
    public static let maxLayerIndex = 4096

    private static func isIndex(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 9 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The plan these flags describe, over `base` (a plan file) when given: each set flag replaces its
    /// field, and a flag for a mechanism the base lacks turns it on with default settings.
    /// The result is not validated: call `validate(for:)`.
    /// - Throws: `MemoryPlanError.missingFlag` when there is no base and no `--segment`;
    ///   `.invalidFlag` when `--knn-top-k` is given without `--knn-layers` and the base has no kNN memory.
    public func plan(over base: MemoryPlan?) throws -> MemoryPlan {
        guard let segmentLength = segment ?? base?.segmentLength else {
            throw MemoryPlanError.missingFlag(flag: "--segment", expected: "required when no plan file is given")
        }
        var plan = base ?? MemoryPlan(segmentLength: segmentLength)
        plan.segmentLength = segmentLength
        if let xlMemory {
            plan.xl = MemoryPlan.XLMemory(memoryLength: xlMemory)
        }
        if let knnLayers {
            if plan.knn == nil { plan.knn = MemoryPlan.KNNMemory(layers: knnLayers) }
            plan.knn?.layers = knnLayers
        }
        if let knnTopK {
            guard plan.knn != nil else {
                throw MemoryPlanError.invalidFlag(flag: "--knn-top-k", value: String(knnTopK),
                                                  expected: "needs --knn-layers (or a plan file with knn) to say which layers")
            }
            plan.knn?.topK = knnTopK
        }
        if let retrievalFromLayer {
            if plan.retrieval == nil { plan.retrieval = MemoryPlan.RetrievalAttention() }
            plan.retrieval?.layerBegin = retrievalFromLayer
        }
        if let memoryTokens {
            if plan.memoryTokens == nil { plan.memoryTokens = MemoryPlan.MemoryTokens(count: memoryTokens) }
            plan.memoryTokens?.count = memoryTokens
        }
        return plan
    }
}

extension MemoryPlan {
    /// A plan from CLI flags alone (`--segment` required). Same as `flags.plan(over: nil)`.
    /// - Throws: `MemoryPlanError.missingFlag` or `.invalidFlag`.
    public init(flags: PlanFlags) throws {
        self = try flags.plan(over: nil)
    }
}
