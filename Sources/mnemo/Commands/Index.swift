import ArgumentParser
import Foundation
import Mnemo

/// `mnemo index`: read a document once through a memory plan and save the memory to a directory,
/// for `mnemo generate --memory DIR` (and later questions) without reading it again.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Read a document through a memory plan and save its memory (a snapshot directory).",
        discussion: """
            The document is normalized (UTF-8 checked, BOM dropped, CRLF to LF, Project Gutenberg header and \
            footer removed unless --keep-boilerplate), encoded with the tokenizer's special tokens (BOS first) \
            and read segment by segment through the plan. The last token is held back in the snapshot, so \
            `mnemo generate --memory DIR` continues the document from it. The snapshot records the model's \
            checksum, the plan and the SHA-256 of the document file (see Docs/Memory.md); it replaces any \
            snapshot at --out atomically. Progress goes to standard error, one summary line to standard output.
            """
    )

    @Argument(help: "The document: a UTF-8 plain-text or Markdown file.")
    var file: String

    @OptionGroup var model: ModelOptions

    @Option(help: "Memory plan: a JSON file (see Docs/MemoryPlan.md).")
    var plan: String

    @Option(help: "Snapshot directory to write (created; an existing snapshot there is replaced atomically).")
    var out: String

    @Flag(help: "Keep a Project Gutenberg header and footer.")
    var keepBoilerplate = false

    @Flag(help: "Print one JSON object instead of the summary line.")
    var json = false

    func run() async throws {
        let documentURL = URL(fileURLWithPath: file)
        let document = try Document.load(from: documentURL, options: DocumentOptions(keepBoilerplate: keepBoilerplate))
        let fileBytes: Data
        do { fileBytes = try Data(contentsOf: documentURL) } catch {
            throw DocumentError.unreadable(file: documentURL.path, reason: error.localizedDescription)
        }
        let memoryPlan = try MemoryPlan.load(from: URL(fileURLWithPath: plan))
        let session = try model.loadSession()
        let reader = try MemoryModel(model: session.model, plan: memoryPlan)
        let tokens = session.encode(document.text)
        guard let last = tokens.last else {
            throw ValidationError("\(file): the text encodes to no tokens and the tokenizer adds no BOS")
        }
        let toRead = tokens.count - 1
        Console.log("index: \(file): \(tokens.count) tokens, segments of \(memoryPlan.segmentLength)")

        let state = reader.makeMemoryState()
        let start = ContinuousClock.now
        var lastReport = start
        // Whole segments per call (the state forms segments either way; whole ones batch identically).
        let chunk = memoryPlan.segmentLength * max(1, 2048 / memoryPlan.segmentLength)
        var done = 0
        while done < toRead {
            if Task.isCancelled { throw CancellationError() }
            let end = min(toRead, done + chunk)
            _ = try reader.forward(Array(tokens[done ..< end]), state: state, allLogits: false)
            done = end
            if ContinuousClock.now - lastReport >= .seconds(1) {
                lastReport = .now
                let rate = Double(done) / Self.seconds(since: start)
                Console.log(String(format: "index: %d/%d tokens (%.1f%%), %.1f tok/s", done, toRead,
                                   100 * Double(done) / Double(max(1, toRead)), rate))
            }
        }
        let readSeconds = Self.seconds(since: start)
        let outURL = URL(fileURLWithPath: out)
        Console.log("index: saving the memory to \(out)")
        let textChecksum = MemorySnapshot.textChecksum(of: fileBytes)
        try state.save(to: outURL, textChecksum: textChecksum, pendingTokens: [last])
        let manifest = try MemorySnapshot.readManifest(at: outURL)
        let bytes = manifest.files.reduce(0) { $0 + $1.bytes }
        let stored = state.storedEntries
        if json {
            Console.line(JSONText.object([
                ("document", JSONText.string(file)),
                ("snapshot", JSONText.string(out)),
                ("tokens", "\(tokens.count)"),
                ("tokens_read", "\(toRead)"),
                ("pending_tokens", "\(manifest.pendingTokens.count)"),
                ("window_rows", "\(manifest.windowRows)"),
                ("evicted", "\(manifest.evictedCount)"),
                ("knn_entries", "\(stored.knn)"),
                ("retrieval_entries", "\(stored.retrieval)"),
                ("snapshot_bytes", "\(bytes)"),
                ("read_seconds", JSONText.number(readSeconds)),
                ("tokens_per_second", JSONText.number(readSeconds > 0 ? Double(toRead) / readSeconds : nil)),
                ("text_checksum", JSONText.string(textChecksum)),
                ("model_checksum", JSONText.string(manifest.model.checksum)),
            ]))
        } else {
            Console.line("indexed \(file): \(tokens.count) tokens in " + String(format: "%.2f", readSeconds)
                         + " s; window \(manifest.windowRows) rows, kNN \(stored.knn) entries, retrieval \(stored.retrieval) entries; "
                         + "memory saved to \(out) (\(bytes) bytes)")
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
