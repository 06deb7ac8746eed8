/// A 64-byte-aligned, owned, mutable buffer of `Float` for reusable scratch space.
///
/// A reference type so it can be kept by a session and reused across calls without copies;
/// not `Sendable` (it is mutable): give each thread or session its own.
///
/// ```swift
/// let scratch = FloatBuffer(count: 4096)
/// weights.matvec(x, into: scratch.pointer)
/// ```
public final class FloatBuffer {
    /// The first element; valid for `count` elements until the buffer is released or grown.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public private(set) var count: Int

    /// Allocates `count` elements, all zero.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        self.count = count
        self.pointer = FloatBuffer.allocate(count)
    }

    deinit { pointer.deallocate() }

    /// Element `i` (bounds-checked with `precondition`).
    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count); return pointer[i] }
        set { precondition(i >= 0 && i < count); pointer[i] = newValue }
    }

    /// Makes room for at least `minimumCount` elements and returns the (possibly new) pointer.
    /// Contents are zeroed when the buffer grows, kept otherwise.
    @discardableResult
    public func reserve(_ minimumCount: Int) -> UnsafeMutablePointer<Float> {
        if minimumCount > count {
            pointer.deallocate()
            pointer = FloatBuffer.allocate(minimumCount)
            count = minimumCount
        }
        return pointer
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// A copy of the contents as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        return p
    }
}
