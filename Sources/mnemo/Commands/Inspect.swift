import ArgumentParser
import Foundation
import Mnemo

/// `mnemo inspect`: what a model file holds.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize a model: format, architecture, parameters, tensor types, context length, RoPE."
    )

    @Argument(help: "Model: a Hugging Face folder, a .gguf file or a llama2.c .bin checkpoint.")
    var path: String

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path): no such file or directory")
        }
    }

    func run() async throws {
        let model = try LanguageModel.load(from: URL(fileURLWithPath: path))
        let summary = model.summary
        if json {
            Console.line(Self.json(summary, path: path))
        } else {
            Console.line("model: \(path)")
            Console.line(summary.description)
            Console.line("bos: \(summary.config.bosTokenID.map(String.init) ?? "-"), eos: \(summary.config.eosTokenIDs)")
        }
    }

    static func json(_ summary: ModelSummary, path: String) -> String {
        let c = summary.config
        var rope = "null"
        if let r = c.rope {
            rope = JSONText.object([
                ("theta", JSONText.number(r.theta)),
                ("dimension", "\(r.dimension)"),
                ("pairing", JSONText.string(r.pairing.rawValue)),
                ("scaling", JSONText.string(scalingName(r.scaling))),
                ("frequency_factors", r.frequencyFactors == nil ? "false" : "true"),
            ])
        }
        let types = JSONText.object(summary.tensorTypes.sorted { $0.key < $1.key }.map { name, usage in
            (name, JSONText.object([("tensors", "\(usage.tensorCount)"), ("bytes", "\(usage.byteCount)")]))
        })
        return JSONText.object([
            ("path", JSONText.string(path)),
            ("format", JSONText.string(summary.format.rawValue)),
            ("architecture", JSONText.string(c.architecture.rawValue)),
            ("parameters", "\(summary.parameterCount)"),
            ("layers", "\(c.layerCount)"),
            ("hidden_size", "\(c.hiddenSize)"),
            ("intermediate_size", "\(c.intermediateSize)"),
            ("heads", "\(c.headCount)"),
            ("kv_heads", "\(c.kvHeadCount)"),
            ("head_dim", "\(c.headDim)"),
            ("vocabulary_size", "\(c.vocabularySize)"),
            ("context_length", "\(c.contextLength)"),
            ("tied_embeddings", c.tieWordEmbeddings ? "true" : "false"),
            ("bos_token_id", c.bosTokenID.map(String.init) ?? "null"),
            ("eos_token_ids", JSONText.array(c.eosTokenIDs.map(String.init))),
            ("rope", rope),
            ("tensor_types", types),
        ])
    }

    static func scalingName(_ scaling: RoPEScaling) -> String {
        switch scaling {
        case .none: return "none"
        case let .linear(factor): return "linear \(factor)"
        case let .dynamic(factor, _): return "dynamic \(factor)"
        case let .yarn(parameters): return "yarn \(parameters.factor)"
        case let .llama3(factor, _, _, _): return "llama3 \(factor)"
        }
    }
}
