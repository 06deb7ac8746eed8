import ArgumentParser

/// `mnemo bench`: the benchmark group; `mnemo bench` alone runs the model benchmark.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: model (the default; prompt processing and generation speed), tokenizer, index.",
        subcommands: [BenchModel.self, BenchTokenizer.self, BenchIndex.self],
        defaultSubcommand: BenchModel.self
    )
}
