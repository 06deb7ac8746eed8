// MemoryPlanTests: JSON round trip and strictness, example plans, every validation message, CLI flags.

import Foundation
import XCTest
@testable import MnemoEngine

final class MemoryPlanTests: XCTestCase {
    typealias Plan = MemoryPlan

    static let plansFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fixtures/plans").standardized
    static let gateTensor = "model.layers.{layer}.self_attn.knn_gate_bias"
    /// A 12-layer, 8-head model with a 2048-token context, a gate bias on layer 9 and RMT memory.
    static let facts = ModelFacts(layerCount: 12, headCount: 8, kvHeadCount: 4, headDim: 64, hiddenSize: 512,
                                  contextLength: 2048,
                                  availableTensors: ["model.layers.9.self_attn.knn_gate_bias", "memory_cell.memory"])

    static let fullPlan = Plan(
        segmentLength: 256, xl: .init(memoryLength: 512),
        knn: .init(layers: [3, 9], topK: 16, capacity: 4096, index: "IVF64,PQ16", fusion: .gate(.value(-1.5)),
                   normalizeKeys: false, resetOnDocument: false, shardCount: 4, positions: .trueDistance),
        retrieval: .init(layerBegin: 10, topK: 128, chunkOverlap: 0, index: "HNSW32", encoding: .exact, positions: .windowEdge),
        memoryTokens: .init(count: 4, tensor: "memory_cell.memory"))

    func decode(_ json: String) throws -> Plan { try Plan.decode(from: Data(json.utf8)) }

