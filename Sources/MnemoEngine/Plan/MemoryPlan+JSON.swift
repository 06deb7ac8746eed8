// MemoryPlan+JSON: strict, hand-written Codable for the plan and its parts, and file loading.
//
// Decoding reads a PlanJSONValue and checks every key against the type's `Key` enum, so an unknown
// key ("knn.topk") or a wrong type ("knn.topK": "ten") throws a MemoryPlanError naming its path.
// Encoding writes every field (defaults included), omitting only nil values.

import Foundation

extension MemoryPlan: Codable {
    enum Key: String, CaseIterable, CodingKey { case segmentLength, xl, knn, retrieval, memoryTokens }

    /// Decodes and checks keys and types (not ranges: see `validate(for:)`).
    /// - Throws: `MemoryPlanError` naming the path of an unknown key, missing key or wrong type.
    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        let object = try PlanObjectReader<Key>(json, path: path)
        self.init(segmentLength: try object.int(.segmentLength))
        xl = try object.optional(.xl).map { try XLMemory(json: $0, path: planPath(path, "xl")) }
        knn = try object.optional(.knn).map { try KNNMemory(json: $0, path: planPath(path, "knn")) }
        retrieval = try object.optional(.retrieval).map { try RetrievalAttention(json: $0, path: planPath(path, "retrieval")) }
        memoryTokens = try object.optional(.memoryTokens).map { try MemoryTokens(json: $0, path: planPath(path, "memoryTokens")) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(segmentLength, forKey: .segmentLength)
        try container.encodeIfPresent(xl, forKey: .xl)
        try container.encodeIfPresent(knn, forKey: .knn)
        try container.encodeIfPresent(retrieval, forKey: .retrieval)
        try container.encodeIfPresent(memoryTokens, forKey: .memoryTokens)
    }

    /// Decodes a plan from JSON bytes (keys and types checked; ranges are not).
    /// - Throws: `MemoryPlanError.invalidJSON`, `.unknownKey`, `.missingKey`, `.typeMismatch`.
    public static func decode(from data: Data) throws -> MemoryPlan {
        do {
            return try JSONDecoder().decode(MemoryPlan.self, from: data)
        } catch let error as MemoryPlanError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            throw MemoryPlanError.invalidJSON(detail: context.debugDescription + underlying)
        } catch {
            throw MemoryPlanError.invalidJSON(detail: String(describing: error))
        }
    }

    /// Loads a plan from a JSON file (keys and types checked; call `validate(for:)` for ranges).
    /// - Throws: `MemoryPlanError.unreadableFile`, or `.inFile(file, error)` for a decoding error.
    public static func load(from url: URL) throws -> MemoryPlan {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MemoryPlanError.unreadableFile(file: url.path, detail: error.localizedDescription)
        }
        do {
            return try decode(from: data)
        } catch let error as MemoryPlanError {
            throw MemoryPlanError.inFile(file: url.path, error: error)
        }
    }

    /// The plan as pretty-printed JSON with sorted keys.
    /// - Throws: `EncodingError` (not expected: every field is encodable, but a non-finite gate value is not).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

extension MemoryPlan.XLMemory: Codable {
    enum Key: String, CaseIterable, CodingKey { case memoryLength }

    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        let object = try PlanObjectReader<Key>(json, path: path)
        self.init(memoryLength: try object.int(.memoryLength))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(memoryLength, forKey: .memoryLength)
    }
}

extension MemoryPlan.KNNMemory: Codable {
    enum Key: String, CaseIterable, CodingKey {
        case layers, topK, capacity, index, fusion, normalizeKeys, resetOnDocument, shardCount, positions
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        let object = try PlanObjectReader<Key>(json, path: path)
        let layersPath = planPath(path, "layers")
        let layerValues = try object.required(.layers).array(at: layersPath, expected: "an array of layer indices")
        let layers = try layerValues.enumerated().map { offset, value in try value.int(at: "\(layersPath)[\(offset)]") }
        self.init(layers: layers)
        topK = try object.optionalInt(.topK) ?? Self.defaultTopK
        capacity = try object.optionalInt(.capacity)
        index = try object.optionalString(.index) ?? Self.defaultIndex
        fusion = try object.optional(.fusion).map { try MemoryPlan.KNNFusion(json: $0, path: planPath(path, "fusion")) } ?? .jointSoftmax
        normalizeKeys = try object.optionalBool(.normalizeKeys) ?? true
        resetOnDocument = try object.optionalBool(.resetOnDocument) ?? true
        shardCount = try object.optionalInt(.shardCount)
        positions = try MemoryPlan.KeyPositions(object.optionalString(.positions), path: planPath(path, "positions"))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(layers, forKey: .layers)
        try container.encode(topK, forKey: .topK)
        try container.encodeIfPresent(capacity, forKey: .capacity)
        try container.encode(index, forKey: .index)
        try container.encode(fusion, forKey: .fusion)
        try container.encode(normalizeKeys, forKey: .normalizeKeys)
        try container.encode(resetOnDocument, forKey: .resetOnDocument)
        try container.encodeIfPresent(shardCount, forKey: .shardCount)
        try container.encode(positions.rawValue, forKey: .positions)
    }
}

