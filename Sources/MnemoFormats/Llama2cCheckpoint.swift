import Foundation
import MnemoTensor

/// Which llama2.c export format a checkpoint uses.
public enum Llama2cVersion: Sendable, Equatable {
    /// `legacy_export`: 7 x int32 header; negative vocab_size means an unshared classifier;
    /// weights in run.c order, with the old freq_cis_real/imag block before the classifier.
    case legacy
    /// `version1_export`: 256-byte header with magic "ak42", version 1 and a shared-classifier byte.
    case v1
}

/// The hyperparameters in a llama2.c checkpoint header.
public struct Llama2cHeader: Sendable, Equatable {
    public var dim: Int
    public var hiddenDim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// Vocabulary size (always positive; the legacy sign flag is decoded into `sharedClassifier`).
    public var vocabSize: Int
    public var seqLen: Int
    /// `true` when the output classifier is the token embedding (no `lm_head.weight`).
    public var sharedClassifier: Bool
    public var version: Llama2cVersion

    /// `dim / headCount`.
    public var headDim: Int { dim / headCount }
}

/// A karpathy/llama2.c fp32 checkpoint (`run.c` / `export.py`), exposed under Hugging Face Llama
/// tensor names with `[out, in]` shapes (llama2.c already stores matrices `[out, in]` row-major).
///
/// Names: `model.embed_tokens.weight`, `model.layers.{i}.input_layernorm.weight`,
/// `model.layers.{i}.self_attn.{q,k,v,o}_proj.weight`, `model.layers.{i}.post_attention_layernorm.weight`,
/// `model.layers.{i}.mlp.{gate,up,down}_proj.weight` (w1 = gate, w3 = up, w2 = down),
/// `model.norm.weight`, and `lm_head.weight` only when the classifier is not shared.
///
/// - Note: for the model engineer: llama2.c's q/k weights are NOT permuted like Hugging Face's;
///   RoPE rotates interleaved pairs (2i, 2i+1) (`RoPEPairing.interleaved`), as in `run.c`.
///
/// ```swift
/// let ckpt = try Llama2cCheckpoint(url: URL(fileURLWithPath: "stories260K.bin"))
/// let wq = try ckpt.matrix("model.layers.0.self_attn.q_proj.weight") // dim x dim
/// ```
public final class Llama2cCheckpoint: TensorSource {
    /// Magic of `version1_export` files: "ak42" read as a little-endian uint32.
    public static let magic: UInt32 = 0x616b_3432

