// TEMPORARY: stand-ins for the MnemoFormats API (COMMON.md) until branch `formats` lands.
// Deleted on merge. Only in-memory TensorSources are usable meanwhile.
import Foundation
import MnemoTensor

public struct TensorInfo: Sendable {
    public var name: String
    public var dtype: DType?
    public var typeName: String
    public var shape: [Int]
    public var offset: Int
    public var byteCount: Int
    public init(name: String, dtype: DType?, typeName: String, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name; self.dtype = dtype; self.typeName = typeName; self.shape = shape
        self.offset = offset; self.byteCount = byteCount
    }
}

public protocol TensorSource: AnyObject, Sendable {
    var tensorInfos: [String: TensorInfo] { get }
    func rawPointer(for name: String) throws -> UnsafeRawPointer
    func matrix(_ name: String) throws -> WeightMatrix
}

public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return intValue.map(Double.init)
        }
    }
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var arrayValue: [GGUFValue]? { if case let .array(a) = self { return a }; return nil }
    public var intArray: [Int]? { arrayValue.flatMap { a in let r = a.compactMap(\.intValue); return r.count == a.count ? r : nil } }
}

public final class GGUFFile: TensorSource, @unchecked Sendable {
    public let url: URL
    public let metadata: [String: GGUFValue] = [:]
    public let tensorInfos: [String: TensorInfo] = [:]
    public init(url: URL) throws { self.url = url; throw ModelError.unrecognizedModel(path: url.path, reason: "GGUF reader not merged yet") }
    public func rawPointer(for name: String) throws -> UnsafeRawPointer { throw ModelError.missingConfig(key: name, file: url.path) }
    public func matrix(_ name: String) throws -> WeightMatrix { throw ModelError.missingConfig(key: name, file: url.path) }
}

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
