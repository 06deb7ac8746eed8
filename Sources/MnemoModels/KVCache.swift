import Foundation

/// A growable buffer of `Float`s that keeps its storage between uses (no per-token allocation).
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = capacity
        pointer = .allocate(capacity: max(capacity, 1))
    }
    deinit { pointer.deallocate() }

    /// Ensures room for `count` floats (contents are not preserved when growing).
    func ensure(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity * 2)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }
}

/// The keys and values of every layer for the tokens run so far, plus the forward pass's scratch.
///
/// Layout per layer: contiguous row-major `[capacity, kvHeadCount * headDim]` for keys and for
/// values; row `p` holds position `p`. Capacity grows geometrically.
///
/// **Keys are stored after RoPE rotation**, at their absolute position in this cache (row index =
/// position). Mechanisms that re-assign positions apply a delta rotation `R(new - old)` to cached
/// keys (RoPE rotations compose: `R(a)R(b) = R(a+b)`); values are position-free.
///
/// A cache belongs to one model and one task at a time (not `Sendable`).
public final class KVCache {
    let layerCount: Int
    let kvWidth: Int
    let kvHeadCount: Int
    private(set) var keys: [UnsafeMutablePointer<Float>]
    private(set) var values: [UnsafeMutablePointer<Float>]
    /// Rows allocated per layer.
    public private(set) var capacity: Int
    /// Number of positions stored.
    public internal(set) var count: Int = 0
    let rope: RoPETable?
    let scratch = ForwardScratch()

    init(layerCount: Int, kvWidth: Int, kvHeadCount: Int, rope: RoPEConfig?, initialCapacity: Int = 16) {
        self.layerCount = layerCount
        self.kvWidth = kvWidth
        self.kvHeadCount = kvHeadCount
        capacity = max(initialCapacity, 1)
        keys = (0..<layerCount).map { _ in .allocate(capacity: max(initialCapacity, 1) * kvWidth) }
        values = (0..<layerCount).map { _ in .allocate(capacity: max(initialCapacity, 1) * kvWidth) }
        self.rope = rope.map(RoPETable.init)
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Forgets every stored position (keeps the allocation).
    public func reset() { count = 0 }

    /// Keeps only the first `newCount` positions (e.g. to roll back a rejected continuation).
    /// Values above `count` are ignored.
    public func truncate(to newCount: Int) { count = min(count, max(0, newCount)) }

    /// Ensures room for `rows` positions, doubling capacity and keeping stored rows.
    /// - Complexity: amortized O(1) per position.
    func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newCapacity = max(rows, capacity * 2)
        for l in 0..<layerCount {
            let k = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvWidth)
            k.update(from: keys[l], count: count * kvWidth)
            keys[l].deallocate()
            keys[l] = k
            let v = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvWidth)
            v.update(from: values[l], count: count * kvWidth)
            values[l].deallocate()
            values[l] = v
        }
        capacity = newCapacity
    }

    /// Read access to layer `layer`'s rotated keys, `count × kvWidth` row-major.
    public func withKeys<R>(layer: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: keys[layer], count: count * kvWidth))
    }

    /// Read access to layer `layer`'s values, `count × kvWidth` row-major.
    public func withValues<R>(layer: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: values[layer], count: count * kvWidth))
    }
}

/// Activation buffers reused across forward calls.
final class ForwardScratch {
    let hidden = ScratchBuffer()
    let normed = ScratchBuffer()
    let query = ScratchBuffer()
    let fused = ScratchBuffer()
    let attention = ScratchBuffer()
    let projected = ScratchBuffer()
    let gate = ScratchBuffer()
    let up = ScratchBuffer()
    let scores = ScratchBuffer()
}

// MARK: - Re-basing (Transformer-XL windows, RMT blocks, persistence)

extension KVCache {
    /// Removes the rows `range` from every layer; later rows move down by `range.count` and their
    /// keys are re-rotated by `-range.count` positions, so the cache equals one computed fresh with
    /// the remaining tokens at their new positions (up to rounding; see `RoPETable.rotate(rows:...)`).
    /// - Precondition: `range` lies in `0 ..< count`.
    /// - Complexity: O((count - range.lowerBound) × kvWidth × layers).
    public func removeRows(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows out of range")
        let n = range.count
        guard n > 0 else { return }
        let moved = count - range.upperBound
        for l in 0..<layerCount {
            if moved > 0 {
                (keys[l] + range.lowerBound * kvWidth).update(from: keys[l] + range.upperBound * kvWidth,
                                                              count: moved * kvWidth)
                (values[l] + range.lowerBound * kvWidth).update(from: values[l] + range.upperBound * kvWidth,
                                                                count: moved * kvWidth)
                rotateKeys(layer: l, rows: range.lowerBound..<(range.lowerBound + moved), delta: -n)
            }
        }
        count -= n
    }

