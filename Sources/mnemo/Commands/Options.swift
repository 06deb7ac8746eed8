import ArgumentParser
import Foundation
import Mnemo

/// Where the model comes from, and how many threads run it.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model: a Hugging Face folder, a .gguf file or a llama2.c .bin checkpoint.")
    var model: String

    @Option(help: "Tokenizer file or folder (default: found next to the model or inside the GGUF).")
    var tokenizer: String?

    @Option(help: "Threads for the kernels and BLAS (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads must be >= 1, got \(threads)")
        }
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("--model \(model): no such file or directory")
        }
        if let tokenizer, !FileManager.default.fileExists(atPath: tokenizer) {
            throw ValidationError("--tokenizer \(tokenizer): no such file or directory")
        }
    }

    var modelURL: URL { URL(fileURLWithPath: model) }

    /// Applies `--threads`, then loads the model and its tokenizer.
    func loadSession() throws -> MnemoSession {
        applyThreads()
        return try MnemoSession.load(model: modelURL, tokenizer: tokenizer.map { URL(fileURLWithPath: $0) })
    }

    func applyThreads() {
        if let threads { Threading.threadCount = threads }
    }
}

/// Sampling and stopping options shared by the generating commands.
struct SamplingArgs: ParsableArguments {
    @Option(help: "Largest number of tokens to generate.")
    var maxTokens: Int = 256

    @Option(help: "Softmax temperature; 0 = greedy (argmax).")
    var temperature: Double = 0.8

    @Option(help: "Keep the K most likely tokens; 0 = off.")
    var topK: Int = 40

    @Option(help: "Nucleus sampling: keep the smallest set of tokens whose probability reaches P, in (0, 1].")
    var topP: Double = 0.95

    @Option(help: "Seed of the sampler's random generator (default: random).")
    var seed: UInt64?

    @Option(help: "Repetition penalty over the tokens in context (1 = off).")
    var repetitionPenalty: Double = 1

    @Flag(help: "Keep generating past end-of-sequence tokens.")
    var ignoreEOS = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0, got \(maxTokens)") }
        guard temperature.isFinite, temperature >= 0 else {
            throw ValidationError("--temperature must be a finite number >= 0, got \(temperature)")
        }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0 (0 = off), got \(topK)") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw ValidationError("--repetition-penalty must be > 0, got \(repetitionPenalty)")
        }
    }

    var options: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed, maxTokens: maxTokens,
                        stopAtEndOfSequence: !ignoreEOS, repetitionPenalty: repetitionPenalty)
    }
}

/// Standard output and standard error, unbuffered.
enum Console {
    /// Writes `text` to standard output immediately (used to stream tokens).
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes one line to standard output.
    static func line(_ text: String = "") { out(text + "\n") }

    /// Writes one line to standard error.
    static func log(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Reports an error as the single line `mnemo: error: <message>`.
    static func error(_ message: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: "; ")
        log("mnemo: error: \(oneLine)")
    }
}

/// Minimal JSON text for output whose key order is part of the contract.
enum JSONText {
    /// A JSON number, or `null` when not finite (JSON has no NaN or infinity).
    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "null" }
        return "\(x)"
    }

    /// A JSON string literal.
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `{"k": v, ...}` in the given order; values are already JSON text.
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// `[a, b, ...]`; values are already JSON text.
    static func array(_ items: [String]) -> String {
        "[" + items.joined(separator: ", ") + "]"
    }
}

/// Text a token piece shows as in a table: special characters escaped.
func visiblePiece(_ text: String) -> String {
    let escaped = JSONText.string(text)
    return String(escaped.dropFirst().dropLast())
}

/// `text` padded with spaces to `width` characters (on the left when `right`-aligned).
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
