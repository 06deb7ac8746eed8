import Foundation
import MnemoTensor
import MnemoFormats

/// A model's tensors with a PEFT LoRA adapter merged in: every targeted weight `W` becomes owned f32
/// `W + scale · B A` (the mapped file stays read-only); every other tensor is served from the base
/// source unchanged. Auxiliary tensors of the adapter file (`memory_cell.*`, `knn.*`, `mnemo.*`, e.g.
/// an RMT memory saved with the adapter) are served from it.
///
/// Port of the merge of huggingface/peft `src/peft/tuners/lora/layer.py` (`Linear.get_delta_weight`:
/// `transpose(B @ A, fan_in_fan_out) * scaling`). Adapter tensors are named
/// `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`, with `A` of shape `[r, in]` and `B`
/// `[out, r]`; the base weight is `<module>.weight`, `[out, in]` for `nn.Linear` and `[in, out]` for
/// GPT-2's Conv1D (PEFT sets `fan_in_fan_out` by module type, so the orientation here comes from the
/// architecture, `conv1DStorage`).
final class LoRAMergedSource: TensorSource, @unchecked Sendable {
    // @unchecked Sendable: all stored properties are immutable after init (the merged buffers are
    // written once, during init, and read-only afterwards).
    let base: TensorSource
    let adapter: SafetensorsFile
    let config: LoRAConfig
    let tensorInfos: [String: TensorInfo]
    /// Merged weights in the base tensor's stored orientation, by base tensor name.
    private let merged: [String: FloatStorage]
    /// Names served from the adapter file.
    private let fromAdapter: Set<String>

