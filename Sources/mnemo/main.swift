// mnemo: the command-line interface. Thin: parsing, output formats and error reporting only.
import ArgumentParser
import Foundation
import Mnemo

/// The root command.
struct Mnemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnemo",
        abstract: "Run pretrained transformer language models on the CPU: generate, score, stream documents with memory, index, summarize, inspect, benchmark, evaluate.",
        version: "0.1.0",
        subcommands: [Generate.self, Score.self, Stream.self, IndexCommand.self, Summarize.self, Tokenize.self, Inspect.self, Bench.self, Eval.self]
    )
}

extension Mnemo {
    /// Our own entry point instead of `Mnemo.main()` so that every error - argument or runtime -
    /// reaches the user as ONE line `mnemo: error: <message>` on standard error with a non-zero
    /// status, while help and version requests still print normally and exit 0.
    static func runAndExit() async -> Never {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let text = message(for: error)
            if !text.isEmpty { Console.error(text) }
            Foundation.exit(code.rawValue)
        }
    }
}

await Mnemo.runAndExit()
