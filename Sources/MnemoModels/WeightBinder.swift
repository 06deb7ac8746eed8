import Foundation
import MnemoTensor
import MnemoFormats

/// Owned, never-mutated-after-load f32 storage (transposed or fused weights).
final class FloatStorage: @unchecked Sendable {
    // @unchecked Sendable: written once during load, read-only afterwards.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}

/// Binds tensors of a `TensorSource` strictly: every expected tensor must exist with the expected
/// shape, and every tensor in the file must be used (or explicitly ignored).
///
/// Problems are collected, not thrown one at a time; `finish()` throws one
/// `ModelError.weightBinding` listing every missing, mis-shaped and unused tensor by name, e.g.
/// `"model.layers.3.self_attn.q_proj.weight: expected [64, 64], found [64, 32]"`.
final class WeightBinder {
    let source: TensorSource
    let file: String
    private(set) var problems: [String] = []
    private(set) var used: Set<String> = []
    /// Elements per dtype name of the tensors bound so far, for summaries.
    private(set) var boundInfos: [TensorInfo] = []

    init(source: TensorSource, file: String) {
        self.source = source
        self.file = file
        ignore(where: Self.isAuxiliary)
    }

    /// Tensors a checkpoint may carry for the memory mechanisms rather than the transformer itself:
    /// RMT memory embeddings (`memory_cell.*`), kNN gate biases (`knn.*` or any name with `knn_`, such
    /// as `model.layers.9.self_attn.knn_gate_bias`) and Mnemo's own extras (`mnemo.*`). They are read
    /// on demand with `LanguageModel.auxiliaryTensor(_:)`.
    static func isAuxiliary(_ name: String) -> Bool {
        name.hasPrefix("memory_cell.") || name.hasPrefix("knn.") || name.hasPrefix("mnemo.") || name.contains("knn_")
    }

    private func info(_ name: String, shape: [Int], optional: Bool) -> TensorInfo? {
        guard let info = source.tensorInfos[name] else {
            if !optional { problems.append("\(name): missing (expected shape \(shape))") }
            return nil
        }
        used.insert(name)
        // A 1-D [n] and a 2-D [1, n] are the same vector; otherwise shapes must agree exactly.
        let found = info.shape
        let same = found == shape || (shape.count == 1 && found.count == 2 && found[0] == 1 && found[1] == shape[0])
        if !same {
            problems.append("\(name): expected \(shape), found \(found)")
            return nil
        }
        if info.dtype == nil {
            problems.append("\(name): unsupported type \(info.typeName) (supported: F32, F16, BF16, Q8_0)")
            return nil
        }
        boundInfos.append(info)
        return info
    }

    private func view(_ name: String) -> WeightMatrix? {
        do { return try source.matrix(name) } catch {
            problems.append("\(name): \(error)")
            return nil
        }
    }

    /// A `[rows, cols]` matrix read in place.
    func matrix(_ name: String, _ rows: Int, _ cols: Int, optional: Bool = false) -> WeightMatrix? {
        guard info(name, shape: [rows, cols], optional: optional) != nil, let m = view(name) else { return nil }
        guard m.rows == rows, m.cols == cols else {
            problems.append("\(name): expected [\(rows), \(cols)], reader gave [\(m.rows), \(m.cols)]")
            return nil
        }
        return m
    }

    /// A matrix stored `[cols, rows]` (GPT-2 Conv1D), transposed into owned f32 `[rows, cols]`.
    /// - Complexity: O(rows × cols), once at load.
    func transposedMatrix(_ name: String, rows: Int, cols: Int) -> WeightMatrix? {
        guard info(name, shape: [cols, rows], optional: false) != nil, let stored = view(name) else { return nil }
        let storage = FloatStorage(count: rows * cols)
        let line = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { line.deallocate() }
        for i in 0..<cols {
            stored.dequantizeRow(i, into: line)
            for o in 0..<rows { storage.pointer[o * cols + i] = line[o] }
        }
        return WeightMatrix(dtype: .f32, rows: rows, cols: cols, base: UnsafeRawPointer(storage.pointer), owner: storage)
    }

    /// A vector of `count` values converted to f32 (norm weights and biases are small).
    func vector(_ name: String, _ count: Int, optional: Bool = false) -> [Float]? {
        guard info(name, shape: [count], optional: optional) != nil, let m = view(name) else { return nil }
        guard m.rows * m.cols == count else {
            problems.append("\(name): expected \(count) values, reader gave \(m.rows * m.cols)")
            return nil
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buf in
            for r in 0..<m.rows { m.dequantizeRow(r, into: buf.baseAddress! + r * m.cols) }
        }
        return out
    }

    /// Marks tensors as deliberately unused (buffers like `rotary_emb.inv_freq`).
    func ignore(where predicate: (String) -> Bool) {
        for name in source.tensorInfos.keys where predicate(name) { used.insert(name) }
    }

    /// Throws every problem found, plus every tensor of the file that was never bound.
    /// - Throws: `ModelError.weightBinding`.
    func finish() throws {
        let unused = source.tensorInfos.keys.filter { !used.contains($0) }.sorted()
        let all = problems + unused.map { "\($0): unexpected tensor (not used by the architecture)" }
        if !all.isEmpty { throw ModelError.weightBinding(file: file, problems: all) }
    }
}
