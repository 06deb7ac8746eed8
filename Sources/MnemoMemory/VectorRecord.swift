// VectorRecord: the value vector and token position stored beside each key.

/// How value vectors are stored.
public enum ValuePrecision: String, Sendable, Codable, CaseIterable {
    case f32
    /// IEEE half precision: half the memory, ~3 significant digits.
    case f16

    /// Bytes per stored element.
    public var byteWidth: Int { self == .f32 ? 4 : 2 }
}

/// What an id maps back to: its value vector and the token position it came from.
public struct VectorRecord: Sendable, Equatable {
    public var id: Int64
    /// Token position in the document.
    public var position: Int64
    /// The value vector (f16 values are widened to `Float`).
    public var value: [Float]

    public init(id: Int64, position: Int64, value: [Float]) {
        self.id = id
        self.position = position
        self.value = value
    }
}

/// Values and positions of one shard, indexed by `id - firstID` (ids are consecutive per shard).
struct ShardRecords: Sendable, Equatable {
    let valueDimension: Int
    let precision: ValuePrecision
    private(set) var positions: [Int64] = []
    private(set) var values32: [Float] = []
    private(set) var values16: [Float16] = []

    init(valueDimension: Int, precision: ValuePrecision, capacity: Int) {
        self.valueDimension = valueDimension
        self.precision = precision
        positions.reserveCapacity(capacity)
        switch precision {
        case .f32: values32.reserveCapacity(capacity * valueDimension)
        case .f16: values16.reserveCapacity(capacity * valueDimension)
        }
    }

    var count: Int { positions.count }

    /// Appends `positions.count` records; `values` holds `valueDimension` floats per record.
    /// - Complexity: O(values.count), amortized.
    mutating func append(values: ArraySlice<Float>, positions newPositions: ArraySlice<Int64>) {
        positions.append(contentsOf: newPositions)
        switch precision {
        case .f32: values32.append(contentsOf: values)
        case .f16: values16.append(contentsOf: values.lazy.map { Float16($0) })
        }
    }

    func record(at offset: Int, id: Int64) -> VectorRecord {
        let range = offset * valueDimension ..< (offset + 1) * valueDimension
        let value: [Float] = precision == .f32 ? Array(values32[range]) : values16[range].map { Float($0) }
        return VectorRecord(id: id, position: positions[offset], value: value)
    }

    /// Bytes of the serialized form: positions (Int64 LE) then values (f32/f16 LE); nil when
    /// `count * (8 + valueDimension * byteWidth)` overflows `Int` (sizes from a manifest).
    static func byteCount(count: Int, valueDimension: Int, precision: ValuePrecision) -> Int? {
        let (valueBytes, o1) = valueDimension.multipliedReportingOverflow(by: precision.byteWidth)
        let (recordBytes, o2) = valueBytes.addingReportingOverflow(8)
        let (total, o3) = count.multipliedReportingOverflow(by: recordBytes)
        return o1 || o2 || o3 ? nil : total
    }

    /// Serialized form, little-endian.
    func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount(count: count, valueDimension: valueDimension, precision: precision) ?? 0)
        for p in positions { withUnsafeBytes(of: p.littleEndian) { bytes.append(contentsOf: $0) } }
        switch precision {
        case .f32: for v in values32 { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        case .f16: for v in values16 { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        return bytes
    }

    /// Reads the serialized form of exactly `count` records.
    /// - Throws: `.corruptSnapshot` naming `file` if the size is not exactly right.
    init(bytes: [UInt8], count: Int, valueDimension: Int, precision: ValuePrecision, capacity: Int, file: String) throws {
        guard count >= 0, valueDimension >= 0,
              let expected = Self.byteCount(count: count, valueDimension: valueDimension, precision: precision) else {
            throw VectorIndexError.corruptSnapshot(file: file, detail: "size of \(count) records of \(valueDimension) values overflows")
        }
        guard bytes.count == expected else {
            throw VectorIndexError.corruptSnapshot(file: file, detail: "expected \(expected) bytes for \(count) records, found \(bytes.count)")
        }
        // Reserve for what is stored, not the (manifest-given) capacity: appends grow amortized.
        self.init(valueDimension: valueDimension, precision: precision, capacity: min(capacity, count))
        bytes.withUnsafeBytes { raw in
            for i in 0..<count { positions.append(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
            let base = count * 8
            let n = count * valueDimension
            switch precision {
            case .f32:
                for i in 0..<n {
                    values32.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + i * 4, as: UInt32.self))))
                }
            case .f16:
                for i in 0..<n {
                    values16.append(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + i * 2, as: UInt16.self))))
                }
            }
        }
    }
}
