import Foundation

/// A process-wide pool of f32 scratch buffers reused across `matmul` calls.
///
/// Allocating and first-touching a few MB costs milliseconds (page faults), more than the
/// dequantization itself, so buffers are kept: `take` hands out an idle buffer (or a new one)
/// for exclusive use, `give` returns it. At most `maximumIdle` buffers are kept.
final class ScratchPool: @unchecked Sendable {
    // @unchecked Sendable: `idle` is only touched while holding `lock`; a taken buffer is owned
    // by exactly one caller until it is given back.
    static let shared = ScratchPool()

    private let lock = NSLock()
    private var idle: [FloatBuffer] = []
    private let maximumIdle = 4

    /// An exclusively owned buffer with room for at least `count` floats.
    func take(count: Int) -> FloatBuffer {
        let buffer: FloatBuffer? = lock.withLock { idle.popLast() }
        guard let buffer else { return FloatBuffer(count: count) }
        buffer.reserve(count)
        return buffer
    }

    /// Returns a buffer obtained from `take`; the caller must not use it afterwards.
    func give(_ buffer: FloatBuffer) {
        lock.withLock {
            if idle.count < maximumIdle { idle.append(buffer) }
        }
    }

    /// Runs `body` with a pooled buffer of at least `count` floats.
    func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = take(count: count)
        defer { give(buffer) }
        return try body(buffer.pointer)
    }
}