    /// Opens `adapter_config.json` + `adapter_model.safetensors` in `folder` and merges them into `base`.
    /// - Parameter conv1DStorage: base weights are stored `[in, out]` (Hugging Face GPT-2).
    /// - Throws: `LoRAError` naming the file and key or tensor, the safetensors reader's errors.
    /// - Complexity: O(r × in × out) per targeted weight, once at load.
    init(base: TensorSource, folder: URL, conv1DStorage: Bool) throws {
        let configURL = folder.appendingPathComponent("adapter_config.json")
        let weightsURL = folder.appendingPathComponent("adapter_model.safetensors")
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw LoRAError.missingFile(folder: folder.path, file: "adapter_config.json",
                                        reason: "adapter_model.safetensors is there but adapter_config.json is missing or unreadable")
        }
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let pickled = FileManager.default.fileExists(atPath: folder.appendingPathComponent("adapter_model.bin").path)
            throw LoRAError.missingFile(folder: folder.path, file: "adapter_model.safetensors",
                                        reason: pickled ? "only adapter_model.bin (a PyTorch pickle) is there; save the adapter with safe_serialization=True"
                                                        : "adapter_config.json is there but adapter_model.safetensors is missing")
        }
        let config = try LoRAConfig.decode(data, file: configURL.path)
        let adapter = try SafetensorsFile(url: weightsURL)
        let file = weightsURL.path
        self.base = base
        self.adapter = adapter
        self.config = config

        // Pair the factors by module; everything else must be auxiliary.
        var pairs: [String: (a: String?, b: String?)] = [:]
        var fromAdapter = Set<String>()
        for name in adapter.tensorInfos.keys.sorted() {
            if WeightBinder.isAuxiliary(name) {
                if base.tensorInfos[name] != nil {
                    throw LoRAError.duplicateTensor(file: file, tensor: name, other: "the model's weights")
                }
                fromAdapter.insert(name)
            } else if name.hasSuffix(".lora_A.weight") {
                pairs[String(name.dropLast(".lora_A.weight".count)), default: (nil, nil)].a = name
            } else if name.hasSuffix(".lora_B.weight") {
                pairs[String(name.dropLast(".lora_B.weight".count)), default: (nil, nil)].b = name
            } else {
                throw LoRAError.unknownTarget(file: file, tensor: name,
                                              reason: "not a LoRA factor (<module>.lora_A.weight / .lora_B.weight) or an auxiliary tensor")
            }
        }
        var infos = base.tensorInfos
        var merged: [String: FloatStorage] = [:]
        for module in pairs.keys.sorted() {
            let pair = pairs[module]!
            guard let a = pair.a else {
                throw LoRAError.missingPartner(file: file, tensor: pair.b ?? module, partner: module + ".lora_A.weight")
            }
            guard let b = pair.b else { throw LoRAError.missingPartner(file: file, tensor: a, partner: module + ".lora_B.weight") }
            let target = try Self.baseName(module: module, tensor: a, base: base, file: file)
            let info = base.tensorInfos[target]!
            let storage = try Self.merge(a: a, b: b, into: info, base: base, adapter: adapter, config: config,
                                         transposed: conv1DStorage, file: file)
            merged[target] = storage
            infos[target] = TensorInfo(name: target, dtype: .f32, typeName: "F32", shape: info.shape, offset: 0,
                                       byteCount: storage.count * MemoryLayout<Float>.size)
        }
        for name in fromAdapter { infos[name] = adapter.tensorInfos[name] }
        self.tensorInfos = infos
        self.merged = merged
        self.fromAdapter = fromAdapter
    }

    /// `base_model.model.<module>` -> `<module>.weight` in the base source (also without GPT-2's
    /// `transformer.` prefix, for checkpoints saved without it).
    private static func baseName(module: String, tensor: String, base: TensorSource, file: String) throws -> String {
        let prefix = "base_model.model."
        guard module.hasPrefix(prefix) else {
            throw LoRAError.unknownTarget(file: file, tensor: tensor, reason: "expected a PEFT name starting with \"\(prefix)\"")
        }
        let path = String(module.dropFirst(prefix.count))
        var candidates = [path + ".weight"]
        if path.hasPrefix("transformer.") { candidates.append(String(path.dropFirst("transformer.".count)) + ".weight") }
        guard let name = candidates.first(where: { base.tensorInfos[$0] != nil }) else {
            throw LoRAError.unknownTarget(file: file, tensor: tensor, reason: "its target \(candidates[0]) is not a weight of the model")
        }
        guard let shape = base.tensorInfos[name]?.shape, shape.count == 2 else {
            throw LoRAError.unknownTarget(file: file, tensor: tensor,
                                          reason: "its target \(name) has shape \(base.tensorInfos[name]?.shape ?? []), expected a 2-D weight matrix")
        }
        return name
    }

    /// Owned f32 `W + scale · B A` in `W`'s stored orientation.
    private static func merge(a: String, b: String, into info: TensorInfo, base: TensorSource, adapter: SafetensorsFile,
                              config: LoRAConfig, transposed: Bool, file: String) throws -> FloatStorage {
        let r = config.rank
        let (outFeatures, inFeatures) = transposed ? (info.shape[1], info.shape[0]) : (info.shape[0], info.shape[1])
        let aShape = adapter.tensorInfos[a]!.shape, bShape = adapter.tensorInfos[b]!.shape
        guard aShape == [r, inFeatures] else { throw LoRAError.shapeMismatch(file: file, tensor: a, expected: [r, inFeatures], found: aShape) }
        guard bShape == [outFeatures, r] else { throw LoRAError.shapeMismatch(file: file, tensor: b, expected: [outFeatures, r], found: bShape) }
        let matrixA = try adapter.matrix(a), matrixB = try adapter.matrix(b)
        let weight: WeightMatrix
        do { weight = try base.matrix(info.name) } catch {
            throw LoRAError.unknownTarget(file: file, tensor: a, reason: "its target \(info.name) cannot be read: \(error)")
        }
        var factorA = [Float](repeating: 0, count: r * inFeatures)
        var factorB = [Float](repeating: 0, count: outFeatures * r)
        factorA.withUnsafeMutableBufferPointer { matrixA.dequantizeRows(0, matrixA.rows, into: $0.baseAddress!) }
        factorB.withUnsafeMutableBufferPointer { matrixB.dequantizeRows(0, matrixB.rows, into: $0.baseAddress!) }
        let storage = FloatStorage(count: info.shape[0] * info.shape[1])
        weight.dequantizeRows(0, weight.rows, into: storage.pointer)
        // delta = scale · B A, [out, in]; added as is (nn.Linear) or transposed ([in, out], Conv1D).
        var delta = [Float](repeating: 0, count: outFeatures * inFeatures)
        factorB.withUnsafeBufferPointer { pb in
            factorA.withUnsafeBufferPointer { pa in
                delta.withUnsafeMutableBufferPointer { d in
                    BLAS.sgemm(m: outFeatures, n: inFeatures, k: r, alpha: Float(config.scale), a: pb.baseAddress!, lda: r,
                               b: pa.baseAddress!, ldb: inFeatures, c: d.baseAddress!, ldc: inFeatures)
                }
            }
        }
        let w = storage.pointer
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                w[transposed ? i * outFeatures + o : o * inFeatures + i] += delta[o * inFeatures + i]
            }
        }
        return storage
    }

    /// The adapter's summary: rank, scale and the merged weights.
    var mergedNames: [String] { merged.keys.sorted() }

    func rawPointer(for name: String) throws -> UnsafeRawPointer {
        if let storage = merged[name] { return UnsafeRawPointer(storage.pointer) }
        if fromAdapter.contains(name) { return try adapter.rawPointer(for: name) }
        return try base.rawPointer(for: name)
    }

    func matrix(_ name: String) throws -> WeightMatrix {
        if let storage = merged[name], let info = tensorInfos[name] {
            let (rows, cols) = info.matrixShape
            return WeightMatrix(dtype: .f32, rows: rows, cols: cols, base: UnsafeRawPointer(storage.pointer), owner: storage)
        }
        if fromAdapter.contains(name) { return try adapter.matrix(name) }
        return try base.matrix(name)
    }
}
