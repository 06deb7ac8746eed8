// MemoryPlan+Validation: every range and model-support check of a plan, all problems at once.

extension MemoryPlan {
    /// Checks the plan against a model: layer ranges, k, capacities, index descriptions, checkpoint
    /// tensors, and that no query-key distance exceeds the model's trained context length.
    ///
    /// Every problem is collected; the error lists them in field order.
    /// ```swift
    /// do { try plan.validate(for: facts) }
    /// catch let error as MemoryPlanError { print(error.problems.map(\.field)) }  // ["knn.topK", ...]
    /// ```
    /// - Parameter facts: the model's shape, context length and tensor names.
    /// - Throws: `MemoryPlanError.invalidPlan` with one `MemoryPlanProblem` per bad field.
    public func validate(for facts: ModelFacts) throws {
        var problems: [MemoryPlanProblem] = []
        func fail(_ field: String, _ value: CustomStringConvertible, _ expected: String) {
            problems.append(MemoryPlanProblem(field: field, value: String(describing: value), expected: expected))
        }
        let context = facts.contextLength
        let layers = "must be in 0..<\(facts.layerCount) (the model has \(facts.layerCount) layers)"

        let segmentIsValid = segmentLength >= 1 && segmentLength <= context
        if segmentLength < 1 {
            fail("segmentLength", segmentLength, "must be at least 1")
        } else if segmentLength > context {
            fail("segmentLength", segmentLength, "must be at most \(context), the model's context length")
        }

        let xlLength = max(xl?.memoryLength ?? 0, 0)
        if let xl {
            if xl.memoryLength < 0 {
                fail("xl.memoryLength", xl.memoryLength, "must be at least 0")
            } else if segmentIsValid, xl.memoryLength > context - segmentLength {  // no overflow: both in 0...context
                let reach = Self.sum([segmentLength, xl.memoryLength]).map(String.init) ?? "more than \(Int.max)"
                fail("xl.memoryLength", xl.memoryLength, "must be at most \(context - segmentLength): segmentLength "
                     + "(\(segmentLength)) + memoryLength reaches \(reach) tokens back, beyond "
                     + "the \(context) positions the model was trained on")
            }
        }

        if let knn {
            if knn.layers.isEmpty { fail("knn.layers", "[]", "must list at least one layer (omit knn to turn it off)") }
            var firstOffset: [Int: Int] = [:]  // layer -> its first offset: O(n) duplicate check
            for (offset, layer) in knn.layers.enumerated() {
                let first = firstOffset[layer] ?? offset
                if first == offset { firstOffset[layer] = offset }
                if !(0 ..< facts.layerCount).contains(layer) {
                    fail("knn.layers[\(offset)]", layer, layers)
                } else if first < offset {
                    fail("knn.layers[\(offset)]", layer, "duplicate of knn.layers[\(first)]")
                } else if let retrieval, (0 ..< facts.layerCount).contains(retrieval.layerBegin), layer >= retrieval.layerBegin {
                    fail("knn.layers[\(offset)]", layer, "layer also has retrieval attention (retrieval.layerBegin = "
                         + "\(retrieval.layerBegin)): a layer takes its far context from one store; use layers below \(retrieval.layerBegin)")
                }
            }
            if knn.topK < 1 { fail("knn.topK", knn.topK, "must be at least 1") }
            if let capacity = knn.capacity {
                if capacity < 1 {
                    fail("knn.capacity", capacity, "must be at least 1 (omit it for an unbounded store)")
                } else if capacity < knn.topK {
                    fail("knn.capacity", capacity, "must be at least knn.topK (\(knn.topK))")
                }
            }
            if let shardCount = knn.shardCount {
                if shardCount < 1 {
                    fail("knn.shardCount", shardCount, "must be at least 1")
                } else if let capacity = knn.capacity {
                    if capacity >= 1, shardCount > capacity { fail("knn.shardCount", shardCount, "must be at most knn.capacity (\(capacity))") }
                } else {
                    fail("knn.shardCount", shardCount, "needs knn.capacity: shards exist only to evict the oldest keys of a bounded store")
                }
            }
            if let problem = FAISSDescription.problem(in: knn.index) {
                fail("knn.index", "\"\(knn.index)\"", "not a FAISS index description: \(problem)")
            }
            if case let .gate(source) = knn.fusion {
                switch source {
                case let .tensor(name):
                    if name.isEmpty { fail("knn.fusion.gate.tensor", "\"\"", "must name a checkpoint tensor") }
                    let missing = knn.layers.filter { layer in
                        source.tensorName(layer: layer).map { !facts.availableTensors.contains($0) } ?? false
                    }
                    if !name.isEmpty, let layer = missing.first, let resolved = source.tensorName(layer: layer) {
                        let which = missing.count == 1 ? "layer \(layer)" : "layers " + missing.map(String.init).joined(separator: ", ")
                        fail("knn.fusion.gate.tensor", "\"\(resolved)\"", "no such tensor in the checkpoint (gate biases of "
                             + "\(which)); use {\"gate\": {\"value\": b}} or \"jointSoftmax\" for a model without one")
                    }
                case let .value(bias):
                    if !bias.isFinite { fail("knn.fusion.gate.value", bias, "must be a finite number") }
                case let .perHead(biases):
                    if biases.count != facts.headCount {
                        fail("knn.fusion.gate.perHead", "\(biases.count) values", "expected one per attention head: \(facts.headCount)")
                    }
                    if let offset = biases.firstIndex(where: { !$0.isFinite }) {
                        fail("knn.fusion.gate.perHead[\(offset)]", biases[offset], "must be a finite number")
                    }
                }
            }
        }

        if let retrieval {
            if !(0 ..< facts.layerCount).contains(retrieval.layerBegin) { fail("retrieval.layerBegin", retrieval.layerBegin, layers) }
            if retrieval.topK < 1 { fail("retrieval.topK", retrieval.topK, "must be at least 1") }
            if retrieval.chunkOverlap < 0 {
                fail("retrieval.chunkOverlap", retrieval.chunkOverlap, "must be at least 0")
            } else if segmentIsValid, retrieval.chunkOverlap >= segmentLength {
                fail("retrieval.chunkOverlap", retrieval.chunkOverlap, "must be less than segmentLength (\(segmentLength))")
            } else if retrieval.encoding == .exact, retrieval.chunkOverlap != 0 {
                fail("retrieval.chunkOverlap", retrieval.chunkOverlap, "must be 0 with encoding \"exact\" (each token is "
                     + "encoded once); overlap applies to encoding \"overlappingChunks\"")
            }
            if retrieval.encoding == .overlappingChunks, knn != nil || (memoryTokens?.count ?? 0) > 0 {
                fail("retrieval.encoding", "\"overlappingChunks\"", "reads each chunk on its own, without a carried window: "
                     + "it cannot be combined with knn or memoryTokens (use encoding \"exact\")")
            }
            if let problem = FAISSDescription.problem(in: retrieval.index) {
                fail("retrieval.index", "\"\(retrieval.index)\"", "not a FAISS index description: \(problem)")
            }
        }

        if let memoryTokens {
            let count = memoryTokens.count
            if count < 0 {
                fail("memoryTokens.count", count, "must be at least 0")
            } else if segmentIsValid {
                let total = Self.sum([count, count, segmentLength, xlLength])  // nil: overflows, beyond any context
                if total.map({ $0 > context }) ?? true {
                    let xlPart = xl == nil ? "" : " + xl.memoryLength (\(xlLength))"
                    fail("memoryTokens.count", count, "2 * count + segmentLength (\(segmentLength))\(xlPart) = "
                         + "\(total.map(String.init) ?? "more than \(Int.max)") must be at most \(context), the model's context length")
                }
            }
            if count > 0, !facts.availableTensors.contains(memoryTokens.tensor) {
                fail("memoryTokens.tensor", "\"\(memoryTokens.tensor)\"", "no such tensor in the checkpoint (needed for "
                     + "\(count) memory tokens; the RMT reference names it \"\(MemoryTokens.defaultTensor)\")")
            }
        }

        if !problems.isEmpty { throw MemoryPlanError.invalidPlan(problems) }
    }

    /// The sum of non-negative plan values, or nil when it overflows `Int` (plan files can hold any Int).
    private static func sum(_ values: [Int]) -> Int? {
        var total = 0
        for value in values {
            let (result, overflow) = total.addingReportingOverflow(value)
            if overflow { return nil }
            total = result
        }
        return total
    }
}
