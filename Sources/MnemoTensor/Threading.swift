import Dispatch
import Foundation
internal import CMnemoBLAS

/// Process-wide thread count for MnemoTensor's kernels and for OpenBLAS.
///
/// ```swift
/// Threading.threadCount = 1      // deterministic single-threaded kernels and BLAS
/// weights.matvec(x, into: y)
/// ```
public enum Threading {
    /// Guards `storedThreadCount`.
    private static let lock = NSLock()
    // nonisolated(unsafe): every read and write goes through `lock`. The initializer runs once
    // (Swift globals are lazily initialized with swift_once) and tells OpenBLAS the same count.
    nonisolated(unsafe) private static var storedThreadCount: Int = {
        let count = max(1, ProcessInfo.processInfo.activeProcessorCount)
        openblas_set_num_threads(Int32(clamping: count))
        return count
    }()

    /// Threads used by `WeightMatrix.matvec` / `matmul` and by OpenBLAS (default: the number of
    /// active processors). Setting it also calls `openblas_set_num_threads`. Values below 1 are
    /// treated as 1. Change it between model calls, not while other threads are inside BLAS
    /// (OpenBLAS resizes its thread pool).
    public static var threadCount: Int {
        get { lock.withLock { storedThreadCount } }
        set {
            let count = max(1, newValue)
            lock.withLock {
                storedThreadCount = count
                openblas_set_num_threads(Int32(clamping: count))
            }
        }
    }

    /// Splits `0..<count` into at most `threads` contiguous chunks (each a multiple of
    /// `granularity` except the last) and runs `body(begin, end)` on each, in parallel with
    /// `DispatchQueue.concurrentPerform` when more than one chunk results. `body` may run
    /// concurrently with itself: it must only write to memory owned by its own range.
    ///
    /// ```swift
    /// // attention heads in parallel, at most Threading.threadCount at a time
    /// Threading.forEachChunk(count: headCount) { first, end in
    ///     for h in first..<end { attendHead(h) }
    /// }
    /// ```
    /// - Complexity: O(threads) scheduling plus the work of `body`.
    public static func forEachChunk(count: Int, granularity: Int = 1, threads: Int = Threading.threadCount,
                                    _ body: (_ begin: Int, _ end: Int) -> Void) {
        precondition(granularity >= 1, "Threading.forEachChunk: granularity must be at least 1")
        guard count > 0 else { return }
        let units = (count + granularity - 1) / granularity
        let chunks = min(max(1, threads), units)
        if chunks == 1 {
            body(0, count)
            return
        }
        // nonisolated(unsafe): concurrentPerform is synchronous (returns after every chunk ran)
        // and each chunk gets a disjoint range; callers write only to their own range.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let begin = min(count, (units * chunk / chunks) * granularity)
            let end = min(count, (units * (chunk + 1) / chunks) * granularity)
            if begin < end { body(begin, end) }
        }
    }
}

/// A lock-protected value for process-wide kernel settings.
final class LockedSetting<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched while holding `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    var current: Value {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