    /// Rotates the keys of `rows` in `layer` by `delta` positions (no-op for models without RoPE).
    func rotateKeys(layer: Int, rows: Range<Int>, delta: Int) {
        guard let rope, !rows.isEmpty, delta != 0 else { return }
        let headDim = kvWidth / kvHeadCount
        rope.rotate(rows: keys[layer] + rows.lowerBound * kvWidth, count: rows.count, stride: kvWidth,
                    heads: kvHeadCount, headDim: headDim, delta: delta)
    }

    /// Copies rows `range` of `layer` out: keys (as stored, rotated to their row position) and values.
    public func copyRows(layer: Int, _ range: Range<Int>) -> (keys: [Float], values: [Float]) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows out of range")
        let k = Array(UnsafeBufferPointer(start: keys[layer] + range.lowerBound * kvWidth, count: range.count * kvWidth))
        let v = Array(UnsafeBufferPointer(start: values[layer] + range.lowerBound * kvWidth, count: range.count * kvWidth))
        return (k, v)
    }

    /// Appends `rows` rows to every layer from `keys[l]` / `values[l]` (each `rows × kvWidth`,
    /// keys already rotated to their new row positions): restores a saved window.
    /// - Throws: `ModelError.cacheMismatch` when the layer count or a row length is wrong.
    public func appendRows(keys newKeys: [[Float]], values newValues: [[Float]], rows: Int) throws {
        guard newKeys.count == layerCount, newValues.count == layerCount,
              newKeys.allSatisfy({ $0.count == rows * kvWidth }), newValues.allSatisfy({ $0.count == rows * kvWidth })
        else {
            throw ModelError.cacheMismatch(cacheLayers: newKeys.count, cacheWidth: rows > 0 ? (newKeys.first?.count ?? 0) / rows : 0,
                                           modelLayers: layerCount, modelWidth: kvWidth)
        }
        guard rows > 0 else { return }
        reserve(count + rows)
        for l in 0..<layerCount {
            newKeys[l].withUnsafeBufferPointer { (keys[l] + count * kvWidth).update(from: $0.baseAddress!, count: $0.count) }
            newValues[l].withUnsafeBufferPointer { (values[l] + count * kvWidth).update(from: $0.baseAddress!, count: $0.count) }
        }
        count += rows
    }
}

extension KVCache {
    /// Rotates `rows` vectors of `heads × headDim` floats (densely packed) by `delta` positions with
    /// this cache's RoPE (no-op for models without RoPE): places retrieved keys in the cache's frame.
    public func rotate(_ vectors: UnsafeMutablePointer<Float>, rows: Int, heads: Int, delta: Int) {
        guard let rope, rows > 0 else { return }
        let headDim = kvWidth / kvHeadCount
        rope.rotate(rows: vectors, count: rows, stride: heads * headDim, heads: heads, headDim: headDim, delta: delta)
    }

    /// Whether keys carry rotary positions (false for GPT-2's learned positions).
    public var hasRotaryPositions: Bool { rope != nil }
}

extension KVCache {
    /// Rotates freshly projected (never rotated) keys to `position`, exactly as the forward pass
    /// encodes a key: the delta rotation plus the scaling's attention factor (YaRN's mscale) on the
    /// rotary dimensions. Vectors are `rows × heads × headDim`, densely packed.
    public func encodeRotation(_ vectors: UnsafeMutablePointer<Float>, rows: Int, heads: Int, position: Int) {
        guard let rope, rows > 0 else { return }
        let factor = rope.attentionFactor
        let headDim = kvWidth / kvHeadCount
        if factor != 1 {
            for r in 0..<rows * heads {
                let v = vectors + r * headDim
                for i in 0..<rope.config.dimension { v[i] *= factor }
            }
        }
        rope.rotate(rows: vectors, count: rows, stride: heads * headDim, heads: heads, headDim: headDim, delta: position)
    }
}
