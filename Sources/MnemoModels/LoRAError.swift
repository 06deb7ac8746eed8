import Foundation

/// Why a PEFT LoRA adapter next to a model (`adapter_config.json` + `adapter_model.safetensors`) could not
/// be merged. Every case names the file and the key or tensor, with what was found and what was expected,
/// so `"\(error)"` is one line.
public enum LoRAError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// One of the two adapter files is absent (or only a pickled `adapter_model.bin` is there).
    case missingFile(folder: String, file: String, reason: String)
    /// `adapter_config.json` is not a JSON object, or a key has a wrong type or value (e.g. `r` = 0).
    case invalidConfig(file: String, key: String, value: String, expected: String)
    /// A PEFT option whose effect is not `W + scale · B A` (DoRA, aLoRA, bias training, patterns, ...).
    case unsupportedOption(file: String, key: String, value: String, reason: String)
    /// An adapter tensor that is not a LoRA factor of a weight matrix of the model.
    case unknownTarget(file: String, tensor: String, reason: String)
    /// A LoRA factor whose shape does not fit its base weight or the configured rank.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// `lora_A` without `lora_B` (or the reverse).
    case missingPartner(file: String, tensor: String, partner: String)
    /// An auxiliary tensor (e.g. `memory_cell.memory`) present in both the model and the adapter.
    case duplicateTensor(file: String, tensor: String, other: String)

    public var description: String {
        switch self {
        case let .missingFile(folder, file, reason):
            return "\(folder): LoRA adapter needs \(file): \(reason)"
        case let .invalidConfig(file, key, value, expected):
            return "\(file): invalid value for \"\(key)\": \(value), expected \(expected)"
        case let .unsupportedOption(file, key, value, reason):
            return "\(file): unsupported LoRA option \"\(key)\": \(value) (\(reason))"
        case let .unknownTarget(file, tensor, reason):
            return "\(file): tensor \(tensor): \(reason)"
        case let .shapeMismatch(file, tensor, expected, found):
            return "\(file): tensor \(tensor): expected \(expected), found \(found)"
        case let .missingPartner(file, tensor, partner):
            return "\(file): tensor \(tensor) has no partner \(partner)"
        case let .duplicateTensor(file, tensor, other):
            return "\(file): tensor \(tensor) is also in \(other); keep one copy"
        }
    }

    public var errorDescription: String? { description }
}
