import Foundation
import MnemoTensor

/// One layer's key and value projections in f32, `kvWidth × hiddenSize` row-major (HF `nn.Linear`
/// orientation), with their biases when the architecture has them. Unlimiformer uses them to rewrite
/// queries into hidden-state space and to project retrieved hidden states back to keys and values.
public struct AttentionProjection: Sendable {
    public var key: [Float]
    public var keyBias: [Float]?
    public var value: [Float]
    public var valueBias: [Float]?
}

extension LanguageModel {
    /// The key and value projections of `layer`, dequantized to f32.
    /// - Complexity: O(kvWidth × hiddenSize).
    public func attentionProjection(layer: Int) -> AttentionProjection {
        let c = config
        let w = weights.layers[layer]
        let H = c.hiddenSize, qW = c.queryWidth, kvW = c.kvWidth
        var key = [Float](repeating: 0, count: kvW * H)
        var value = [Float](repeating: 0, count: kvW * H)
        key.withUnsafeMutableBufferPointer { k in
            value.withUnsafeMutableBufferPointer { v in
                if let fused = w.fusedQKV {
                    fused.dequantizeRows(qW, qW + kvW, into: k.baseAddress!)
                    fused.dequantizeRows(qW + kvW, qW + 2 * kvW, into: v.baseAddress!)
                } else if let wk = w.key, let wv = w.value {
                    wk.dequantizeRows(0, kvW, into: k.baseAddress!)
                    wv.dequantizeRows(0, kvW, into: v.baseAddress!)
                }
            }
        }
        let keyBias = w.qkvBias.map { Array($0[qW..<(qW + kvW)]) }
        let valueBias = w.qkvBias.map { Array($0[(qW + kvW)..<(qW + 2 * kvW)]) }
        return AttentionProjection(key: key, keyBias: keyBias, value: value, valueBias: valueBias)
    }

    /// Names of the auxiliary tensors in the checkpoint (`memory_cell.*`, `knn.*`, `mnemo.*`).
    public var auxiliaryTensorNames: [String] {
        source.tensorInfos.keys.filter(WeightBinder.isAuxiliary).sorted()
    }

    /// An auxiliary tensor of the checkpoint (RMT `memory_cell.memory`, kNN gate biases) as f32,
    /// with its shape (outer dimensions first).
    /// - Throws: `ModelError.auxiliaryTensor` naming the tensor when it is missing or its type is unsupported.
    public func auxiliaryTensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let info = source.tensorInfos[name] else {
            let known = auxiliaryTensorNames
            throw ModelError.auxiliaryTensor(name: name, file: url.path,
                                             reason: "not in the checkpoint" + (known.isEmpty ? "" : " (auxiliary tensors: \(known.joined(separator: ", ")))"))
        }
        let matrix: WeightMatrix
        do { matrix = try source.matrix(name) } catch {
            throw ModelError.auxiliaryTensor(name: name, file: url.path, reason: "\(error)")
        }
        var values = [Float](repeating: 0, count: matrix.rows * matrix.cols)
        if !values.isEmpty {
            values.withUnsafeMutableBufferPointer { matrix.dequantizeRows(0, matrix.rows, into: $0.baseAddress!) }
        }
        return (info.shape, values)
    }
}
