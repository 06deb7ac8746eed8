import XCTest
import MnemoModels
@testable import MnemoEngine

/// Unlimiformer `overlappingChunks` states (the `retrieval` summary default) save and load: reading on
/// from a loaded state equals never having stopped, bitwise — while the document is still read in
/// chunks (stopping inside a chunk, and right after one completes) and after `endDocument()` (the
/// request and generation retrieve over the whole document).
final class MemoryChunkPersistenceTests: XCTestCase {
    func testChunkedReadingResumesExactly() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        for path in MemoryPersistenceTests.modelPaths {
            let model = try PersistenceSupport.load(path)
            var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
            plan.retrieval = .init(layerBegin: model.config.layerCount / 2, topK: 6, chunkOverlap: 3, encoding: .overlappingChunks)
            let reader = try MemoryModel(model: model, plan: plan)
            let document = PersistenceSupport.document(model, count: 40)
            let request = PersistenceSupport.document(model, count: 12, seed: 3)
            // Stops: inside the fourth chunk, right after the third completes (8 + 5 + 5 = 18 tokens), at the end.
            for (stop, endsDocument) in [(21, false), (18, false), (40, true)] {
                let what = "\(path), stop at \(stop)\(endsDocument ? " + endDocument" : "")"
                let first = Array(document[..<stop])
                func readRest(_ state: MemoryState) throws -> [Float] {
                    if endsDocument { return try reader.forward(request, state: state, allLogits: true) }
                    _ = try reader.forward(Array(document[stop...]), state: state, allLogits: true)
                    state.endDocument()
                    return try reader.forward(request, state: state, allLogits: true)
                }
                let reference = reader.makeMemoryState()
                _ = try reader.forward(first, state: reference, allLogits: false)
                if endsDocument { reference.endDocument() }
                let expected = try readRest(reference)

                let saving = reader.makeMemoryState()
                _ = try reader.forward(first, state: saving, allLogits: false)
                if endsDocument { saving.endDocument() }
                let url = folder.appendingPathComponent("chunks-\(stop)")
                try saving.save(to: url, textChecksum: "tokens-sha256:test")
                let manifest = try MemorySnapshot.readManifest(at: url)
                XCTAssertEqual(manifest.chunkReading?.readingInChunks, !endsDocument, what)
                XCTAssertEqual(manifest.chunkReading?.recentTokens, Array(first.suffix(3)), what)
                let loaded = try reader.loadState(from: url)
                XCTAssertEqual(loaded.readingInChunks, saving.readingInChunks, what)
                XCTAssertEqual(loaded.chunkContextRows, saving.chunkContextRows, what)
                XCTAssertEqual(loaded.rowPositions, saving.rowPositions, what)
                XCTAssertEqual(loaded.storedEntries.retrieval, saving.storedEntries.retrieval, what)
                XCTAssertGreaterThan(saving.storedEntries.retrieval, 0, what)
                let resumed = try readRest(loaded)
                XCTAssertEqual(resumed.count, request.count * reader.vocabularySize, what)
                XCTAssertTrue(resumed == expected, "\(what): resumed logits differ by up to \(PersistenceSupport.maxDifference(resumed, expected))")
                XCTAssertFalse(loaded.readingInChunks, what)
            }
        }
    }

    /// The retrieval datastore of a Flat plan keeps no value copy: the hidden states come back from
    /// the FAISS index, bitwise, and a plan over an index that cannot give them back keeps the copy.
    func testFlatDatastoreKeepsNoValueCopy() throws {
        let model = try PersistenceSupport.load("llama-gqa")
        var plan = MemoryPlan(segmentLength: 8, xl: .init(memoryLength: 8))
        plan.retrieval = .init(layerBegin: 0, topK: 4, index: "Flat")
        let state = try MemoryModel(model: model, plan: plan).makeMemoryState()
        XCTAssertEqual(state.datastoreConfiguration?.valueDimension, 0)
        var hnsw = plan
        hnsw.retrieval?.index = "HNSW32"
        XCTAssertEqual(try MemoryModel(model: model, plan: hnsw).makeMemoryState().datastoreConfiguration?.valueDimension, 0)
        var sq = plan
        sq.retrieval?.index = "SQ8"
        XCTAssertEqual(try MemoryModel(model: model, plan: sq).makeMemoryState().datastoreConfiguration?.valueDimension,
                       model.config.hiddenSize)

        let tokens = PersistenceSupport.document(model, count: 40)
        let H = model.config.hiddenSize
        // The hidden states that leave the window, in order, mirror what the store must give back.
        var evicted: [Float] = []
        var stored = 0
        for piece in stride(from: 0, to: tokens.count, by: 8) {
            let before = state.windowHidden[0] ?? []
            let rowsBefore = state.cache.count
            _ = try state.reader.forward(Array(tokens[piece ..< piece + 8]), state: state, allLogits: false)
            let added = state.storedEntries.retrieval / model.config.layerCount - stored
            if added > 0 { evicted += before[0 ..< added * H] }
            stored += added
            XCTAssertLessThanOrEqual(added, rowsBefore)
        }
        XCTAssertGreaterThan(stored, 0)
        let store = try XCTUnwrap(state.datastores[0])
        let keys = try store.keys(for: (0 ..< Int64(stored)).map { $0 })
        XCTAssertTrue(keys == evicted, "reconstructed hidden states differ from the evicted ones")
        XCTAssertThrowsError(try store.keys(for: [Int64(stored)]))
    }
}
