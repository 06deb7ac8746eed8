import ArgumentParser
import Foundation
import Mnemo

/// How repetitions are summarised.
enum BenchReport: String, ExpressibleByArgument, CaseIterable, Sendable {
    case mean, best
}

/// `mnemo bench model`: prompt-processing and generation throughput, like llama-bench's pp512/tg128.
struct BenchModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prompt processing (ppN) and generation (tgN) tokens per second of a model.",
        discussion: """
            ppN: one batched forward pass of N synthetic token ids on a fresh cache, per repetition.
            tgN: N single-token forward passes (greedy) after a one-token prompt, per repetition.
            Results are the mean ± sample standard deviation (or the best) over the repetitions.
            """
    )

    @Option(help: "Model: a Hugging Face folder, a .gguf file or a llama2.c .bin checkpoint.")
    var model: String

    @Option(help: "Threads for the kernels and BLAS (default: all cores).")
    var threads: Int?

    @Option(help: "Prompt tokens per prefill (0 skips the test).")
    var promptTokens: Int = 512

    @Option(help: "Generated tokens per generation run (0 skips the test).")
    var genTokens: Int = 128

    @Option(help: "Repetitions of each test.")
    var repetitions: Int = 3

    @Option(help: "How to summarise the repetitions.")
    var report: BenchReport = .mean

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1, got \(threads)") }
        guard promptTokens >= 0 else { throw ValidationError("--prompt-tokens must be >= 0, got \(promptTokens)") }
        guard genTokens >= 0 else { throw ValidationError("--gen-tokens must be >= 0, got \(genTokens)") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be >= 1, got \(repetitions)") }
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("--model \(model): no such file or directory")
        }
    }

    func run() async throws {
        if let threads { Threading.threadCount = threads }
        let languageModel = try LanguageModel.load(from: URL(fileURLWithPath: model))
        let config = languageModel.config
        if promptTokens > config.contextLength {
            throw ValidationError("--prompt-tokens \(promptTokens) exceeds the model's context length \(config.contextLength)")
        }
        if genTokens + 1 > config.contextLength {
            throw ValidationError("--gen-tokens \(genTokens) (+1 prompt token) exceeds the model's context length \(config.contextLength)")
        }
        let types = languageModel.summary.tensorTypes.keys.sorted().joined(separator: ",")
        if !json {
            Console.line("model: \(model)")
            Console.line("parameters: \(languageModel.parameterCount), types: \(types), threads: \(Threading.threadCount)")
        }
        var results: [(String, [Double])] = []
        if promptTokens > 0 {
            // Synthetic ids spread over the vocabulary (deterministic).
            var random = Xoshiro256StarStar(seed: 0x6D6E_656D_6F)
            let ids = (0 ..< promptTokens).map { _ in Int(random.next() % UInt64(config.vocabularySize)) }
            var rates: [Double] = []
            for _ in 0 ..< repetitions {
                let cache = languageModel.makeCache()
                let start = ContinuousClock.now
                _ = try languageModel.forward(ids, cache: cache, allLogits: false)
                rates.append(Double(promptTokens) / Self.seconds(since: start))
            }
            results.append(("pp\(promptTokens)", rates))
            if !json { Console.line(summaryLine("pp\(promptTokens)", rates)) }
        }
        if genTokens > 0 {
            let first = config.bosTokenID ?? 0
            var rates: [Double] = []
            for _ in 0 ..< repetitions {
                let cache = languageModel.makeCache()
                var logits = try languageModel.forward([first], cache: cache, allLogits: false)
                let start = ContinuousClock.now
                for _ in 0 ..< genTokens {
                    logits = try languageModel.forward([Sampler.argmax(logits)], cache: cache, allLogits: false)
                }
                rates.append(Double(genTokens) / Self.seconds(since: start))
            }
            results.append(("tg\(genTokens)", rates))
            if !json { Console.line(summaryLine("tg\(genTokens)", rates)) }
        }
        if json {
            Console.line(JSONText.object([
                ("model", JSONText.string(model)),
                ("parameters", "\(languageModel.parameterCount)"),
                ("types", JSONText.string(types)),
                ("threads", "\(Threading.threadCount)"),
                ("repetitions", "\(repetitions)"),
                ("results", JSONText.object(results.map { name, rates in
                    let (mean, sd) = Self.meanAndDeviation(rates)
                    return (name, JSONText.object([
                        ("tokens_per_second_mean", JSONText.number(mean)),
                        ("tokens_per_second_sd", JSONText.number(sd)),
                        ("tokens_per_second_best", JSONText.number(rates.max())),
                        ("samples", JSONText.array(rates.map { JSONText.number($0) })),
                    ]))
                })),
            ]))
        }
    }

    private func summaryLine(_ name: String, _ rates: [Double]) -> String {
        switch report {
        case .best:
            return pad(name, 6) + String(format: " %.2f tok/s (best of %d)", rates.max() ?? 0, rates.count)
        case .mean:
            let (mean, sd) = Self.meanAndDeviation(rates)
            return pad(name, 6) + String(format: " %.2f ± %.2f tok/s (%d runs)", mean, sd, rates.count)
        }
    }

    static func meanAndDeviation(_ xs: [Double]) -> (Double, Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (mean, 0) }
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)
        return (mean, variance.squareRoot())
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return max(1e-9, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}
