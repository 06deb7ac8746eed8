import Foundation

/// The parts of a PEFT `adapter_config.json` (LoRA) that decide the merge `W += scale · B A`.
///
/// Port of the scaling rule of huggingface/peft `src/peft/tuners/lora/layer.py` (`LoraLayer.update_layer`):
/// `scale = lora_alpha / r`, or `lora_alpha / sqrt(r)` with `use_rslora`. Options whose effect is not a
/// plain low-rank update (DoRA, aLoRA, LoRA-B bias, bias training, per-module rank/alpha patterns, extra
/// saved modules, ...) are rejected by name rather than silently ignored.
public struct LoRAConfig: Sendable, Equatable {
    /// Rank `r` (the rows of every `lora_A`, the columns of every `lora_B`).
    public var rank: Int
    /// `lora_alpha`.
    public var alpha: Double
    /// `use_rslora`: scale by `alpha / sqrt(r)` instead of `alpha / r`.
    public var useRSLoRA: Bool
    /// `fan_in_fan_out` as written. PEFT overrides it by module type (true for GPT-2's Conv1D, false for
    /// `nn.Linear`), and so does the merge: the orientation comes from how the base weight is stored.
    public var fanInFanOut: Bool

    /// The factor the low-rank product is multiplied by.
    public var scale: Double { useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank) }

    /// Options that must keep their default (absent, `null`, `false`, `{}`, `[]` or the given value):
    /// key and why a merged `W + scale · B A` cannot represent them.
    static let unsupported: [(key: String, allowed: AnyJSON?, reason: String)] = [
        ("use_dora", nil, "DoRA rescales each column by a learned magnitude; merge it with peft and save the model"),
        ("bias", .string("none"), "trained biases are not LoRA factors"),
        ("lora_bias", nil, "a bias on lora_B is not supported"),
        ("modules_to_save", nil, "fully trained modules are not supported"),
        ("rank_pattern", nil, "per-module ranks are not supported"),
        ("alpha_pattern", nil, "per-module alphas are not supported"),
        ("layer_replication", nil, "replicated layers are not supported"),
        ("target_parameters", nil, "LoRA on nn.Parameter targets is not supported"),
        ("trainable_token_indices", nil, "trainable token embeddings are not supported"),
        ("alora_invocation_tokens", nil, "activated LoRA applies only after its invocation tokens and cannot be merged"),
        ("use_qalora", nil, "QA-LoRA pools its inputs"),
        ("kasa_config", nil, "KaSA inserts singular values between A and B"),
        ("monteclora_config", nil, "MonteCLoRA samples its factors"),
        ("use_bdlora", nil, "block-diagonal factors are not supported"),
        ("arrow_config", nil, "Arrow routing is not supported"),
    ]

    /// Parses and checks an `adapter_config.json`.
    /// - Throws: `LoRAError.invalidConfig` (not an object, `peft_type` not "LORA", `r` not a positive
    ///   integer, `lora_alpha` not a finite number, a flag not a bool), `.unsupportedOption` naming the key.
    public static func decode(_ data: Data, file: String) throws -> LoRAConfig {
        let object: [String: AnyJSON]
        do {
            object = try JSONDecoder().decode([String: AnyJSON].self, from: data)
        } catch {
            throw LoRAError.invalidConfig(file: file, key: "(document)", value: "not a JSON object",
                                          expected: "a PEFT adapter_config.json object")
        }
        let peftType = object["peft_type"] ?? .null
        guard peftType == .string("LORA") else {
            throw LoRAError.invalidConfig(file: file, key: "peft_type", value: peftType.description, expected: "\"LORA\"")
        }
        guard case let .number(r)? = object["r"], r >= 1, r <= 1_048_576, r == r.rounded() else {
            throw LoRAError.invalidConfig(file: file, key: "r", value: (object["r"] ?? .null).description,
                                          expected: "a positive integer rank")
        }
        let alphaValue = object["lora_alpha"] ?? .null
        guard case let .number(alpha) = alphaValue, alpha.isFinite else {
            throw LoRAError.invalidConfig(file: file, key: "lora_alpha", value: alphaValue.description, expected: "a finite number")
        }
        func flag(_ key: String) throws -> Bool {
            switch object[key] ?? .null {
            case .null: return false
            case .bool(let b): return b
            case let other: throw LoRAError.invalidConfig(file: file, key: key, value: other.description, expected: "true or false")
            }
        }
        let config = LoRAConfig(rank: Int(r), alpha: alpha, useRSLoRA: try flag("use_rslora"),
                                fanInFanOut: try flag("fan_in_fan_out"))
        for option in unsupported {
            let value = object[option.key] ?? .null
            if value.isDefault || value == option.allowed { continue }
            throw LoRAError.unsupportedOption(file: file, key: option.key, value: value.description, reason: option.reason)
        }
        return config
    }
}

/// Any JSON value, for reading a config whose keys have many types.
enum AnyJSON: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }   // type probe, not input swallowing
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    /// `null`, `false`, `{}` or `[]`: an option left at its default.
    var isDefault: Bool {
        switch self {
        case .null, .bool(false): return true
        case .array(let a): return a.isEmpty
        case .object(let o): return o.isEmpty
        default: return false
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? "\(Int(n))" : "\(n)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\"\($0)\": \(o[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }
}
