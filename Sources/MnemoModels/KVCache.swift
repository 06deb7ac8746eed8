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
    private(set) var keys: [UnsafeMutablePointer<Float>]
    private(set) var values: [UnsafeMutablePointer<Float>]
    /// Rows allocated per layer.
    public private(set) var capacity: Int
    /// Number of positions stored.
    public internal(set) var count: Int = 0
    let rope: RoPETable?
    let scratch = ForwardScratch()

    init(layerCount: Int, kvWidth: Int, rope: RoPEConfig?, initialCapacity: Int = 16) {
        self.layerCount = layerCount
        self.kvWidth = kvWidth
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
