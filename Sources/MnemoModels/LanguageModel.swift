import Foundation
import MnemoTensor
import MnemoFormats

/// A decoder-only language model loaded from a Hugging Face folder, a GGUF file or a llama2.c
/// checkpoint, with a KV-cached forward pass.
///
/// ```swift
/// let model = try LanguageModel.load(from: URL(fileURLWithPath: "stories260K.bin"))
/// let cache = model.makeCache()
/// var logits = try model.forward([1], cache: cache, allLogits: false)
/// ```
public final class LanguageModel: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after load (weights are read-only
    // views of memory-mapped files or owned buffers), so concurrent forwards on distinct caches are safe.
    public let config: ModelConfig
    public let url: URL
    public let summary: ModelSummary
    let weights: ModelWeights
    /// Keeps the mapped files alive.
    let source: TensorSource

    init(config: ModelConfig, url: URL, weights: ModelWeights, source: TensorSource,
         format: ModelSummary.SourceFormat, bound: [TensorInfo]) {
        self.config = config
        self.url = url
        self.weights = weights
        self.source = source
        var types: [String: ModelSummary.TypeUsage] = [:]
        var parameters = 0
        for info in bound {
            parameters += info.shape.reduce(1, *)
            types[info.typeName, default: .init(tensorCount: 0, byteCount: 0)].tensorCount += 1
            types[info.typeName, default: .init(tensorCount: 0, byteCount: 0)].byteCount += info.byteCount
        }
        summary = ModelSummary(format: format, config: config, parameterCount: parameters, tensorTypes: types)
    }

    /// The same weights under a modified configuration (tests: e.g. a different sliding window).
    func replacingConfig(_ newConfig: ModelConfig) -> LanguageModel {
        let copy = LanguageModel(config: newConfig, url: url, weights: weights, source: source,
                                 format: summary.format, bound: [])
        return copy
    }

    /// Number of weights (tied matrices counted once).
    public var parameterCount: Int { summary.parameterCount }

    /// A fresh, empty cache for this model (grows geometrically as positions are added).
    public func makeCache() -> KVCache {
        KVCache(layerCount: config.layerCount, kvWidth: config.kvWidth, kvHeadCount: config.kvHeadCount, rope: config.rope)
    }

    /// A fresh cache with room for `capacity` positions allocated up front (e.g. `config.contextLength`).
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layerCount: config.layerCount, kvWidth: config.kvWidth, kvHeadCount: config.kvHeadCount, rope: config.rope,
                initialCapacity: max(1, capacity))
    }

    /// Loads a model: a Hugging Face folder (`config.json` + `model.safetensors` or a sharded
    /// index), a `.gguf` file, or a llama2.c `.bin` checkpoint (legacy or v1 header). Weights are
    /// memory-mapped; only GPT-2's Conv1D matrices are transposed into owned memory. A PEFT LoRA
    /// adapter in the folder (`adapter_config.json` + `adapter_model.safetensors`) is merged at load:
    /// each targeted weight becomes owned f32 `W + scale · B A` (see `Docs/Memory.md`).
    /// - Throws: `ModelError`, `LoRAError` for a bad adapter, or the format reader's error for a malformed file.
    public static func load(from url: URL) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelError.unrecognizedModel(path: url.path, reason: "no such file or directory")
        }
        if isDirectory.boolValue { return try loadHuggingFace(folder: url) }
        if try readMagic(url) == Array("GGUF".utf8) { return try loadGGUF(url) }
        if url.pathExtension == "safetensors" { return try loadHuggingFace(folder: url.deletingLastPathComponent()) }
        return try loadLlama2c(url)
    }

    private static func readMagic(_ url: URL) throws -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }  // closing a read-only handle cannot lose data
            return Array(try handle.read(upToCount: 4) ?? Data())
        } catch {
            throw ModelError.unrecognizedModel(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    static func loadHuggingFace(folder: URL) throws -> LanguageModel {
        let configURL = folder.appendingPathComponent("config.json")
        guard let configData = FileManager.default.contents(atPath: configURL.path) else {
            throw ModelError.unrecognizedModel(path: folder.path, reason: "no config.json")
        }
        let hf = try HFConfig.decode(configData, file: configURL.path)
        var generation: HFGenerationConfig?
        let generationURL = folder.appendingPathComponent("generation_config.json")
        if let data = FileManager.default.contents(atPath: generationURL.path) {
            generation = try HFGenerationConfig.decode(data, file: generationURL.path)
        }
        let config = try hf.modelConfig(file: configURL.path, generation: generation)
        var source: TensorSource
        let weightsPath: String
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors.index.json").path) {
            source = try ShardedSafetensors(folder: folder)
            weightsPath = folder.appendingPathComponent("model.safetensors.index.json").path
        } else if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
            let file = folder.appendingPathComponent("model.safetensors")
            source = try SafetensorsFile(url: file)
            weightsPath = file.path
        } else {
            throw ModelError.unrecognizedModel(path: folder.path, reason: "no model.safetensors or model.safetensors.index.json")
        }
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("adapter_config.json").path)
            || FileManager.default.fileExists(atPath: folder.appendingPathComponent("adapter_model.safetensors").path) {
            source = try LoRAMergedSource(base: source, folder: folder, conv1DStorage: config.architecture == .gpt2)
        }
        let prefix = source.tensorInfos["wte.weight"] != nil ? "" : "transformer."
        let binder = WeightBinder(source: source, file: weightsPath)
        let weights = try ModelWeights.bind(config, naming: .huggingFace(gpt2Prefix: prefix), binder: binder)
        return LanguageModel(config: config, url: folder, weights: weights, source: source, format: .safetensors,
                             bound: binder.boundInfos)
    }

    static func loadGGUF(_ url: URL) throws -> LanguageModel {
        let file = try GGUFFile(url: url)
        let binder = WeightBinder(source: file, file: url.path)
        var factors: [Float]?
        if let info = file.tensorInfos["rope_freqs.weight"] {
            factors = binder.vector("rope_freqs.weight", info.shape.reduce(1, *))
        }
        let config = try ModelConfig.fromGGUF(metadata: file.metadata, tensorInfos: file.tensorInfos,
                                              ropeFrequencyFactors: factors, file: url.path)
        let weights = try ModelWeights.bind(config, naming: .gguf, binder: binder)
        return LanguageModel(config: config, url: url, weights: weights, source: file, format: .gguf,
                             bound: binder.boundInfos)
    }

    static func loadLlama2c(_ url: URL) throws -> LanguageModel {
        let checkpoint = try Llama2cCheckpoint(url: url)
        let config = try ModelConfig.fromLlama2c(checkpoint.header, file: url.path)
        let binder = WeightBinder(source: checkpoint, file: url.path)
        binder.ignore { $0.contains("freq_cis") }
        let weights = try ModelWeights.bind(config, naming: .huggingFace(gpt2Prefix: ""), binder: binder)
        return LanguageModel(config: config, url: url, weights: weights, source: checkpoint, format: .llama2c,
                             bound: binder.boundInfos)
    }

    /// Builds a model from any tensor source with HF names (tests, converters).
    static func make(config: ModelConfig, source: TensorSource, naming: TensorNaming, url: URL) throws -> LanguageModel {
        let binder = WeightBinder(source: source, file: url.path)
        let weights = try ModelWeights.bind(config, naming: naming, binder: binder)
        return LanguageModel(config: config, url: url, weights: weights, source: source, format: .safetensors,
                             bound: binder.boundInfos)
    }
}
