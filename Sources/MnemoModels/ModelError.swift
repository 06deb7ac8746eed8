import Foundation

/// Errors raised while loading a model or running it.
///
/// Every case names the file (or key) and carries what was received and what was expected, so
/// `"\(error)"` is one line a user can act on.
public enum ModelError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// `model_type` / `general.architecture` names an architecture Mnemo does not run.
    case unknownModelType(String, file: String)
    /// A required configuration key is absent.
    case missingConfig(key: String, file: String)
    /// A configuration key holds a value of the wrong type or out of range.
    case invalidConfig(key: String, value: String, file: String, expected: String = "")
    /// Strict weight binding failed: every missing, unused and mis-shaped tensor by dotted path.
    case weightBinding(file: String, problems: [String])
    /// A tensor is stored in a type the runtime cannot read.
    case unsupportedTensorType(tensor: String, typeName: String, file: String)
    /// A path is neither a Hugging Face folder, a GGUF file nor a llama2.c checkpoint.
    case unrecognizedModel(path: String, reason: String)
    /// A token id outside `0..<vocabularySize` was passed to `forward`.
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    /// A position beyond what learned position embeddings cover (GPT-2).
    case positionOutOfRange(position: Int, limit: Int)
    /// A cache made for a model of another shape was passed to `forward`.
    case cacheMismatch(cacheLayers: Int, cacheWidth: Int, modelLayers: Int, modelWidth: Int)
    /// A forward request that cannot be run (a wrong embedding length, rows outside the input).
    case invalidInput(String)
    /// A named auxiliary tensor (RMT memory, kNN gate biases) is missing or mis-shaped.
    case auxiliaryTensor(name: String, file: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModelType(type, file):
            return "\(file): unknown model_type \"\(type)\" (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .missingConfig(key, file):
            return "\(file): missing required key \"\(key)\""
        case let .invalidConfig(key, value, file, expected):
            let tail = expected.isEmpty ? "" : ", expected \(expected)"
            return "\(file): invalid value for \"\(key)\": \(value)\(tail)"
        case let .weightBinding(file, problems):
            return "\(file): \(problems.count) weight problem(s): " + problems.joined(separator: "; ")
        case let .unsupportedTensorType(tensor, typeName, file):
            return "\(file): tensor \(tensor) has unsupported type \(typeName) (supported: F32, F16, BF16, Q8_0)"
        case let .unrecognizedModel(path, reason):
            return "\(path): not a loadable model: \(reason)"
        case let .tokenOutOfRange(token, vocabularySize):
            return "token id \(token) is out of range 0..<\(vocabularySize)"
        case let .positionOutOfRange(position, limit):
            return "position \(position) is beyond the model's \(limit) learned positions"
        case let .cacheMismatch(cacheLayers, cacheWidth, modelLayers, modelWidth):
            return "KV cache has \(cacheLayers) layers x \(cacheWidth) wide, model needs \(modelLayers) x \(modelWidth): use model.makeCache()"
        case let .invalidInput(message):
            return "invalid forward input: \(message)"
        case let .auxiliaryTensor(name, file, reason):
            return "\(file): tensor \(name): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