/// JSON: `"jointSoftmax"`, or `{"gate": {"tensor": "name"}}` / `{"gate": {"value": -1.0}}` /
/// `{"gate": {"perHead": [-1.0, ...]}}`.
extension MemoryPlan.KNNFusion: Codable {
    enum Key: String, CaseIterable, CodingKey { case gate }
    enum GateKey: String, CaseIterable, CodingKey { case tensor, value, perHead }
    static let jointSoftmaxName = "jointSoftmax"
    static let expectedForm = "\"jointSoftmax\" or {\"gate\": {\"tensor\" | \"value\" | \"perHead\": ...}}"

    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        if case .string(Self.jointSoftmaxName) = json { self = .jointSoftmax; return }
        guard case .object = json else {
            throw MemoryPlanError.typeMismatch(path: path, expected: Self.expectedForm, found: json.found)
        }
        let object = try PlanObjectReader<Key>(json, path: path)
        let gatePath = planPath(path, "gate")
        let gate = try PlanObjectReader<GateKey>(try object.required(.gate), path: gatePath)
        let present = GateKey.allCases.filter { gate.optional($0) != nil }
        guard present.count == 1, let source = present.first else {
            let found = present.isEmpty ? "none of them" : present.map(\.rawValue).joined(separator: " and ")
            throw MemoryPlanError.typeMismatch(path: gatePath, expected: "exactly one of tensor, value, perHead", found: found)
        }
        let sourcePath = planPath(gatePath, source.rawValue)
        let value = try gate.required(source)
        switch source {
        case .tensor:
            self = .gate(.tensor(try value.string(at: sourcePath)))
        case .value:
            self = .gate(.value(try value.double(at: sourcePath)))
        case .perHead:
            let values = try value.array(at: sourcePath, expected: "an array of numbers")
            self = .gate(.perHead(try values.enumerated().map { offset, element in try element.double(at: "\(sourcePath)[\(offset)]") }))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .jointSoftmax:
            var container = encoder.singleValueContainer()
            try container.encode(Self.jointSoftmaxName)
        case let .gate(source):
            var container = encoder.container(keyedBy: Key.self)
            var gate = container.nestedContainer(keyedBy: GateKey.self, forKey: .gate)
            switch source {
            case let .tensor(name): try gate.encode(name, forKey: .tensor)
            case let .value(bias): try gate.encode(bias, forKey: .value)
            case let .perHead(biases): try gate.encode(biases, forKey: .perHead)
            }
        }
    }
}

extension MemoryPlan.RetrievalAttention: Codable {
    enum Key: String, CaseIterable, CodingKey { case layerBegin, topK, chunkOverlap, index, encoding, positions }

    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        let object = try PlanObjectReader<Key>(json, path: path)
        self.init()
        layerBegin = try object.optionalInt(.layerBegin) ?? 0
        topK = try object.optionalInt(.topK) ?? Self.defaultTopK
        chunkOverlap = try object.optionalInt(.chunkOverlap) ?? 0
        index = try object.optionalString(.index) ?? Self.defaultIndex
        if let name = try object.optionalString(.encoding) {
            guard let encoding = Encoding(rawValue: name) else {
                let allowed = Encoding.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw MemoryPlanError.typeMismatch(path: planPath(path, "encoding"), expected: allowed, found: "\"\(name)\"")
            }
            self.encoding = encoding
        }
        positions = try MemoryPlan.KeyPositions(object.optionalString(.positions), path: planPath(path, "positions"))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(layerBegin, forKey: .layerBegin)
        try container.encode(topK, forKey: .topK)
        try container.encode(chunkOverlap, forKey: .chunkOverlap)
        try container.encode(index, forKey: .index)
        try container.encode(encoding.rawValue, forKey: .encoding)
        try container.encode(positions.rawValue, forKey: .positions)
    }
}

extension MemoryPlan.MemoryTokens: Codable {
    enum Key: String, CaseIterable, CodingKey { case count, tensor }

    public init(from decoder: any Decoder) throws {
        try self.init(json: PlanJSONValue(from: decoder), path: planPath(decoder.codingPath))
    }

    init(json: PlanJSONValue, path: String) throws {
        let object = try PlanObjectReader<Key>(json, path: path)
        self.init(count: try object.int(.count), tensor: try object.optionalString(.tensor) ?? Self.defaultTensor)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(count, forKey: .count)
        try container.encode(tensor, forKey: .tensor)
    }
}

extension MemoryPlan.KeyPositions {
    /// Parses a JSON `positions` value (`nil` = the default, `.windowEdge`).
    init(_ name: String?, path: String) throws {
        guard let name else { self = .windowEdge; return }
        guard let value = Self(rawValue: name) else {
            let allowed = Self.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw MemoryPlanError.typeMismatch(path: path, expected: allowed, found: "\"\(name)\"")
        }
        self = value
    }
}
