import Foundation
import MnemoModels
import MnemoTokenizers

/// What `hierarchical --memory DIR` did with the directory's chunk summaries.
public struct ChunkMemoryStats: Sendable, Equatable {
    /// `"saved"` (every chunk summary was made in this run and saved), `"loaded"` (all of them came
    /// from the directory; only the merges ran) or `"resumed"` (some came from the directory, the rest
    /// were made and saved: an earlier run was interrupted).
    public var source: String
    /// Chunk summaries taken from the directory.
    public var reusedChunks: Int
    /// Chunk summaries of the document (the map step's plan).
    public var plannedChunks: Int
}

/// `chunk-summaries.json`, the document memory of `hierarchical`: the map step's summaries, with the
/// model and a checksum of the exact prompts and generation settings they were made with, so a later
/// run reuses them only when it would have produced the same ones.
struct ChunkSummaryFile: Codable, Equatable {
    static let fileName = "chunk-summaries.json"
    static let formatName = "mnemo-chunk-summaries"
    static let currentVersion = 1

    var format: String
    var formatVersion: Int
    var model: ModelIdentity
    /// `"sha256:..."` of every planned chunk prompt (in order), the chunk token budget and the sampling
    /// settings (`Summarizer.chunkPlanChecksum`).
    var planChecksum: String
    var plannedCount: Int
    /// The first `chunks.count` chunk summaries, in order (fewer than `plannedCount` after an interrupted run).
    var chunks: [PartSummary]
    /// `"sha256:..."` of `chunks` encoded as sorted-key JSON: catches an edited or damaged summary.
    var chunksChecksum: String

    static func checksum(of chunks: [PartSummary]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SHA256.tagged(try encoder.encode(chunks))
    }
}

extension Summarizer {
    /// The request of the map step with `--memory`: the default one, whatever `--instruction` says, so
    /// the saved chunk summaries serve every later question (the instruction still shapes the merges and
    /// the final summary).
    var chunkMemoryOptions: SummaryOptions {
        var o = options
        o.instruction = nil
        return o
    }

    /// `"sha256:..."` over the chunk prompts (each rendered prompt, length-prefixed), the chunk summary
    /// budget and the sampling settings: equal exactly when the map step would generate the same summaries.
    func chunkPlanChecksum(_ prompts: [ChatPrompt]) -> String {
        var hash = SHA256()
        hash.update(Array("mnemo chunk plan v1\nmax \(options.chunkSummaryMaxTokens)\ntemperature \(options.temperature)\n".utf8))
        hash.update(Array("seed \(options.seed.map(String.init) ?? "none")\n".utf8))
        for p in prompts {
            let bytes = Array(p.text.utf8)
            hash.update(Array("prompt \(bytes.count) special \(p.addSpecialTokens)\n".utf8))
            hash.update(bytes)
        }
        return "sha256:" + hash.hexDigest()
    }

    /// The model whose identity a chunk memory records.
    /// - Throws: `SummaryError.strategyUnavailable` for a model not loaded from files.
    func chunkMemoryIdentity() throws -> ModelIdentity {
        guard let language = languageModel else {
            throw SummaryError.strategyUnavailable(strategy: "hierarchical --memory",
                                                   reason: "it needs a model loaded with LanguageModel.load (to record which model made the summaries), got \(type(of: model))")
        }
        return try ModelIdentityRegistry.shared.identity(of: language)
    }

