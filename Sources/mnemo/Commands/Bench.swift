import ArgumentParser

/// `mnemo bench`: the benchmark group; `mnemo bench` alone runs the model benchmark.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (the default, `bench model`, measures prompt processing and generation speed).",
        subcommands: [BenchModel.self],
        defaultSubcommand: BenchModel.self
    )
}
