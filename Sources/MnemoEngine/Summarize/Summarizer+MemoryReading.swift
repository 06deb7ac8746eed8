import Foundation
import MnemoTokenizers

extension Summarizer {
    /// The memory prompt's ids, cut where the document ends: the document part (what `--memory` saves)
    /// and the request after it (read on every run). The cut keeps the whole prompt's ids when they begin
    /// with the document part's own encoding; otherwise the request is encoded on its own. Without a
    /// known cut (or with an empty request) the last token is held back, so generation always starts
    /// from logits computed in this run.
    func splitMemoryPrompt(_ prompt: ChatPrompt, documentEnd: String.Index?) -> (document: [Int], request: [Int]) {
        var whole = tokenizer.encode(prompt.text, addSpecialTokens: prompt.addSpecialTokens)
        if whole.isEmpty, let bos = tokenizer.bosTokenID { whole = [bos] }
        var document = whole, request: [Int] = []
        if let end = documentEnd {
            let head = tokenizer.encode(String(prompt.text[..<end]), addSpecialTokens: prompt.addSpecialTokens)
            if !head.isEmpty, whole.starts(with: head) {
                document = head
                request = Array(whole[head.count...])
            } else if !head.isEmpty {
                document = head
                request = tokenizer.encode(String(prompt.text[end...]), addSpecialTokens: false)
            }
        }
        if request.isEmpty, let last = document.popLast() { request = [last] }
        return (document, request)
    }

    /// `"tokens-sha256:<hex>"` of token ids (Int64 little-endian): the text checksum of a summary's memory,
    /// so a snapshot matches exactly the ids it was read from (document, template, boilerplate choice, tokenizer).
    static func checksum(of ids: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 8)
        for id in ids { withUnsafeBytes(of: Int64(id).littleEndian) { bytes.append(contentsOf: $0) } }
        return "tokens-" + SHA256.tagged(bytes)
    }

    /// Loads the snapshot at `directory` when there is one (nil when the directory is missing or empty,
    /// so the caller reads the document and saves there).
    /// - Throws: `SummaryError.memoryMismatch` when the directory holds something else or the memory of
    ///   other text; `MemorySnapshotError` for another model or plan and for corrupt files.
    func loadMemory(from directory: URL, reader: MemoryModel, checksum: String) throws -> MemoryState? {
        let resolved = MemorySnapshot.resolve(directory)
        guard let entries = try memoryDirectoryEntries(resolved, reportedAs: directory, expected: "a memory snapshot directory") else {
            return nil
        }
        guard entries.contains(SnapshotLayout.manifest) else {
            throw SummaryError.memoryMismatch(directory: directory.path, detail: "is not a memory snapshot (no \(SnapshotLayout.manifest)); give an empty or new directory")
        }
        let manifest = try MemorySnapshot.readManifest(at: resolved)
        guard manifest.textChecksum == checksum else {
            throw SummaryError.memoryMismatch(
                directory: directory.path,
                detail: "holds the memory of another text (\(manifest.textChecksum ?? "none"), this prompt's document part is \(checksum)); "
                    + "use another --memory directory or delete it")
        }
        return try reader.loadState(from: resolved)
    }

    /// The names in a `--memory` directory, or nil when it does not exist or is empty (nothing saved
    /// yet: the caller makes the memory and saves it there).
    /// - Throws: `SummaryError.memoryMismatch` (naming `reported`) when it is a file,
    ///   `MemorySnapshotError.io` when it cannot be listed.
    func memoryDirectoryEntries(_ directory: URL, reportedAs reported: URL, expected: String) throws -> [String]? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else {
            throw SummaryError.memoryMismatch(directory: reported.path, detail: "is a file, expected \(expected) (or a new path)")
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: directory.path) } catch {
            throw MemorySnapshotError.io(file: directory.path, detail: "cannot list the directory: \(error.localizedDescription)")
        }
        return entries.isEmpty ? nil : entries
    }

    /// Reads `ids` into `state`, eight segments at a time, reporting progress and checking for cancellation.
    func read(_ ids: [Int], into state: MemoryState, total: Int, start: ContinuousClock.Instant,
              progress: ((SummaryProgress) -> Void)?) async throws {
        let reader = state.reader
        let slice = reader.plan.segmentLength * 8
        let slices = (ids.count + slice - 1) / slice
        for k in 0 ..< slices {
            try Task.checkCancellation()
            await Task.yield()
            let done = min(ids.count, (k + 1) * slice)
            _ = try reader.forward(Array(ids[(k * slice) ..< done]), state: state, allLogits: false)
            if let progress {
                let elapsed = Generator.seconds(since: start)
                let rate = Double(done) / max(elapsed, 1e-9)
                progress(SummaryProgress(phase: .read, completed: k + 1, total: slices + 1, title: "reading",
                                         promptTokensPerSecond: rate, tokensPerSecond: 0, elapsedSeconds: elapsed,
                                         estimatedSecondsLeft: Double(total - done) / rate))
            }
        }
    }
}