    /// The chunk summaries saved in `directory` for this model and chunk plan: empty when the directory is
    /// missing or empty (nothing saved yet).
    /// - Throws: `SummaryError.memoryMismatch` when the directory holds something else (a retrieval or
    ///   stream snapshot, other files, the summaries of another text or other settings);
    ///   `MemorySnapshotError` for another model, an unknown format or a damaged file.
    func loadChunkMemory(from directory: URL, model identity: ModelIdentity, planChecksum: String, plannedCount: Int) throws -> [PartSummary] {
        guard let entries = try memoryDirectoryEntries(directory, reportedAs: directory, expected: "a directory of chunk summaries") else {
            return []
        }
        let visible = entries.filter { !$0.hasPrefix(".") }
        if visible.isEmpty { return [] }
        let url = directory.appendingPathComponent(ChunkSummaryFile.fileName)
        guard visible.contains(ChunkSummaryFile.fileName) else {
            let what = visible.contains(SnapshotLayout.manifest)
                ? "holds a retrieval/stream memory snapshot, not hierarchical chunk summaries"
                : "is not a hierarchical summary memory (no \(ChunkSummaryFile.fileName))"
            throw SummaryError.memoryMismatch(directory: directory.path, detail: "\(what); give an empty or new directory")
        }
        let data = try MemorySnapshot.readFile(url)
        let saved: ChunkSummaryFile
        do { saved = try JSONDecoder().decode(ChunkSummaryFile.self, from: data) } catch {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "not a chunk summary file (\(MemorySnapshot.oneLine("\(error)", limit: 160)))")
        }
        guard saved.format == ChunkSummaryFile.formatName, saved.formatVersion == ChunkSummaryFile.currentVersion else {
            throw MemorySnapshotError.unsupportedFormat(file: url.path, found: "\(saved.format) v\(saved.formatVersion)",
                                                        expected: "\(ChunkSummaryFile.formatName) v\(ChunkSummaryFile.currentVersion)")
        }
        guard try ChunkSummaryFile.checksum(of: saved.chunks) == saved.chunksChecksum else {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "the chunk summaries do not match their checksum \(saved.chunksChecksum)")
        }
        if let difference = saved.model.difference(from: identity) {
            throw MemorySnapshotError.modelMismatch(snapshot: url.path, detail: difference)
        }
        guard saved.planChecksum == planChecksum, saved.plannedCount == plannedCount else {
            throw SummaryError.memoryMismatch(
                directory: directory.path,
                detail: "holds the chunk summaries of another text or other chunk settings (\(saved.plannedCount) chunks, \(saved.planChecksum); "
                    + "this run plans \(plannedCount), \(planChecksum)); use another --memory directory or delete it")
        }
        guard saved.chunks.count <= plannedCount, saved.chunks.enumerated().allSatisfy({ $0.element.index == $0.offset && $0.element.level == 0 }) else {
            throw MemorySnapshotError.corrupt(file: url.path, detail: "chunk summaries out of order or more than the \(plannedCount) planned")
        }
        return saved.chunks
    }

    /// Saves `chunks` to `directory/chunk-summaries.json` atomically: the new file is written and synced
    /// beside the old one, then renamed over it, so an interrupted save leaves the previous file.
    func saveChunkMemory(_ chunks: [PartSummary], to directory: URL, model identity: ModelIdentity, planChecksum: String, plannedCount: Int) throws {
        let file = ChunkSummaryFile(format: ChunkSummaryFile.formatName, formatVersion: ChunkSummaryFile.currentVersion, model: identity,
                                    planChecksum: planChecksum, plannedCount: plannedCount, chunks: chunks,
                                    chunksChecksum: try ChunkSummaryFile.checksum(of: chunks))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do { data = try encoder.encode(file) } catch {
            throw MemorySnapshotError.unsavableState(detail: "cannot encode the chunk summaries: \(error)")
        }
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw MemorySnapshotError.io(file: directory.path, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        let target = directory.appendingPathComponent(ChunkSummaryFile.fileName)
        let temporary = directory.appendingPathComponent(".\(ChunkSummaryFile.fileName).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try MemorySnapshot.write(data, to: temporary)
        guard Foundation.rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)  // the old file is intact; the temporary is garbage
            throw MemorySnapshotError.io(file: target.path, detail: "cannot replace with the new chunk summaries: \(reason)")
        }
    }
}
