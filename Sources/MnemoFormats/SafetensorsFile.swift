import Foundation
import MnemoTensor

/// A memory-mapped `.safetensors` file (Hugging Face safetensors format).
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON mapping each tensor name
/// to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section at
/// `8 + N`), optional `"__metadata__"` (string map, skipped), then the data.
///
/// ```swift
/// let st = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
/// let wq = try st.matrix("model.layers.0.self_attn.q_proj.weight")
/// ```
public final class SafetensorsFile: TensorSource {
    /// Bytes per element of every safetensors dtype (sub-byte types are not listed).
    public static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]
    private static let dtypes: [String: DType] = ["F32": .f32, "F16": .f16, "BF16": .bf16]

    /// The mapped bytes.
    public let file: MappedFile
    /// Every tensor, by name (offsets absolute in this file).
    public let tensorInfos: [String: TensorInfo]
    /// Absolute offset of the data section (`8 + header length`).
    public let dataOffset: Int

    /// The file URL.
    public var url: URL { file.url }

    /// Maps and validates the safetensors file at `url`.
    /// - Throws: `MappedFileError`, or `SafetensorsError` for a truncated file, a header that is not
    ///   a JSON object, an unknown dtype, or data_offsets that are unordered, out of the file,
    ///   overlapping, or disagree with shape x element size.
    /// - Complexity: O(header bytes).
    public convenience init(url: URL) throws {
        try self.init(file: MappedFile(url: url))
    }

    /// Validates an already mapped file.
    /// - Throws: `SafetensorsError`.
    public init(file: MappedFile) throws {
        self.file = file
        let path = file.url.path
        var reader = ByteReader(file)
        let headerBytes: UInt64
        do {
            headerBytes = try reader.readUInt64("header length")
        } catch {
            throw SafetensorsError.truncated(file: path, error)
        }
        guard headerBytes <= UInt64(reader.remaining) else {
            throw SafetensorsError.headerTooLarge(file: path, headerBytes: headerBytes, available: reader.remaining)
        }
        let header = Data(bytes: file.base + 8, count: Int(headerBytes))
        dataOffset = 8 + Int(headerBytes)
        let dataBytes = file.count - dataOffset
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: header, options: [])
        } catch {
            throw SafetensorsError.invalidJSON(file: path, detail: "\(headerBytes)-byte header does not parse (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw SafetensorsError.invalidJSON(file: path, detail: "top level is \(type(of: json)), expected an object")
        }
        var infos = [String: TensorInfo](minimumCapacity: object.count)
        for (name, entry) in object where name != "__metadata__" {
            infos[name] = try Self.parseEntry(name: name, entry: entry, path: path,
                                              dataOffset: dataOffset, dataBytes: dataBytes)
        }
        if let (first, second) = firstOverlap(Array(infos.values)) {
            throw SafetensorsError.overlappingTensors(file: path, first: first.name, second: second.name)
        }
        tensorInfos = infos
    }

    private static func parseEntry(name: String, entry: Any, path: String, dataOffset: Int, dataBytes: Int) throws -> TensorInfo {
        guard let fields = entry as? [String: Any] else {
            throw SafetensorsError.invalidEntry(file: path, tensor: name, detail: "expected an object with dtype, shape, data_offsets")
        }
        guard let dtype = fields["dtype"] as? String else {
            throw SafetensorsError.invalidEntry(file: path, tensor: name, detail: "missing or non-string \"dtype\"")
        }
        guard let elementSize = elementSizes[dtype] else {
            throw SafetensorsError.unknownDType(file: path, tensor: name, dtype: dtype)
        }
        guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
            throw SafetensorsError.invalidEntry(file: path, tensor: name, detail: "\"shape\" must be an array of non-negative integers, found \(String(describing: fields["shape"] ?? "nothing"))")
        }
        guard let offsets = integers(fields["data_offsets"]), offsets.count == 2 else {
            throw SafetensorsError.invalidEntry(file: path, tensor: name, detail: "\"data_offsets\" must be two integers, found \(String(describing: fields["data_offsets"] ?? "nothing"))")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataBytes else {
            throw SafetensorsError.invalidOffsets(file: path, tensor: name, begin: begin, end: end, dataBytes: dataBytes)
        }
        guard let elements = shape.checkedProduct() else {
            throw SafetensorsError.invalidEntry(file: path, tensor: name, detail: "shape \(shape) overflows")
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: elementSize)
        guard !overflow, expected == end - begin else {
            throw SafetensorsError.byteCountMismatch(file: path, tensor: name, dtype: dtype, shape: shape,
                                                     expected: overflow ? Int.max : expected, found: end - begin)
        }
        return TensorInfo(name: name, dtype: Self.dtypes[dtype], typeName: dtype, shape: shape,
                          offset: dataOffset + begin, byteCount: end - begin)
    }

    /// Integers of a JSON array (rejecting fractions, negatives are left to the caller).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result = [Int]()
        for element in array {
            guard let number = element as? NSNumber,
                  let integer = Int(exactly: number.doubleValue), number.int64Value == Int64(integer) else { return nil }
            result.append(Int(number.int64Value))
        }
        return result
    }

    /// Pointer to the first byte of tensor `name`.
    /// - Throws: `SafetensorsError.missingTensor`.
    public func rawPointer(for name: String) throws -> UnsafeRawPointer {
        guard let info = tensorInfos[name] else { throw SafetensorsError.missingTensor(file: file.url.path, name: name) }
        return file.base + info.offset
    }

    /// A zero-copy 2-D view of tensor `name` (1-D as `1 x n`, outer dimensions folded into rows).
    /// - Throws: `SafetensorsError.missingTensor`, or `.unsupportedType` unless F32/F16/BF16.
    public func matrix(_ name: String) throws -> WeightMatrix {
        guard let info = tensorInfos[name] else { throw SafetensorsError.missingTensor(file: file.url.path, name: name) }
        guard let dtype = info.dtype else {
            throw SafetensorsError.unsupportedType(file: file.url.path, tensor: name, typeName: info.typeName)
        }
        let (rows, cols) = info.matrixShape
        return WeightMatrix(dtype: dtype, rows: rows, cols: cols, base: file.base + info.offset, owner: file)
    }
}
