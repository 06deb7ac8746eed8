import ArgumentParser
import Foundation
import Mnemo

extension Generate {
    /// `mnemo generate --memory DIR`: loads the snapshot `mnemo index` saved (model checked against
    /// its manifest, plan taken from it), feeds the token it held back plus the prompt (encoded
    /// WITHOUT special tokens: it continues the document), and generates attending to that memory.
    /// Output is the same as a plain `generate`: streamed text, or `--json`, and `--verbose` statistics.
    func generateFromMemory(_ snapshot: URL, prompt: String) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: snapshot.path) || fm.fileExists(atPath: snapshot.path + ".backup") else {
            throw ValidationError("--memory \(snapshot.path): no such snapshot directory (make one with `mnemo index`)")
        }
        let session = try model.loadSession()
        let state = try MemoryModel.loadState(from: snapshot, model: session.model)
        let manifest = try MemorySnapshot.readManifest(at: snapshot)
        let promptTokens = prompt.isEmpty ? [] : session.tokenizer.encode(prompt, addSpecialTokens: false)
        let tokens = manifest.pendingTokens + promptTokens
        guard !tokens.isEmpty else {
            throw ValidationError("--memory \(snapshot.path): the snapshot holds no pending token to continue from; give --prompt")
        }
        let generator = try Generator(model: state.reader, tokenizer: session.tokenizer, options: sampling.options, continuing: state)
        try generator.prefill(continuing: tokens)
        var generated: [GeneratedToken] = []
        var text = ""
        while let token = try generator.step() {
            if Task.isCancelled { break }
            if json {
                generated.append(token)
                text += token.text
            } else if !token.text.isEmpty {
                Console.out(token.text)
            }
        }
        let tail = generator.finish(reason: .cancelled)
        let stats = generator.stats
        if json {
            Console.line(JSONText.object([
                ("text", JSONText.string(text + tail)),
                ("tokens", JSONText.array(generated.map { "\($0.id)" })),
                ("logprobs", JSONText.array(generated.map { JSONText.number($0.logprob) })),
                ("memory_tokens", "\(manifest.tokensRead)"),
                ("stats", Self.statsJSON(stats)),
            ]))
        } else {
            Console.out(tail)
        }
        if verbose {
            Console.log("")
            Console.log("memory: \(manifest.tokensRead) tokens read from \(snapshot.path) (plan segmentLength \(manifest.plan.segmentLength))")
            Console.log(String(format: "prompt: %d tokens in %.3f s (%.1f tok/s)",
                               stats.promptTokens, stats.prefillSeconds, stats.prefillTokensPerSecond))
            Console.log(String(format: "generated: %d tokens in %.3f s (%.1f tok/s)",
                               stats.generatedTokens, stats.decodeSeconds, stats.tokensPerSecond)
                        + ", stopped: \(stats.stopReason?.rawValue ?? "-")")
        }
    }
}
