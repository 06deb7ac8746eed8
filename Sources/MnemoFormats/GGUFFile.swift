import Foundation
import MnemoTensor

/// A memory-mapped GGUF v2/v3 file: metadata key/values and tensors read in place.
///
/// Layout (llama.cpp `docs/gguf.md`, `gguf-py/gguf/gguf_reader.py`): magic "GGUF", version u32,
/// tensor count u64, metadata count u64, metadata key/values, tensor infos (name, n_dims u32,
/// ne[n_dims] u64, ggml type u32, offset u64), padding to `general.alignment` (default 32), data.
///
/// ```swift
/// let gguf = try GGUFFile(url: url)
/// let arch = gguf.metadata["general.architecture"]?.stringValue
/// let wq = try gguf.matrix("blk.0.attn_q.weight")   // shape [out, in]
/// ```
/// Tensor shapes are reported outermost first (the reverse of ggml's `ne`).
public final class GGUFFile: TensorSource {
    /// Deepest array-of-array nesting accepted in metadata.
    public static let maximumArrayNesting = 8
    /// Most tensor dimensions accepted (GGML_MAX_DIMS).
    public static let maximumDimensions = 4

    /// The mapped bytes.
    public let file: MappedFile
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// All metadata, by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// Every tensor, by name (offsets absolute).
    public let tensorInfos: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    /// The ggml type of every tensor, by name.
    public let tensorTypes: [String: GGMLType]

    /// The file URL.
    public var url: URL { file.url }

    /// Maps and parses the GGUF file at `url`.
    /// - Throws: `MappedFileError` when the file cannot be read, `GGUFError` when it is not valid
    ///   GGUF v2/v3 (bad magic, big-endian, truncated, bad counts, types, offsets...).
    /// - Complexity: O(header bytes); tensor data is not touched.
    public convenience init(url: URL) throws {
        try self.init(file: MappedFile(url: url))
    }

    /// Parses an already mapped file.
    /// - Throws: `GGUFError`.
    public init(file: MappedFile) throws {
        self.file = file
        let path = file.url.path
        var parser = GGUFParser(reader: ByteReader(file), path: path)
        do {
            let header = try parser.parseHeader()
            version = header.version
            metadata = header.metadata
            metadataKeys = header.keys
            alignment = header.alignment
            dataOffset = header.dataOffset
            tensorNames = header.tensors.map(\.info.name)
            tensorTypes = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.info.name, $0.type) })
            tensorInfos = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.info.name, $0.info) })
        } catch let overrun as ByteReaderOverrun {
            throw GGUFError.truncated(file: path, overrun)
        }
    }

    /// Pointer to the first byte of tensor `name`.
    /// - Throws: `GGUFError.missingTensor`.
    public func rawPointer(for name: String) throws -> UnsafeRawPointer {
        guard let info = tensorInfos[name] else { throw GGUFError.missingTensor(file: file.url.path, name: name) }
        return file.base + info.offset
    }

    /// A zero-copy `rows x cols` view of tensor `name` (`cols` = ne[0]; all outer dimensions are
    /// folded into rows; 1-D tensors are `1 x n`).
    /// - Throws: `GGUFError.missingTensor`, or `.unsupportedType` unless F32/F16/BF16/Q8_0.
    public func matrix(_ name: String) throws -> WeightMatrix {
        guard let info = tensorInfos[name] else { throw GGUFError.missingTensor(file: file.url.path, name: name) }
        guard let dtype = info.dtype else {
            throw GGUFError.unsupportedType(file: file.url.path, tensor: name, typeName: info.typeName)
        }
        let (rows, cols) = info.matrixShape
        return WeightMatrix(dtype: dtype, rows: rows, cols: cols, base: file.base + info.offset, owner: file)
    }
}

/// The parsed header of a GGUF file.
struct GGUFHeader {
    var version: UInt32
    var metadata: [String: GGUFValue]
    var keys: [String]
    var alignment: Int
    var dataOffset: Int
    var tensors: [(info: TensorInfo, type: GGMLType)]
}

/// Reads the GGUF header with a bounds-checked cursor.
struct GGUFParser {
    var reader: ByteReader
    let path: String

    /// Value type ids (GGUF spec `gguf_metadata_value_type`).
    private static let minimumValueBytes: [UInt32: Int] = [
        0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8,
    ]

