/// One GGUF metadata value (all 13 GGUF value types; arrays may nest).
///
/// ```swift
/// let gguf = try GGUFFile(url: url)
/// let tokens = gguf.metadata["tokenizer.ggml.tokens"]?.stringArray ?? []
/// let layers = gguf.metadata["llama.block_count"]?.intValue
/// ```
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as an `Int` for any integer type (and `bool`: 0/1), `nil` for others or when a
    /// `uint64` does not fit.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a `Double` for float and integer types, `nil` otherwise.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        case .int64(let v): return Double(v)
        case .bool, .string, .array: return nil
        default: return intValue.map(Double.init)
        }
    }

    /// The string, for `.string`.
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The flag, for `.bool`.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The elements, for `.array`.
    public var arrayValue: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The strings of an array whose elements are all strings.
    /// - Complexity: O(n).
    public var stringArray: [String]? {
        guard case .array(let values) = self else { return nil }
        var result = [String]()
        result.reserveCapacity(values.count)
        for value in values {
            guard case .string(let s) = value else { return nil }
            result.append(s)
        }
        return result
    }

    /// The numbers of an array of float or integer values, as `Float`.
    /// - Complexity: O(n).
    public var floatArray: [Float]? {
        guard case .array(let values) = self else { return nil }
        var result = [Float]()
        result.reserveCapacity(values.count)
        for value in values {
            switch value {
            case .float32(let v): result.append(v)
            default:
                guard let d = value.doubleValue else { return nil }
                result.append(Float(d))
            }
        }
        return result
    }

    /// The numbers of an array of integer values, as `Int`.
    /// - Complexity: O(n).
    public var intArray: [Int]? {
        guard case .array(let values) = self else { return nil }
        var result = [Int]()
        result.reserveCapacity(values.count)
        for value in values {
            guard case .bool = value else {
                guard let i = value.intValue else { return nil }
                result.append(i)
                continue
            }
            return nil
        }
        return result
    }

    /// The GGUF type name of this value ("UINT32", "STRING", "ARRAY"...), for messages.
    public var typeName: String {
        switch self {
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .uint32: return "UINT32"
        case .int32: return "INT32"
        case .uint64: return "UINT64"
        case .int64: return "INT64"
        case .float32: return "FLOAT32"
        case .float64: return "FLOAT64"
        case .bool: return "BOOL"
        case .string: return "STRING"
        case .array: return "ARRAY"
        }
    }
}
