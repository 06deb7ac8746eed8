// TEMPORARY: stand-ins for the MnemoFormats API (COMMON.md) until branch `formats` lands.
// Deleted on merge. Only in-memory TensorSources are usable meanwhile.
import Foundation
import MnemoTensor
import MnemoFormats

public final class SafetensorsFile: TensorSource, @unchecked Sendable {
    public let url: URL
    public let tensorInfos: [String: TensorInfo] = [:]
    public init(url: URL) throws { self.url = url; throw ModelError.unrecognizedModel(path: url.path, reason: "safetensors reader not merged yet") }
    public func rawPointer(for name: String) throws -> UnsafeRawPointer { throw ModelError.missingConfig(key: name, file: url.path) }
    public func matrix(_ name: String) throws -> WeightMatrix { throw ModelError.missingConfig(key: name, file: url.path) }
}

public final class ShardedSafetensors: TensorSource, @unchecked Sendable {
    public let tensorInfos: [String: TensorInfo] = [:]
    public init(folder: URL) throws { throw ModelError.unrecognizedModel(path: folder.path, reason: "safetensors reader not merged yet") }
    public func rawPointer(for name: String) throws -> UnsafeRawPointer { throw ModelError.missingConfig(key: name, file: "") }
    public func matrix(_ name: String) throws -> WeightMatrix { throw ModelError.missingConfig(key: name, file: "") }
}

public struct Llama2cHeader: Sendable {
    public enum Version: Sendable { case legacy, v1 }
    public var dim = 0, hiddenDim = 0, layerCount = 0, headCount = 0, kvHeadCount = 0, vocabSize = 0, seqLen = 0
    public var sharedClassifier = true
    public var version: Version = .legacy
}

public final class Llama2cCheckpoint: TensorSource, @unchecked Sendable {
    public let url: URL
    public let header = Llama2cHeader()
    public let tensorInfos: [String: TensorInfo] = [:]
    public init(url: URL) throws { self.url = url; throw ModelError.unrecognizedModel(path: url.path, reason: "llama2.c reader not merged yet") }
    public func rawPointer(for name: String) throws -> UnsafeRawPointer { throw ModelError.missingConfig(key: name, file: url.path) }
    public func matrix(_ name: String) throws -> WeightMatrix { throw ModelError.missingConfig(key: name, file: url.path) }
}
