/// What `mnemo inspect` prints about a loaded model.
public struct ModelSummary: Sendable, CustomStringConvertible {
    /// The file format the weights came from.
    public enum SourceFormat: String, Sendable { case safetensors, gguf, llama2c }

    /// Tensor count and bytes of one storage type.
    public struct TypeUsage: Sendable, Equatable {
        public var tensorCount: Int
        public var byteCount: Int
    }

    public var format: SourceFormat
    public var config: ModelConfig
    public var parameterCount: Int
    /// Per storage type name (`"F32"`, `"F16"`, `"Q8_0"`, ...) of the bound tensors.
    public var tensorTypes: [String: TypeUsage]

    public var description: String {
        let c = config
        var lines = [
            "format: \(format.rawValue)",
            "architecture: \(c.architecture.rawValue)",
            "parameters: \(parameterCount)",
            "layers: \(c.layerCount), hidden: \(c.hiddenSize), intermediate: \(c.intermediateSize)",
            "heads: \(c.headCount), kv heads: \(c.kvHeadCount), head dim: \(c.headDim)",
            "vocabulary: \(c.vocabularySize), context length: \(c.contextLength)",
            "tied embeddings: \(c.tieWordEmbeddings)",
        ]
        if let r = c.rope {
            var scaling: String
            switch r.scaling {
            case .none: scaling = "none"
            case let .linear(f): scaling = "linear factor \(f)"
            case let .dynamic(f, m): scaling = "dynamic NTK factor \(f) (max positions \(m))"
            case let .yarn(p): scaling = "yarn factor \(p.factor) (original context \(p.originalContextLength))"
            case let .llama3(f, lo, hi, o):
                scaling = "llama3 factor \(f) low \(lo) high \(hi) (original context \(o))"
            }
            if r.frequencyFactors != nil { scaling += ", rope_freqs factors" }
            lines.append("rope: theta \(r.theta), dims \(r.dimension), pairing \(r.pairing.rawValue), scaling \(scaling)")
        } else {
            lines.append("positions: learned absolute embeddings")
        }
        for (name, usage) in tensorTypes.sorted(by: { $0.key < $1.key }) {
            lines.append("tensors \(name): \(usage.tensorCount) (\(usage.byteCount) bytes)")
        }
        return lines.joined(separator: "\n")
    }
}
