import Foundation
import MnemoModels

/// Which model a memory snapshot was made with: a content checksum plus the shape facts that make a
/// mismatch readable ("layerCount is 2 in the snapshot, 4 in the loaded model").
///
/// **The checksum** (`method` = `ModelIdentity.method`) is SHA-256 over the model's weight files in
/// a fixed order (a Hugging Face folder: `config.json`, then `model.safetensors` or the index and its
/// shards; a GGUF or llama2.c checkpoint: the file itself). Each file contributes its name and size,
/// then ALL its bytes when it is at most `wholeFileLimit` (64 MiB), else a sample: the first 4 MiB
/// (headers: safetensors' tensor table, GGUF metadata and tensor infos, the llama2.c config), the last
/// 1 MiB and 1024 blocks of 4 KiB at evenly spaced offsets. The f32 values a plan takes from the
/// checkpoint (kNN gates, RMT memory embeddings) are hashed in full, separately (`planTensors`), since
/// a sample could miss them.
///
/// Why: SHA-256 here runs at ~216 MB/s in a release build (measured on the development machine), so
/// hashing a 4 GB checkpoint would cost ~20 s on every save and load, while the sample costs ~0.05 s
/// plus page faults. Any fine-tune, quantization or re-export changes the header or most blocks, so
/// it is caught; an edit confined to a few weights of a file over 64 MiB that misses every sampled
/// block is not (documented in Docs/Memory.md). Paths and timestamps are not hashed: a copied or
/// moved model keeps its checksum.
public struct ModelIdentity: Codable, Sendable, Equatable {
    /// Name of the checksum recipe (changes if the recipe ever changes).
    public static let method = "sha256-files-v1"
    /// Which bytes of a weight file are hashed.
    struct Sampling: Sendable {
        /// Files up to this size are hashed whole.
        var wholeFileLimit = 64 << 20
        var headBytes = 4 << 20
        var tailBytes = 1 << 20
        var blocks = 1024
        var blockBytes = 4096
    }

    /// `"sha256:<64 hex digits>"`.
    public var checksum: String
    public var method: String
    /// The model's file or folder name (for messages only; not compared).
    public var name: String
    public var architecture: String
    public var layerCount: Int
    public var hiddenSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var contextLength: Int
    /// SHA-256 of the f32 values the plan reads from the checkpoint (kNN gate biases, RMT memory
    /// embeddings), or nil when the plan reads none.
    public var planTensors: String?

    /// Computes the identity of `model` (files only; `planTensors` is nil).
    /// - Throws: `MemorySnapshotError.io` when a model file cannot be read.
    /// - Complexity: reads at most 64 MiB, or ~9 MiB, per weight file.
    public static func compute(model: LanguageModel) throws -> ModelIdentity {
        var hash = SHA256()
        hash.update(Array("mnemo model checksum \(method)\n".utf8))
        for file in try weightFiles(of: model) {
            try hashFile(file, into: &hash)
        }
        let c = model.config
        return ModelIdentity(checksum: "sha256:" + hash.hexDigest(), method: method, name: model.url.lastPathComponent,
                             architecture: c.architecture.rawValue, layerCount: c.layerCount, hiddenSize: c.hiddenSize,
                             headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim,
                             vocabularySize: c.vocabularySize, contextLength: c.contextLength, planTensors: nil)
    }

    /// `"sha256:..."` of `values` (each array prefixed by its length), or nil when there are none.
    static func checksum(of values: [[Float]]) -> String? {
        guard values.contains(where: { !$0.isEmpty }) else { return nil }
        var hash = SHA256()
        for array in values {
            hash.update(Array("values \(array.count)\n".utf8))
            SnapshotBytes.data(array).withUnsafeBytes { hash.update($0) }
        }
        return "sha256:" + hash.hexDigest()
    }

    /// One line naming what differs between the snapshot's model (`self`) and `current`, or nil
    /// when they are the same model (`name` is not compared: a moved model is the same model).
    func difference(from current: ModelIdentity) -> String? {
        let facts: [(String, String, String)] = [
            ("architecture", architecture, current.architecture),
            ("layerCount", "\(layerCount)", "\(current.layerCount)"),
            ("hiddenSize", "\(hiddenSize)", "\(current.hiddenSize)"),
            ("headCount", "\(headCount)", "\(current.headCount)"),
            ("kvHeadCount", "\(kvHeadCount)", "\(current.kvHeadCount)"),
            ("headDim", "\(headDim)", "\(current.headDim)"),
            ("vocabularySize", "\(vocabularySize)", "\(current.vocabularySize)"),
            ("contextLength", "\(contextLength)", "\(current.contextLength)"),
        ]
        let sums = "(model checksum \(checksum) in the snapshot, \(current.checksum) now)"
        if let (key, saved, now) = facts.first(where: { $0.1 != $0.2 }) {
            return "\(key) is \(saved) in the snapshot (model \(name)), \(now) in the loaded model \(current.name) \(sums)"
        }
        if method != current.method {
            return "checksum method \(method) in the snapshot, \(current.method) in this build \(sums)"
        }
        if checksum != current.checksum {
            return "same shape, different weights: snapshot model \(name), loaded model \(current.name) \(sums)"
        }
        if planTensors != current.planTensors {
            return "the checkpoint values the plan reads (kNN gate biases, RMT memory embeddings) differ: " +
                "\(planTensors ?? "none") in the snapshot, \(current.planTensors ?? "none") now"
        }
        return nil
    }

