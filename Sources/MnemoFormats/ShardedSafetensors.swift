import Foundation
import MnemoTensor

/// A Hugging Face model folder whose weights are split over several `.safetensors` shards listed
/// by `model.safetensors.index.json` (`{"weight_map": {tensor name: shard file name}}`).
///
/// When the folder has no index but a single `model.safetensors`, that file is used alone.
///
/// ```swift
/// let weights = try ShardedSafetensors(folder: modelFolder)
/// let embed = try weights.matrix("model.embed_tokens.weight")
/// ```
/// `TensorInfo.offset` is relative to the tensor's own shard (see `shard(for:)`).
public final class ShardedSafetensors: TensorSource {
    /// The model folder.
    public let folder: URL
    /// Shards by file name.
    public let shards: [String: SafetensorsFile]
    /// Shard file name of every tensor.
    public let weightMap: [String: String]
    /// Every tensor, by name.
    public let tensorInfos: [String: TensorInfo]

    /// Opens every shard named by `folder/model.safetensors.index.json`.
    /// - Throws: `SafetensorsError.invalidIndex` for a malformed index or unsafe shard name,
    ///   `.tensorNotInShard` when a listed tensor is absent from its shard, and the errors of
    ///   `SafetensorsFile(url:)` / `MappedFile(url:)` for each shard.
    public init(folder: URL) throws {
        self.folder = folder
        let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
        let single = folder.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: indexURL.path) else {
            guard FileManager.default.fileExists(atPath: single.path) else {
                throw SafetensorsError.invalidIndex(file: folder.path, detail: "no model.safetensors.index.json or model.safetensors in the folder")
            }
            let file = try SafetensorsFile(url: single)
            shards = ["model.safetensors": file]
            weightMap = file.tensorInfos.mapValues { _ in "model.safetensors" }
            tensorInfos = file.tensorInfos
            return
        }
        let indexPath = indexURL.path
        let data = try MappedFile(url: indexURL)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes: data.base, count: data.count), options: [])
        } catch {
            throw SafetensorsError.invalidIndex(file: indexPath, detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any], let map = object["weight_map"] as? [String: Any] else {
            throw SafetensorsError.invalidIndex(file: indexPath, detail: "expected an object with a \"weight_map\" object")
        }
        var weightMap = [String: String]()
        for (tensor, value) in map {
            guard let shard = value as? String, !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                throw SafetensorsError.invalidIndex(file: indexPath, detail: "weight_map['\(tensor)'] = \(value), expected a shard file name in the same folder")
            }
            weightMap[tensor] = shard
        }
        var shards = [String: SafetensorsFile]()
        for shard in Set(weightMap.values).sorted() {
            shards[shard] = try SafetensorsFile(url: folder.appendingPathComponent(shard))
        }
        var infos = [String: TensorInfo](minimumCapacity: weightMap.count)
        for (tensor, shard) in weightMap {
            guard let info = shards[shard]?.tensorInfos[tensor] else {
                throw SafetensorsError.tensorNotInShard(index: indexPath, tensor: tensor, shard: shard)
            }
            infos[tensor] = info
        }
        self.shards = shards
        self.weightMap = weightMap
        self.tensorInfos = infos
    }

    /// The shard holding tensor `name`.
    /// - Throws: `SafetensorsError.missingTensor`.
    public func shard(for name: String) throws -> SafetensorsFile {
        guard let shardName = weightMap[name], let shard = shards[shardName] else {
            throw SafetensorsError.missingTensor(file: folder.path, name: name)
        }
        return shard
    }

    /// Pointer to the first byte of tensor `name` in its shard.
    /// - Throws: `SafetensorsError.missingTensor`.
    public func rawPointer(for name: String) throws -> UnsafeRawPointer {
        try shard(for: name).rawPointer(for: name)
    }

    /// A zero-copy 2-D view of tensor `name`.
    /// - Throws: `SafetensorsError.missingTensor` or `.unsupportedType`.
    public func matrix(_ name: String) throws -> WeightMatrix {
        try shard(for: name).matrix(name)
    }
}
