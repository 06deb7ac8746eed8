import ArgumentParser
import Foundation
import MnemoTokenizers

/// `mnemo bench tokenizer`: encoding throughput on one document (best of N runs).
struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Time encoding a whole UTF-8 file: characters, tokens, seconds and tokens/s (best of N), and the load time.")

    @Option(help: "Tokenizer: tokenizer.json, its folder, .gguf or llama2.c tokenizer.bin.")
    var tokenizer: String

    @Option(help: "UTF-8 text file to encode (read exactly, as one string).")
    var file: String

    @Option(name: .customLong("repeat"), help: "Number of timed runs; the fastest is reported.")
    var repeatCount = 3

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1, got \(repeatCount)") }
    }

    func run() throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let tok = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer))
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let text = try readUTF8Text(url: URL(fileURLWithPath: file))
        var best = Double.infinity
        var count = 0
        for _ in 0..<repeatCount {
            let start = DispatchTime.now().uptimeNanoseconds
            count = tok.encode(text, addSpecialTokens: false).count
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let chars = text.unicodeScalars.count
        let rate = Double(count) / best
        let line: String
        if json {
            line = "{\"chars\": \(chars), \"tokens\": \(count), \"seconds\": \(best), \"tokens_per_second\": \(Int(rate)), \"load_seconds\": \(loadSeconds)}"
        } else {
            line = "chars \(chars)  tokens \(count)  seconds \(String(format: "%.4f", best))  tokens/s \(Int(rate))"
                + "  (load \(String(format: "%.3f", loadSeconds)) s)"
        }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