    mutating func parseHeader() throws -> GGUFHeader {
        let magic = try reader.readBytes(4, "magic")
        guard Array(magic) == [0x47, 0x47, 0x55, 0x46] else {
            throw GGUFError.badMagic(file: path, found: Array(magic))
        }
        let version = try reader.readUInt32("version")
        if version & 0xFFFF == 0 && version != 0 {
            throw GGUFError.bigEndian(file: path, rawVersion: version)
        }
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: path, version: version) }
        let tensorCount = try reader.readUInt64("tensor count")
        let kvCount = try reader.readUInt64("metadata key/value count")
        // Each key/value needs >= 13 bytes (8-byte key length, 4-byte type, 1-byte value).
        try checkCount(kvCount, minimumBytes: 13, "metadata key/value count")

        var metadata = [String: GGUFValue](minimumCapacity: Int(kvCount))
        var keys = [String]()
        keys.reserveCapacity(Int(kvCount))
        for index in 0..<Int(kvCount) {
            let key = try reader.readString64("metadata key #\(index)")
            let typeOffset = reader.offset
            let type = try reader.readUInt32("value type of '\(key)'")
            let value = try readValue(type: type, key: key, typeOffset: typeOffset, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw GGUFError.duplicateKey(file: path, key: key) }
            keys.append(key)
        }

        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw GGUFError.badAlignment(file: path, value: "\(value.typeName) \(value.intValue.map(String.init) ?? "?")")
            }
            alignment = Int(a)
        }

        // Each tensor info needs >= 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
        try checkCount(tensorCount, minimumBytes: 24, "tensor count")
        var raw = [(name: String, ne: [UInt64], type: UInt32, offset: UInt64)]()
        raw.reserveCapacity(Int(tensorCount))
        for index in 0..<Int(tensorCount) {
            let name = try reader.readString64("tensor #\(index) name")
            let dimensions = try reader.readUInt32("dimension count of tensor '\(name)'")
            guard dimensions <= UInt32(GGUFFile.maximumDimensions) else {
                throw GGUFError.tooManyDimensions(file: path, tensor: name, dimensions: dimensions, maximum: GGUFFile.maximumDimensions)
            }
            var ne = [UInt64]()
            for _ in 0..<Int(dimensions) { ne.append(try reader.readUInt64("ne of tensor '\(name)'")) }
            let type = try reader.readUInt32("ggml type of tensor '\(name)'")
            let offset = try reader.readUInt64("data offset of tensor '\(name)'")
            raw.append((name, ne, type, offset))
        }

        // The data section starts at the next multiple of `alignment` (it may be absent when there
        // are no tensors).
        let headerEnd = reader.offset
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        let dataBytes = max(0, reader.count - dataOffset)

        var tensors = [(info: TensorInfo, type: GGMLType)]()
        tensors.reserveCapacity(raw.count)
        var seen = Set<String>()
        for t in raw {
            guard seen.insert(t.name).inserted else { throw GGUFError.duplicateTensor(file: path, name: t.name) }
            guard let type = GGMLType.withID(t.type) else {
                throw GGUFError.unknownTensorType(file: path, tensor: t.name, typeID: t.type)
            }
            guard t.ne.allSatisfy({ $0 <= UInt64(Int.max) }),
                  let elements = t.ne.map({ Int($0) }).checkedProduct() else {
                throw GGUFError.invalidShape(file: path, tensor: t.name, ne: t.ne)
            }
            let rowLength = t.ne.first.map { Int($0) } ?? 1
            guard let rowBytes = type.rowBytes(elements: rowLength) else {
                throw GGUFError.rowNotBlockMultiple(file: path, tensor: t.name, typeName: type.name,
                                                    rowLength: rowLength, blockElements: type.blockElements)
            }
            let rowCount = rowLength == 0 ? 0 : elements / rowLength
            let (byteCount, overflow) = rowBytes.multipliedReportingOverflow(by: rowCount)
            guard !overflow else { throw GGUFError.invalidShape(file: path, tensor: t.name, ne: t.ne) }
            guard t.offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(file: path, tensor: t.name, offset: t.offset, alignment: alignment)
            }
            guard t.offset <= UInt64(dataBytes), UInt64(byteCount) <= UInt64(dataBytes) - t.offset else {
                throw GGUFError.tensorOutOfBounds(file: path, tensor: t.name, offset: t.offset, byteCount: byteCount, available: dataBytes)
            }
            let info = TensorInfo(name: t.name, dtype: type.dtype, typeName: type.name,
                                  shape: t.ne.reversed().map { Int($0) },
                                  offset: dataOffset + Int(t.offset), byteCount: byteCount)
            tensors.append((info, type))
        }
        if let (first, second) = firstOverlap(tensors.map(\.info)) {
            throw GGUFError.overlappingTensors(file: path, first: first.name, second: second.name, offset: second.offset - dataOffset)
        }
        return GGUFHeader(version: version, metadata: metadata, keys: keys, alignment: alignment,
                          dataOffset: dataOffset, tensors: tensors)
    }

    /// Throws unless `count` items of at least `minimumBytes` each fit in the remaining bytes.
    private func checkCount(_ count: UInt64, minimumBytes: Int, _ what: String) throws {
        let maximum = reader.remaining / minimumBytes
        guard count <= UInt64(maximum) else {
            throw GGUFError.countTooLarge(file: path, what: what, count: count, maximum: maximum)
        }
    }

    /// Reads one value of GGUF type `type`.
    /// - Complexity: O(bytes of the value); arrays of strings avoid per-element Foundation work.
    private mutating func readValue(type: UInt32, key: String, typeOffset: Int, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try reader.readUInt8("value of '\(key)'"))
        case 1: return .int8(try reader.readInt8("value of '\(key)'"))
        case 2: return .uint16(try reader.readUInt16("value of '\(key)'"))
        case 3: return .int16(try reader.readInt16("value of '\(key)'"))
        case 4: return .uint32(try reader.readUInt32("value of '\(key)'"))
        case 5: return .int32(try reader.readInt32("value of '\(key)'"))
        case 6: return .float32(try reader.readFloat32("value of '\(key)'"))
        case 7:
            let offset = reader.offset
            let byte = try reader.readUInt8("value of '\(key)'")
            guard byte <= 1 else { throw GGUFError.invalidBool(file: path, key: key, value: byte, offset: offset) }
            return .bool(byte == 1)
        case 8: return .string(try reader.readString64("value of '\(key)'"))
        case 9: return .array(try readArray(key: key, depth: depth + 1))
        case 10: return .uint64(try reader.readUInt64("value of '\(key)'"))
        case 11: return .int64(try reader.readInt64("value of '\(key)'"))
        case 12: return .float64(try reader.readFloat64("value of '\(key)'"))
        default: throw GGUFError.unknownValueType(file: path, key: key, typeID: type, offset: typeOffset)
        }
    }

    /// Reads an array body: element type u32, count u64, elements.
    private mutating func readArray(key: String, depth: Int) throws -> [GGUFValue] {
        guard depth <= GGUFFile.maximumArrayNesting else { throw GGUFError.nestingTooDeep(file: path, key: key, depth: depth) }
        let typeOffset = reader.offset
        let elementType = try reader.readUInt32("array element type of '\(key)'")
        guard let minimum = Self.minimumValueBytes[elementType] else {
            throw GGUFError.unknownValueType(file: path, key: key, typeID: elementType, offset: typeOffset)
        }
        let count = try reader.readUInt64("array length of '\(key)'")
        try checkCount(count, minimumBytes: minimum, "array length of '\(key)'")
        let n = Int(count)
        var values = [GGUFValue]()
        values.reserveCapacity(n)
        switch elementType {
        case 8:
            // Hot path for tokenizer vocabularies (~150k strings): no autoclosure formatting
            // unless a read fails.
            for _ in 0..<n {
                let length = try reader.readUInt64("string length in array '\(key)'")
                let bytes = try reader.readBytes(length, "string in array '\(key)'")
                values.append(.string(String(decoding: bytes, as: UTF8.self)))
            }
        case 6:
            for _ in 0..<n { values.append(.float32(try reader.readFloat32("element of '\(key)'"))) }
        case 5:
            for _ in 0..<n { values.append(.int32(try reader.readInt32("element of '\(key)'"))) }
        default:
            for _ in 0..<n { values.append(try readValue(type: elementType, key: key, typeOffset: typeOffset, depth: depth)) }
        }
        return values
    }
}