    /// The files the model was loaded from, in hashing order.
    static func weightFiles(of model: LanguageModel) throws -> [URL] {
        let url = model.url
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw MemorySnapshotError.io(file: url.path, detail: "model file is gone; cannot compute the model checksum")
        }
        guard isDirectory.boolValue else { return [url] }
        let index = url.appendingPathComponent("model.safetensors.index.json")
        guard FileManager.default.fileExists(atPath: index.path) else {
            return [url.appendingPathComponent("config.json"), url.appendingPathComponent("model.safetensors")]
        }
        // The shards the index names (its weight_map values), sorted.
        let data: Data
        do { data = try Data(contentsOf: index) } catch {
            throw MemorySnapshotError.io(file: index.path, detail: "cannot read for the model checksum: \(error.localizedDescription)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw MemorySnapshotError.io(file: index.path, detail: "not JSON any more; cannot compute the model checksum")
        }
        let map = (object as? [String: Any])?["weight_map"] as? [String: Any] ?? [:]
        let shards = Set(map.values.compactMap { $0 as? String }).sorted()
        return [url.appendingPathComponent("config.json"), index] + shards.map { url.appendingPathComponent($0) }
    }

    /// Hashes the file's name, size and bytes (all of them, or the sample described above).
    static func hashFile(_ url: URL, into hash: inout SHA256, sampling: Sampling = Sampling()) throws {
        let handle: FileHandle
        let size: Int
        do {
            handle = try FileHandle(forReadingFrom: url)
            size = Int(try handle.seekToEnd())
        } catch {
            throw MemorySnapshotError.io(file: url.path, detail: "cannot read for the model checksum: \(error.localizedDescription)")
        }
        defer { try? handle.close() }  // closing a read-only handle cannot lose data
        hash.update(Array("file \(url.lastPathComponent) \(size)\n".utf8))
        var ranges: [Range<Int>] = []
        if size <= sampling.wholeFileLimit {
            ranges = [0 ..< size]
        } else {
            ranges.append(0 ..< sampling.headBytes)
            for i in 0..<sampling.blocks {
                let start = Int(Double(size - sampling.blockBytes) * Double(i) / Double(max(1, sampling.blocks - 1)))
                ranges.append(start ..< start + sampling.blockBytes)
            }
            ranges.append(size - sampling.tailBytes ..< size)
        }
        for range in ranges {
            do {
                try handle.seek(toOffset: UInt64(range.lowerBound))
                let bytes = try handle.read(upToCount: range.count) ?? Data()
                guard bytes.count == range.count else {
                    throw MemorySnapshotError.io(file: url.path, detail: "short read at offset \(range.lowerBound) while computing the model checksum")
                }
                bytes.withUnsafeBytes { hash.update($0) }
            } catch let error as MemorySnapshotError {
                throw error
            } catch {
                throw MemorySnapshotError.io(file: url.path, detail: "cannot read for the model checksum: \(error.localizedDescription)")
            }
        }
    }
}

/// Model identities computed so far, one per loaded `LanguageModel` (hashing the weights is not free,
/// and every `MemoryModel` over the same model shares its identity). Entries hold the model weakly.
/// `@unchecked Sendable`: `entries` is only read and written under `lock`.
final class ModelIdentityRegistry: @unchecked Sendable {
    static let shared = ModelIdentityRegistry()

    private struct Entry {
        weak var model: LanguageModel?
        let identity: ModelIdentity
    }
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]

    /// The identity of `model`, computed on first use.
    /// - Throws: `MemorySnapshotError.io` when a model file cannot be read.
    func identity(of model: LanguageModel) throws -> ModelIdentity {
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[ObjectIdentifier(model)], entry.model === model { return entry.identity }
        entries = entries.filter { $0.value.model != nil }
        let identity = try ModelIdentity.compute(model: model)
        entries[ObjectIdentifier(model)] = Entry(model: model, identity: identity)
        return identity
    }
}