    /// The mapped bytes.
    public let file: MappedFile
    /// The decoded header.
    public let header: Llama2cHeader
    /// Every tensor, by Hugging Face name.
    public let tensorInfos: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]

    /// The file URL.
    public var url: URL { file.url }

    /// Maps and validates a llama2.c checkpoint (legacy or version 1).
    /// - Throws: `MappedFileError`, or `Llama2cError` for a truncated or malformed header, an
    ///   unsupported version, or a file size that differs from what the header implies.
    public convenience init(url: URL) throws {
        try self.init(file: MappedFile(url: url))
    }

    /// Validates an already mapped checkpoint.
    /// - Throws: `Llama2cError`.
    public init(file: MappedFile) throws {
        self.file = file
        let path = file.url.path
        var reader = ByteReader(file)
        let header: Llama2cHeader
        let dataStart: Int
        do {
            let first = try reader.readUInt32("magic or dim")
            if first == Self.magic {
                let version = try reader.readInt32("version")
                guard version == 1 else { throw Llama2cError.unsupportedVersion(file: path, version: Int(version)) }
                var params = [Int]()
                for field in Self.fieldNames { params.append(Int(try reader.readInt32(field))) }
                let shared = try reader.readUInt8("shared_classifier")
                guard shared <= 1 else {
                    throw Llama2cError.invalidHeader(file: path, field: "shared_classifier", value: Int(shared), expected: "0 or 1")
                }
                try reader.require(UInt64(256 - reader.offset), "header padding")
                header = try Self.makeHeader(params, shared: shared == 1, version: .v1, path: path)
                dataStart = 256
            } else {
                var params = [Int(Int32(bitPattern: first))]
                for field in Self.fieldNames.dropFirst() { params.append(Int(try reader.readInt32(field))) }
                let shared = params[5] > 0
                params[5] = abs(params[5])
                header = try Self.makeHeader(params, shared: shared, version: .legacy, path: path)
                dataStart = 28
            }
        } catch let overrun as ByteReaderOverrun {
            throw Llama2cError.truncated(file: path, overrun)
        }
        self.header = header

        let layout = try Self.layout(header, path: path)
        let floats = layout.reduce(0) { $0 + $1.shape.reduce(1, *) }
        // Legacy files always carry freq_cis_real/imag (seq_len x head_dim/2 floats each) after the
        // final norm; run.c skips it, so the classifier (if unshared) follows it.
        let freqCis = header.version == .legacy ? header.seqLen * header.headDim : 0
        let expected = dataStart + 4 * (floats + freqCis)
        guard file.count == expected else {
            throw Llama2cError.sizeMismatch(file: path, expected: expected, found: file.count)
        }

        var offset = dataStart
        var infos = [String: TensorInfo]()
        for (name, shape) in layout {
            if name == "lm_head.weight" { offset += 4 * freqCis }
            let bytes = 4 * shape.reduce(1, *)
            infos[name] = TensorInfo(name: name, dtype: .f32, typeName: "F32", shape: shape, offset: offset, byteCount: bytes)
            offset += bytes
        }
        tensorInfos = infos
        tensorNames = layout.map(\.name)
    }

    private static let fieldNames = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]

    private static func makeHeader(_ p: [Int], shared: Bool, version: Llama2cVersion, path: String) throws -> Llama2cHeader {
        // Bounding every field by 2^24 keeps all size products below 2^63 (checked again later).
        for (field, value) in zip(fieldNames, p) where value <= 0 || value > 1 << 24 {
            throw Llama2cError.invalidHeader(file: path, field: field, value: value, expected: "a positive integer at most 16777216")
        }
        guard p[0] % p[3] == 0 else {
            throw Llama2cError.invalidHeader(file: path, field: "n_heads", value: p[3], expected: "a divisor of dim \(p[0])")
        }
        guard p[4] <= p[3], p[3] % p[4] == 0 else {
            throw Llama2cError.invalidHeader(file: path, field: "n_kv_heads", value: p[4], expected: "a divisor of n_heads \(p[3])")
        }
        return Llama2cHeader(dim: p[0], hiddenDim: p[1], layerCount: p[2], headCount: p[3], kvHeadCount: p[4],
                             vocabSize: p[5], seqLen: p[6], sharedClassifier: shared, version: version)
    }

    /// Tensor names and `[out, in]` shapes in file order (run.c `memory_map_weights` for legacy,
    /// export.py `version1_export` for v1).
    private static func layout(_ h: Llama2cHeader, path: String) throws -> [(name: String, shape: [Int])] {
        // int32 fields keep every product within Int64 except absurd layer counts; check anyway.
        let kvDim = h.kvHeadCount * h.headDim
        let perLayer = 2 * h.dim + h.dim * h.dim * 2 + 2 * h.dim * kvDim + 3 * h.dim * h.hiddenDim
        let (total, overflow) = perLayer.multipliedReportingOverflow(by: h.layerCount)
        guard !overflow, total < Int.max / 8 else {
            throw Llama2cError.invalidHeader(file: path, field: "n_layers", value: h.layerCount, expected: "a size that fits in memory")
        }
        let layers = 0..<h.layerCount
        func layer(_ i: Int, _ suffix: String) -> String { "model.layers.\(i).\(suffix)" }
        let embed = ("model.embed_tokens.weight", [h.vocabSize, h.dim])
        let attnNorm = layers.map { (layer($0, "input_layernorm.weight"), [h.dim]) }
        let ffnNorm = layers.map { (layer($0, "post_attention_layernorm.weight"), [h.dim]) }
        let wq = layers.map { (layer($0, "self_attn.q_proj.weight"), [h.dim, h.dim]) }
        let wk = layers.map { (layer($0, "self_attn.k_proj.weight"), [kvDim, h.dim]) }
        let wv = layers.map { (layer($0, "self_attn.v_proj.weight"), [kvDim, h.dim]) }
        let wo = layers.map { (layer($0, "self_attn.o_proj.weight"), [h.dim, h.dim]) }
        let w1 = layers.map { (layer($0, "mlp.gate_proj.weight"), [h.hiddenDim, h.dim]) }
        let w2 = layers.map { (layer($0, "mlp.down_proj.weight"), [h.dim, h.hiddenDim]) }
        let w3 = layers.map { (layer($0, "mlp.up_proj.weight"), [h.hiddenDim, h.dim]) }
        let norm = ("model.norm.weight", [h.dim])
        var result: [(name: String, shape: [Int])]
        switch h.version {
        case .legacy:
            result = [embed] + attnNorm + wq + wk + wv + wo + ffnNorm + w1 + w2 + w3 + [norm]
        case .v1:
            result = attnNorm + ffnNorm + [norm, embed] + wq + wk + wv + wo + w1 + w2 + w3
        }
        if !h.sharedClassifier { result.append(("lm_head.weight", [h.vocabSize, h.dim])) }
        return result
    }

    /// Pointer to the first byte of tensor `name` (Hugging Face naming).
    /// - Throws: `Llama2cError.missingTensor`.
    public func rawPointer(for name: String) throws -> UnsafeRawPointer {
        guard let info = tensorInfos[name] else { throw Llama2cError.missingTensor(file: file.url.path, name: name) }
        return file.base + info.offset
    }

    /// A zero-copy f32 view of tensor `name` (norms as `1 x dim`).
    /// - Throws: `Llama2cError.missingTensor`.
    public func matrix(_ name: String) throws -> WeightMatrix {
        guard let info = tensorInfos[name] else { throw Llama2cError.missingTensor(file: file.url.path, name: name) }
        let (rows, cols) = info.matrixShape
        return WeightMatrix(dtype: .f32, rows: rows, cols: cols, base: file.base + info.offset, owner: file)
    }
}
