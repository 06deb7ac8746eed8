import Dispatch
import Foundation

/// One micro-benchmark measurement.
public struct KernelBenchResult: Sendable, CustomStringConvertible {
    /// What ran, e.g. `"matvec q8_0 576x1536 threads=2"`.
    public let name: String
    /// Median wall time of one call, in seconds.
    public let secondsPerCall: Double
    /// Fastest call, in seconds (the least disturbed by other processes on a shared machine).
    public let bestSecondsPerCall: Double
    /// Process CPU time (all threads) per call, in seconds: on a shared machine, single-threaded
    /// throughput from CPU time is not diluted by time the thread spent descheduled.
    public let cpuSecondsPerCall: Double
    /// Weight bytes read per call.
    public let bytesPerCall: Int
    /// Floating-point operations per call (2 per multiply-add).
    public let flopsPerCall: Double

    /// Weight bytes read per second, in GB/s (10⁹).
    public var gigabytesPerSecond: Double { Double(bytesPerCall) / secondsPerCall / 1e9 }
    /// GFLOP/s.
    public var gigaflopsPerSecond: Double { flopsPerCall / secondsPerCall / 1e9 }
    /// GB/s per CPU-second (single-threaded runs: the undisturbed per-core rate).
    public var cpuGigabytesPerSecond: Double { Double(bytesPerCall) / cpuSecondsPerCall / 1e9 }
    /// GFLOP/s per CPU-second.
    public var cpuGigaflopsPerSecond: Double { flopsPerCall / cpuSecondsPerCall / 1e9 }
    /// GB/s of the fastest call.
    public var bestGigabytesPerSecond: Double { Double(bytesPerCall) / bestSecondsPerCall / 1e9 }
    /// GFLOP/s of the fastest call.
    public var bestGigaflopsPerSecond: Double { flopsPerCall / bestSecondsPerCall / 1e9 }

    public var description: String {
        let f = { (value: Double, digits: Int) in String(format: "%.\(digits)f", value) }
        return "\(name): median \(f(secondsPerCall * 1e6, 1)) us/call, \(f(gigabytesPerSecond, 2)) GB/s, "
            + "\(f(gigaflopsPerSecond, 1)) GFLOP/s; best \(f(bestSecondsPerCall * 1e6, 1)) us/call, "
            + "\(f(bestGigabytesPerSecond, 2)) GB/s, \(f(bestGigaflopsPerSecond, 1)) GFLOP/s; "
            + "per CPU-second \(f(cpuGigabytesPerSecond, 2)) GB/s, \(f(cpuGigaflopsPerSecond, 1)) GFLOP/s"
    }
}

/// Micro-benchmarks of the weight kernels for `mnemo bench` (not tests: they take seconds).
///
/// ```swift
/// print(KernelBench.matvec(dtype: .q8_0, rows: 1536, cols: 576, threads: 2))
/// ```
public enum KernelBench {
    /// Times `WeightMatrix.matvec` on random weights. With `coldCache`, enough copies of the
    /// matrix to exceed the last-level cache (≥ 128 MB) are cycled through, so the figure is
    /// the DRAM-bound one; otherwise the same matrix is reused (cache-resident when small).
    /// Sets `Threading.threadCount` to `threads` for the run and restores it afterwards.
    public static func matvec(dtype: DType, rows: Int, cols: Int, threads: Int,
                              iterations: Int = 50, coldCache: Bool = true) -> KernelBenchResult {
        precondition(rows > 0 && cols > 0 && cols % dtype.blockElements == 0 && iterations > 0)
        let bytes = dtype.byteCount(elements: cols)! * rows
        let copies = coldCache ? max(1, (128 << 20) / bytes + 1) : 1
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes * copies, alignment: 64)
        defer { storage.deallocate() }
        fillRandom(storage, dtype: dtype, elements: rows * cols * copies)
        let x = FloatBuffer(count: cols), y = FloatBuffer(count: rows)
        var rng = SplitMix64(seed: 7)
        for i in 0..<cols { x[i] = rng.uniform() }
        let matrices = (0..<copies).map {
            WeightMatrix(dtype: dtype, rows: rows, cols: cols, base: UnsafeRawPointer(storage + $0 * bytes), owner: nil)
        }
        let saved = Threading.threadCount
        Threading.threadCount = threads
        defer { Threading.threadCount = saved }
        for m in matrices.prefix(2) { m.matvec(x.pointer, into: y.pointer) }   // warm-up
        var times: [Double] = []
        let cpu0 = processCPUSeconds()
        for i in 0..<iterations {
            let m = matrices[i % copies]
            let t0 = DispatchTime.now().uptimeNanoseconds
            m.matvec(x.pointer, into: y.pointer)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        let mode = dtype == .q8_0 ? " (\(WeightMatrix.q8MatvecMode.rawValue))" : ""
        return KernelBenchResult(name: "matvec \(dtype.rawValue)\(mode) \(rows)x\(cols) threads=\(threads)",
                                 secondsPerCall: median(times), bestSecondsPerCall: times.min()!,
                                 cpuSecondsPerCall: (processCPUSeconds() - cpu0) / Double(iterations), bytesPerCall: bytes,
                                 flopsPerCall: 2 * Double(rows) * Double(cols))
    }