    /// Asserts decoding `json` throws a MemoryPlanError whose description is exactly `message`.
    func assertDecodeError(_ json: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(json), file: file, line: line) { error in
            XCTAssertEqual("\(error)", message, file: file, line: line)
        }
    }

    /// Asserts `plan` fails validation with exactly one problem, on `field`, whose message contains `text`.
    func assertProblem(_ plan: Plan, field: String, value: String? = nil, contains text: String,
                       facts: ModelFacts = MemoryPlanTests.facts, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try plan.validate(for: facts), file: file, line: line) { error in
            guard let error = error as? MemoryPlanError else { return XCTFail("not a MemoryPlanError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.problems.map(\.field), [field], "\(error)", file: file, line: line)
            if let value { XCTAssertEqual(error.problems.first?.value, value, file: file, line: line) }
            let description = "\(error)"
            XCTAssertTrue(description.hasPrefix("invalid memory plan: \(field) = "), description, file: file, line: line)
            XCTAssertTrue(description.contains(text), "\(description) lacks '\(text)'", file: file, line: line)
            XCTAssertFalse(description.contains("\n"), "one problem is one line: \(description)", file: file, line: line)
        }
    }

    // MARK: JSON round trip and defaults

    func testRoundTripEveryFusionForm() throws {
        for fusion: Plan.KNNFusion in [.jointSoftmax, .gate(.value(-1.5)), .gate(.tensor(Self.gateTensor)),
                                       .gate(.perHead([0, -1, 2.5, 3, 4, 5, 6, 7]))] {
            var plan = Self.fullPlan
            plan.knn?.fusion = fusion
            XCTAssertEqual(try Plan.decode(from: plan.jsonData()), plan)
        }
        let minimal = Plan(segmentLength: 64)
        XCTAssertEqual(try Plan.decode(from: minimal.jsonData()), minimal)
        XCTAssertEqual(String(decoding: try minimal.jsonData(), as: UTF8.self), "{\n  \"segmentLength\" : 64\n}")
    }

    func testEncodedKeysAreTheFieldNames() throws {
        var plan = Self.fullPlan
        plan.knn?.capacity = nil
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: plan.jsonData()) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["segmentLength", "xl", "knn", "retrieval", "memoryTokens"])
        XCTAssertEqual(Set(try XCTUnwrap(object["xl"] as? [String: Any]).keys), ["memoryLength"])
        XCTAssertEqual(Set(try XCTUnwrap(object["knn"] as? [String: Any]).keys),
                       ["layers", "topK", "index", "fusion", "normalizeKeys", "resetOnDocument", "shardCount", "positions"])
        XCTAssertEqual(Set(try XCTUnwrap(object["retrieval"] as? [String: Any]).keys),
                       ["layerBegin", "topK", "chunkOverlap", "index", "encoding", "positions"])
        XCTAssertEqual(try XCTUnwrap(object["memoryTokens"] as? [String: Any])["tensor"] as? String, "memory_cell.memory")
        let fusion = try XCTUnwrap((object["knn"] as? [String: Any])?["fusion"] as? [String: Any])
        XCTAssertEqual((fusion["gate"] as? [String: Any])?["value"] as? Double, -1.5)
    }

    func testOmittedFieldsTakeTheirDefaultsAndNullTurnsAMechanismOff() throws {
        let plan = try decode(#"{"segmentLength": 128, "xl": null, "knn": {"layers": [2], "capacity": null},"# +
                              #" "retrieval": {}, "memoryTokens": {"count": 3}}"#)
        XCTAssertNil(plan.xl)
        XCTAssertEqual(plan.knn, Plan.KNNMemory(layers: [2], topK: 32, capacity: nil, index: "Flat", fusion: .jointSoftmax,
                                                normalizeKeys: true, resetOnDocument: true, shardCount: nil))
        XCTAssertEqual(plan.retrieval, Plan.RetrievalAttention(layerBegin: 0, topK: 64, chunkOverlap: 0, index: "Flat", encoding: .exact))
        XCTAssertEqual(plan.memoryTokens, Plan.MemoryTokens(count: 3, tensor: "memory_cell.memory"))
        XCTAssertEqual(try decode(#"{"segmentLength": 8, "knn": {"layers": [1], "fusion": "jointSoftmax"}}"#).knn?.fusion, .jointSoftmax)
    }

    // MARK: Example files

    func testExamplePlansLoadAndValidate() throws {
        let expected: [String: Plan] = [
            "xl-only.json": Plan(segmentLength: 512, xl: .init(memoryLength: 1024)),
            "xl-knn.json": Plan(segmentLength: 512, xl: .init(memoryLength: 512),
                                knn: .init(layers: [9], topK: 32, capacity: 65536, fusion: .gate(.tensor(Self.gateTensor)), shardCount: 4)),
            "retrieval.json": Plan(segmentLength: 1024, retrieval: .init(layerBegin: 0, topK: 1024)),
            "unlimiformer-chunks.json": Plan(segmentLength: 1024, xl: .init(memoryLength: 512),
                                             retrieval: .init(layerBegin: 6, topK: 256, chunkOverlap: 512, index: "HNSW32,Flat",
                                                              encoding: .overlappingChunks)),
            "rmt.json": Plan(segmentLength: 512, memoryTokens: .init(count: 10)),
        ]
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.plansFolder.path).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(Set(files), Set(expected.keys), "every example plan is checked here")
        for (name, plan) in expected {
            let loaded = try Plan.load(from: Self.plansFolder.appendingPathComponent(name))
            XCTAssertEqual(loaded, plan, name)
            XCTAssertNoThrow(try loaded.validate(for: Self.facts), name)
        }
    }

    func testLoadErrorsNameTheFile() throws {
        let missing = Self.plansFolder.appendingPathComponent("no-such-plan.json")
        XCTAssertThrowsError(try Plan.load(from: missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(missing.path): cannot read memory plan"), "\(error)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("MemoryPlanTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }  // cleanup only
        let bad = folder.appendingPathComponent("bad.json")
        try Data(#"{"segmentLength": 64, "knn": {"layers": [1], "topk": 8}}"#.utf8).write(to: bad)
        XCTAssertThrowsError(try Plan.load(from: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad.path): knn.topk: unknown key (did you mean topK?)")
        }
        let notJSON = folder.appendingPathComponent("text.json")
        try Data("segmentLength = 64".utf8).write(to: notJSON)
        XCTAssertThrowsError(try Plan.load(from: notJSON)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(notJSON.path): not valid JSON"), "\(error)")
        }
    }

    // MARK: Unknown keys, missing keys, wrong types

    func testUnknownKeysNameTheirPath() {
        assertDecodeError(#"{"segmentLength": 64, "knn": {"layers": [1], "topk": 8}}"#, "knn.topk: unknown key (did you mean topK?)")
        assertDecodeError(#"{"segmentLenght": 64}"#, "segmentLenght: unknown key (did you mean segmentLength?)")
        assertDecodeError(#"{"segmentLength": 64, "xl": {"memory_length": 8}}"#,
                          "xl.memory_length: unknown key (did you mean memoryLength?)")
        assertDecodeError(#"{"segmentLength": 64, "knn": {"layers": [1], "fusion": {"gate": {"tensors": "b"}}}}"#,
                          "knn.fusion.gate.tensors: unknown key (did you mean tensor?)")
        assertDecodeError(#"{"segmentLength": 64, "retrieval": {"banana": 1}}"#, "retrieval.banana: unknown key")
        assertDecodeError(#"{"segmentLength": 64, "selfExtend": {}}"#, "selfExtend: unknown key")
    }

    func testMissingKeysNameTheirPath() {
        assertDecodeError(#"{"xl": {"memoryLength": 8}}"#, "segmentLength: required key is missing")
        assertDecodeError(#"{"segmentLength": 64, "xl": {}}"#, "xl.memoryLength: required key is missing")
        assertDecodeError(#"{"segmentLength": 64, "knn": {"topK": 8}}"#, "knn.layers: required key is missing")
        assertDecodeError(#"{"segmentLength": 64, "memoryTokens": {"tensor": "m"}}"#, "memoryTokens.count: required key is missing")
    }

    func testWrongTypesNameTheirPathAndValue() {
        let knn = #"{"segmentLength": 64, "knn": "#
        assertDecodeError(knn + #"{"layers": [1], "topK": "ten"}}"#, #"knn.topK: expected an integer, found "ten""#)
        assertDecodeError(knn + #"{"layers": [1, "x"]}}"#, #"knn.layers[1]: expected an integer, found "x""#)
        assertDecodeError(knn + #"{"layers": 3}}"#, "knn.layers: expected an array of layer indices, found 3")
        assertDecodeError(knn + #"{"layers": [1], "normalizeKeys": "yes"}}"#, #"knn.normalizeKeys: expected true or false, found "yes""#)
        assertDecodeError(knn + #"{"layers": [1], "capacity": 1.5}}"#, "knn.capacity: expected an integer, found 1.5")
        assertDecodeError(knn + #"{"layers": [1], "normalizeKeys": 1}}"#, "knn.normalizeKeys: expected true or false, found 1")
        assertDecodeError(knn + #"{"layers": [1], "topK": true}}"#, "knn.topK: expected an integer, found true")
        assertDecodeError(knn + #"{"layers": [1], "topK": [8]}}"#, "knn.topK: expected an integer, found an array of 1")
        assertDecodeError(knn + #"{"layers": [1], "index": 32}}"#, "knn.index: expected a string, found 32")
        assertDecodeError(knn + #"{"layers": [1], "fusion": "gate"}}"#,
                          #"knn.fusion: expected "jointSoftmax" or {"gate": {"tensor" | "value" | "perHead": ...}}, found "gate""#)
        assertDecodeError(knn + #"{"layers": [1], "fusion": {"gate": {"tensor": "t", "value": 1}}}}"#,
                          "knn.fusion.gate: expected exactly one of tensor, value, perHead, found tensor and value")
        assertDecodeError(knn + #"{"layers": [1], "fusion": {"gate": {}}}}"#,
                          "knn.fusion.gate: expected exactly one of tensor, value, perHead, found none of them")
        assertDecodeError(knn + #"{"layers": [1], "fusion": {"gate": {"perHead": [1, true]}}}}"#,
                          "knn.fusion.gate.perHead[1]: expected a number, found true")
        assertDecodeError(knn + #"{"layers": [1], "fusion": {"gate": {"value": "high"}}}}"#,
                          #"knn.fusion.gate.value: expected a number, found "high""#)
        assertDecodeError(#"{"segmentLength": 64.5}"#, "segmentLength: expected an integer, found 64.5")
        assertDecodeError(#"{"segmentLength": null}"#, "segmentLength: expected a value, found null")
        assertDecodeError(#"{"segmentLength": 64, "xl": 5}"#, "xl: expected an object, found 5")
        assertDecodeError(#"{"segmentLength": 64, "retrieval": {"encoding": "fast"}}"#,
                          #"retrieval.encoding: expected "exact" or "overlappingChunks", found "fast""#)
        assertDecodeError("[1]", "plan: expected an object, found an array of 1")
        XCTAssertThrowsError(try decode("{\"segmentLength\": ")) { error in
            XCTAssertTrue("\(error)".hasPrefix("not valid JSON"), "\(error)")
        }
    }

    // MARK: Validation: one test per invalid field

    func testValidPlansPass() throws {
        try Self.fullPlan.validate(for: Self.facts)
        var plan = Self.fullPlan
        plan.knn?.fusion = .gate(.perHead(Array(repeating: 0, count: 8)))
        try plan.validate(for: Self.facts)
        try Plan(segmentLength: 2048).validate(for: Self.facts)
        try Plan(segmentLength: 64, memoryTokens: .init(count: 0, tensor: "absent")).validate(for: Self.facts)
    }

    func testSegmentLength() {
        assertProblem(Plan(segmentLength: 0), field: "segmentLength", value: "0", contains: "must be at least 1")
        assertProblem(Plan(segmentLength: 4096), field: "segmentLength", value: "4096", contains: "at most 2048")
    }

    func testXLMemoryLength() {
        assertProblem(Plan(segmentLength: 64, xl: .init(memoryLength: -1)), field: "xl.memoryLength", value: "-1", contains: "at least 0")
        assertProblem(Plan(segmentLength: 1024, xl: .init(memoryLength: 1025)), field: "xl.memoryLength", value: "1025",
                      contains: "must be at most 1024: segmentLength (1024) + memoryLength reaches 2049 tokens back, beyond the 2048 positions")
    }

    func knnPlan(_ change: (inout Plan.KNNMemory) -> Void) -> Plan {
        var knn = Plan.KNNMemory(layers: [3], topK: 8, capacity: 1024)
        change(&knn)
        return Plan(segmentLength: 256, knn: knn)
    }

    func testKNNLayers() {
        assertProblem(knnPlan { $0.layers = [] }, field: "knn.layers", value: "[]", contains: "at least one layer")
        assertProblem(knnPlan { $0.layers = [3, 12] }, field: "knn.layers[1]", value: "12", contains: "must be in 0..<12 (the model has 12 layers)")
        assertProblem(knnPlan { $0.layers = [-1] }, field: "knn.layers[0]", value: "-1", contains: "0..<12")
        assertProblem(knnPlan { $0.layers = [3, 5, 3] }, field: "knn.layers[2]", value: "3", contains: "duplicate of knn.layers[0]")
    }

    func testKNNLayerAlsoUsingRetrievalAttention() {
        var plan = knnPlan { $0.layers = [2, 7] }
        plan.retrieval = .init(layerBegin: 6)
        assertProblem(plan, field: "knn.layers[1]", value: "7", contains: "retrieval.layerBegin = 6")
    }

    func testKNNTopK() {
        assertProblem(knnPlan { $0.topK = 0 }, field: "knn.topK", value: "0", contains: "at least 1")
        assertProblem(knnPlan { $0.topK = -4 }, field: "knn.topK", value: "-4", contains: "at least 1")
    }

    func testKNNCapacity() {
        assertProblem(knnPlan { $0.capacity = 0 }, field: "knn.capacity", value: "0", contains: "at least 1")
        assertProblem(knnPlan { $0.capacity = 4 }, field: "knn.capacity", value: "4", contains: "at least knn.topK (8)")
    }

    func testKNNShardCount() {
        assertProblem(knnPlan { $0.shardCount = 0 }, field: "knn.shardCount", value: "0", contains: "at least 1")
        assertProblem(knnPlan { $0.shardCount = 2000 }, field: "knn.shardCount", value: "2000", contains: "at most knn.capacity (1024)")
        assertProblem(knnPlan { $0.capacity = nil; $0.shardCount = 4 }, field: "knn.shardCount", value: "4", contains: "needs knn.capacity")
    }

    func testKNNIndex() {
        assertProblem(knnPlan { $0.index = "Flatt" }, field: "knn.index", value: "\"Flatt\"", contains: "unknown token 'Flatt'")
        assertProblem(knnPlan { $0.index = "IVF1024" }, field: "knn.index", contains: "IVF needs an encoding")
        assertProblem(knnPlan { $0.index = "" }, field: "knn.index", contains: "empty description")
    }

    /// Both lists were checked against the installed libfaiss index_factory(64, _, METRIC_INNER_PRODUCT)
    /// (an independent implementation): every "good" one builds, every "bad" one throws, except "PQ0"
    /// (FAISS crashes), "HNSW0" and "Flat,IDMap" (FAISS accepts them; rejected here as degenerate).
    func testFAISSDescriptionSyntax() {
        for good in ["Flat", "HNSW32", "HNSW32,Flat", "HNSW32_PQ16", "HNSW16_SQ8", "IVF1024,Flat", "IVF4096,PQ16", "IVF256,PQ8x4np",
                     "IDMap,Flat", "IDMap2,HNSW32", "OPQ16_64,IVF256,PQ16", "PCA64,IVF256,SQ8", "PCAR32,L2norm,Flat",
                     "IVF1024_HNSW32,SQfp16", "IVF256,PQ16,RFlat", "L2norm,Flat", "PQ8", "SQ4", "SQ6", "HNSW32,SQ8",
                     "HNSW", "IVF64_HNSW,Flat", "PCAW32,Flat", "PCAWR32,Flat", "OPQ16,PQ16", "HNSW32_Flat"] {
            XCTAssertNil(FAISSDescription.problem(in: good), good)
        }
        for bad in ["", "Flatt", "flat", "HNSW0", "IVF", "IVF1024", "Flat,IVF1024", "PQ0", "PQ8y2", "IVF1024,,Flat",
                    "Flat,Flat", "hnsw32", "PCA", "Flat,IDMap", "OPQ16_64_2,Flat", "HNSW32_PQ", "L2norm", "LSH", "SQbf16"] {
            XCTAssertNotNil(FAISSDescription.problem(in: bad), bad)
        }
    }

    func testKNNGateTensor() {
        assertProblem(knnPlan { $0.fusion = .gate(.tensor(Self.gateTensor)) }, field: "knn.fusion.gate.tensor",
                      value: "\"model.layers.3.self_attn.knn_gate_bias\"", contains: "no such tensor in the checkpoint (gate biases of layer 3)")
        assertProblem(knnPlan { $0.fusion = .gate(.tensor("")) }, field: "knn.fusion.gate.tensor", contains: "must name a checkpoint tensor")
        assertProblem(knnPlan { $0.layers = [2, 9, 4]; $0.fusion = .gate(.tensor(Self.gateTensor)) }, field: "knn.fusion.gate.tensor",
                      value: "\"model.layers.2.self_attn.knn_gate_bias\"", contains: "(gate biases of layers 2, 4)")
        assertProblem(knnPlan { $0.fusion = .gate(.tensor("shared_gate")) }, field: "knn.fusion.gate.tensor", value: "\"shared_gate\"",
                      contains: "no such tensor")
        XCTAssertNoThrow(try knnPlan { $0.layers = [9]; $0.fusion = .gate(.tensor(Self.gateTensor)) }.validate(for: Self.facts))
    }

    func testKNNGateValues() {
        assertProblem(knnPlan { $0.fusion = .gate(.perHead([0, 0, 0])) }, field: "knn.fusion.gate.perHead", value: "3 values",
                      contains: "expected one per attention head: 8")
        assertProblem(knnPlan { $0.fusion = .gate(.value(.nan)) }, field: "knn.fusion.gate.value", contains: "finite")
        assertProblem(knnPlan { $0.fusion = .gate(.perHead([0, 0, .infinity, 0, 0, 0, 0, 0])) },
                      field: "knn.fusion.gate.perHead[2]", contains: "finite")
    }

    func retrievalPlan(_ change: (inout Plan.RetrievalAttention) -> Void) -> Plan {
        var retrieval = Plan.RetrievalAttention(layerBegin: 2, topK: 64, chunkOverlap: 32, encoding: .overlappingChunks)
        change(&retrieval)
        return Plan(segmentLength: 256, retrieval: retrieval)
    }

    func testRetrievalLayerBegin() {
        assertProblem(retrievalPlan { $0.layerBegin = 12 }, field: "retrieval.layerBegin", value: "12", contains: "must be in 0..<12")
        assertProblem(retrievalPlan { $0.layerBegin = -1 }, field: "retrieval.layerBegin", value: "-1", contains: "must be in 0..<12")
    }

    func testRetrievalTopK() {
        assertProblem(retrievalPlan { $0.topK = 0 }, field: "retrieval.topK", value: "0", contains: "at least 1")
    }

    func testRetrievalChunkOverlap() {
        assertProblem(retrievalPlan { $0.chunkOverlap = -1 }, field: "retrieval.chunkOverlap", value: "-1", contains: "at least 0")
        assertProblem(retrievalPlan { $0.chunkOverlap = 256 }, field: "retrieval.chunkOverlap", value: "256",
                      contains: "less than segmentLength (256)")
        assertProblem(retrievalPlan { $0.encoding = .exact }, field: "retrieval.chunkOverlap", value: "32",
                      contains: "must be 0 with encoding \"exact\"")
    }

    func testOverlappingChunksStandAlone() {
        var plan = retrievalPlan { _ in }
        plan.knn = .init(layers: [0])
        assertProblem(plan, field: "retrieval.encoding", value: "\"overlappingChunks\"", contains: "cannot be combined with knn")
        plan.knn = nil
        plan.memoryTokens = .init(count: 2)
        assertProblem(plan, field: "retrieval.encoding", value: "\"overlappingChunks\"", contains: "or memoryTokens")
    }

    func testKeyPositionsParse() throws {
        let plan = try decode(#"{"segmentLength": 64, "knn": {"layers": [1], "positions": "true"}, "retrieval": {"layerBegin": 3, "positions": "windowEdge"}}"#)
        XCTAssertEqual(plan.knn?.positions, .trueDistance)
        XCTAssertEqual(plan.retrieval?.positions, .windowEdge)
        XCTAssertEqual(try decode(#"{"segmentLength": 64, "knn": {"layers": [1]}}"#).knn?.positions, .windowEdge)
        assertDecodeError(#"{"segmentLength": 64, "knn": {"layers": [1], "positions": "absolute"}}"#,
                          #"knn.positions: expected "true" or "windowEdge", found "absolute""#)
        assertDecodeError(#"{"segmentLength": 64, "retrieval": {"positions": 3}}"#,
                          "retrieval.positions: expected a string, found 3")
    }

    func testRetrievalIndex() {
        assertProblem(retrievalPlan { $0.index = "HNSW0" }, field: "retrieval.index", value: "\"HNSW0\"", contains: "not a FAISS index description")
    }

    func testMemoryTokens() {
        assertProblem(Plan(segmentLength: 256, memoryTokens: .init(count: -1)), field: "memoryTokens.count", value: "-1", contains: "at least 0")
        assertProblem(Plan(segmentLength: 256, memoryTokens: .init(count: 4, tensor: "rmt.memory")), field: "memoryTokens.tensor",
                      value: "\"rmt.memory\"", contains: "no such tensor in the checkpoint")
        assertProblem(Plan(segmentLength: 2000, memoryTokens: .init(count: 25)), field: "memoryTokens.count", value: "25",
                      contains: "2 * count + segmentLength (2000) = 2050 must be at most 2048")
        assertProblem(Plan(segmentLength: 1024, xl: .init(memoryLength: 1000), memoryTokens: .init(count: 20)),
                      field: "memoryTokens.count", contains: "+ xl.memoryLength (1000) = 2064")
    }

    func testAllProblemsAreReportedWithAOneLineSummary() throws {
        var plan = Self.fullPlan
        plan.xl?.memoryLength = -5
        plan.knn?.topK = 0
        plan.memoryTokens?.tensor = "absent"
        XCTAssertThrowsError(try plan.validate(for: Self.facts)) { error in
            guard let error = error as? MemoryPlanError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.problems.map(\.field), ["xl.memoryLength", "knn.topK", "memoryTokens.tensor"])
            let lines = "\(error)".split(separator: "\n")
            XCTAssertEqual(lines.first, "invalid memory plan: xl.memoryLength = -5: must be at least 0 (and 2 more problems)")
            XCTAssertEqual(lines.count, 4)
            XCTAssertEqual(error.errorDescription, "\(error)")
        }
    }

    /// The example at the top of Docs/MemoryPlan.md, with `planURL` made absolute (tests do not rely on
    /// the working directory), so the documented code keeps compiling and working.
    func testDocumentationExample() throws {
        let planURL = Self.plansFolder.appendingPathComponent("xl-knn.json")
        let plan = try PlanFlags(segment: 512, xlMemory: 512, knnLayers: "9", knnTopK: 32)
            .plan(over: MemoryPlan.load(from: planURL))
        try plan.validate(for: ModelFacts(layerCount: 12, headCount: 8, kvHeadCount: 4, headDim: 64,
                                          hiddenSize: 512, contextLength: 2048,
                                          availableTensors: ["model.layers.9.self_attn.knn_gate_bias"]))
        XCTAssertEqual(plan, try Plan.load(from: planURL), "these flags repeat the file's values")
    }

    // MARK: CLI flags

    func testLayerListParsing() throws {
        XCTAssertEqual(try PlanFlags.parseLayerList("1,3"), [1, 3])
        XCTAssertEqual(try PlanFlags.parseLayerList("2-5"), [2, 3, 4, 5])
        XCTAssertEqual(try PlanFlags.parseLayerList("0, 4-6,9"), [0, 4, 5, 6, 9])
        XCTAssertEqual(try PlanFlags.parseLayerList("7-7"), [7])
        let cases = ["": "empty list", "1,,3": "empty item", "a": "'a' is not a layer index or range",
                     "-1": "'-1' is not", "1-2-3": "'1-2-3' is not", "5-2": "range '5-2' is reversed: write it low-high (2-5)",
                     "99999999999": "is not a layer index"]
        for (text, message) in cases {
            XCTAssertThrowsError(try PlanFlags.parseLayerList(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("--knn-layers \"\(text)\": "), "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testFlagsAloneMakeAPlan() throws {
        let flags = try PlanFlags(segment: 512, xlMemory: 1024, knnLayers: "2-3", knnTopK: 16, retrievalFromLayer: 8, memoryTokens: 2)
        XCTAssertEqual(try MemoryPlan(flags: flags), Plan(segmentLength: 512, xl: .init(memoryLength: 1024),
                                                          knn: .init(layers: [2, 3], topK: 16), retrieval: .init(layerBegin: 8),
                                                          memoryTokens: .init(count: 2)))
        XCTAssertThrowsError(try MemoryPlan(flags: PlanFlags(xlMemory: 64))) { error in
            XCTAssertEqual("\(error)", "--segment: required when no plan file is given")
        }
        XCTAssertThrowsError(try MemoryPlan(flags: PlanFlags(segment: 64, knnTopK: 8))) { error in
            XCTAssertTrue("\(error)".hasPrefix("--knn-top-k \"8\": needs --knn-layers"), "\(error)")
        }
        XCTAssertThrowsError(try PlanFlags(knnLayers: "x")) { error in
            XCTAssertTrue("\(error)".hasPrefix("--knn-layers \"x\""), "\(error)")
        }
    }

    func testFlagsWinOverAPlanFile() throws {
        let file = try Plan.load(from: Self.plansFolder.appendingPathComponent("xl-knn.json"))
        XCTAssertTrue(PlanFlags().isEmpty)
        XCTAssertEqual(try PlanFlags().plan(over: file), file)

        let merged = try PlanFlags(segment: 256, xlMemory: 128, knnLayers: "9,10", knnTopK: 8, retrievalFromLayer: 11).plan(over: file)
        var expected = file
        expected.segmentLength = 256
        expected.xl = .init(memoryLength: 128)
        expected.knn?.layers = [9, 10]
        expected.knn?.topK = 8
        expected.retrieval = .init(layerBegin: 11)
        XCTAssertEqual(merged, expected, "flags replace their fields; capacity, index, gate and shards stay from the file")

        let rmt = try Plan.load(from: Self.plansFolder.appendingPathComponent("rmt.json"))
        XCTAssertEqual(try PlanFlags(knnTopK: nil, memoryTokens: 0).plan(over: rmt).memoryTokens, .init(count: 0, tensor: "memory_cell.memory"))
        XCTAssertEqual(try PlanFlags(knnTopK: 4).plan(over: file).knn?.topK, 4)

        // Flag values are checked by validation, under the plan's field names.
        assertProblem(try PlanFlags(knnTopK: 0).plan(over: file), field: "knn.topK", value: "0", contains: "at least 1")
    }

    // MARK: Regressions: huge values are problems, not traps

    func testHugeXLMemoryLengthIsAProblemNotAnOverflow() throws {
        // Regression: segmentLength + memoryLength overflowed Int and trapped.
        let plan = try decode(#"{"segmentLength": 8, "xl": {"memoryLength": 9223372036854775807}}"#)
        assertProblem(plan, field: "xl.memoryLength", value: "9223372036854775807",
                      contains: "must be at most 2040: segmentLength (8) + memoryLength reaches more than 9223372036854775807 tokens back")
    }

    func testHugeMemoryTokenCountIsAProblemNotAnOverflow() throws {
        // Regression: 2 * count overflowed Int and trapped.
        let plan = try decode(#"{"segmentLength": 8, "memoryTokens": {"count": 5000000000000000000}}"#)
        assertProblem(plan, field: "memoryTokens.count", value: "5000000000000000000",
                      contains: "2 * count + segmentLength (8) = more than 9223372036854775807 must be at most 2048")
        // Each term fits, only the sum overflows: count + count + segmentLength + xl.memoryLength.
        assertProblem(Plan(segmentLength: 8, xl: .init(memoryLength: 0), memoryTokens: .init(count: Int.max / 2)),
                      field: "memoryTokens.count", contains: "= more than 9223372036854775807 must be at most 2048")
        // A huge xl.memoryLength is reported on its own field and still makes memoryTokens.count fail cleanly.
        XCTAssertThrowsError(try Plan(segmentLength: 8, xl: .init(memoryLength: .max), memoryTokens: .init(count: 2))
            .validate(for: Self.facts)) { error in
            XCTAssertEqual((error as? MemoryPlanError)?.problems.map(\.field), ["xl.memoryLength", "memoryTokens.count"], "\(error)")
        }
    }

    func testDuplicateLayersNameTheirFirstOccurrence() {
        // The duplicate check is a one-pass lookup; each repeat names the first offset of its layer.
        XCTAssertThrowsError(try knnPlan { $0.layers = [3, 5, 3, 5, 3, 99] }.validate(for: Self.facts)) { error in
            let problems = (error as? MemoryPlanError)?.problems ?? []
            XCTAssertEqual(problems.map(\.field), ["knn.layers[2]", "knn.layers[3]", "knn.layers[4]", "knn.layers[5]"])
            XCTAssertEqual(problems.map(\.expected).prefix(3), ["duplicate of knn.layers[0]", "duplicate of knn.layers[1]",
                                                                "duplicate of knn.layers[0]"])
        }
        // A long list (what a --knn-layers range can produce) validates quickly.
        XCTAssertThrowsError(try knnPlan { $0.layers = Array(0 ... 4096) + Array(0 ... 4096) }.validate(for: Self.facts)) { error in
            XCTAssertEqual((error as? MemoryPlanError)?.problems.count, 4097 - 12 + 4097)
        }
    }

    func testHugeLayerRangeIsRejectedBeforeExpanding() throws {
        // Regression: "0-999999999" materialised 10^9 Ints (8 GB) before any check.
        XCTAssertThrowsError(try PlanFlags.parseLayerList("0-999999999")) { error in
            XCTAssertEqual("\(error)", "--knn-layers \"0-999999999\": range '0-999999999' ends above 4096, the largest layer index accepted")
        }
        XCTAssertThrowsError(try PlanFlags(knnLayers: "2,4000-5000")) { error in
            XCTAssertTrue("\(error)".contains("range '4000-5000' ends above 4096"), "\(error)")
        }
        XCTAssertEqual(try PlanFlags.parseLayerList("0-4096").count, 4097)
        XCTAssertEqual(try PlanFlags.parseLayerList("999999999"), [999_999_999], "a single index is not expanded; validation rejects it")
        // Many in-limit ranges cannot add up to a huge list either.
        let repeated = Array(repeating: "0-4096", count: 3).joined(separator: ",")
        XCTAssertThrowsError(try PlanFlags.parseLayerList(repeated)) { error in
            XCTAssertTrue("\(error)".hasSuffix("lists more than 4097 layers, so some layer repeats"), "\(error)")
        }
    }
}