    /// Times `WeightMatrix.matmul` (prefill: `count` activation rows) on random weights,
    /// including dequantization for non-F32 types.
    public static func matmul(dtype: DType, count: Int, rows: Int, cols: Int, threads: Int,
                              iterations: Int = 10) -> KernelBenchResult {
        precondition(count > 0 && rows > 0 && cols > 0 && cols % dtype.blockElements == 0 && iterations > 0)
        let bytes = dtype.byteCount(elements: cols)! * rows
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { storage.deallocate() }
        fillRandom(storage, dtype: dtype, elements: rows * cols)
        let w = WeightMatrix(dtype: dtype, rows: rows, cols: cols, base: UnsafeRawPointer(storage), owner: nil)
        let x = FloatBuffer(count: count * cols), y = FloatBuffer(count: count * rows)
        var rng = SplitMix64(seed: 11)
        for i in 0..<(count * cols) { x[i] = rng.uniform() }
        let saved = Threading.threadCount
        Threading.threadCount = threads
        defer { Threading.threadCount = saved }
        w.matmul(x.pointer, count: count, into: y.pointer)   // warm-up
        var times: [Double] = []
        let cpu0 = processCPUSeconds()
        for _ in 0..<iterations {
            let t0 = DispatchTime.now().uptimeNanoseconds
            w.matmul(x.pointer, count: count, into: y.pointer)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return KernelBenchResult(name: "matmul \(dtype.rawValue) \(count)x\(cols) * (\(rows)x\(cols))^T threads=\(threads)",
                                 secondsPerCall: median(times), bestSecondsPerCall: times.min()!,
                                 cpuSecondsPerCall: (processCPUSeconds() - cpu0) / Double(iterations), bytesPerCall: bytes,
                                 flopsPerCall: 2 * Double(count) * Double(rows) * Double(cols))
    }

    private static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// Random weights in the storage format: values in [-1, 1) (Q8_0: scale 1/127, q in ±127).
    private static func fillRandom(_ p: UnsafeMutableRawPointer, dtype: DType, elements: Int) {
        var rng = SplitMix64(seed: 3)
        switch dtype {
        case .f32:
            let f = p.bindMemory(to: Float.self, capacity: elements)
            for i in 0..<elements { f[i] = rng.uniform() }
        case .f16:
            let h = p.bindMemory(to: UInt16.self, capacity: elements)
            for i in 0..<elements { h[i] = Float16(rng.uniform()).bitPattern }
        case .bf16:
            let h = p.bindMemory(to: UInt16.self, capacity: elements)
            for i in 0..<elements { h[i] = UInt16(rng.uniform().bitPattern >> 16) }
        case .q8_0:
            let scale = Float16(Float(1) / 127).bitPattern
            for b in 0..<(elements / 32) {
                let block = p + 34 * b
                block.storeBytes(of: scale, as: UInt16.self)
                for j in 0..<32 {
                    block.storeBytes(of: Int8(truncatingIfNeeded: Int(rng.next() % 255) - 127),
                                     toByteOffset: 2 + j, as: Int8.self)
                }
            }
        }
    }
}

