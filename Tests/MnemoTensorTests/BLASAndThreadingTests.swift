import Foundation
import XCTest
@testable import MnemoTensor

final class BLASTests: XCTestCase {
    /// All four transpose combinations, padded leading dimensions, alpha and beta, against a
    /// naive Double triple loop; bound (k + 2)·u·Σ|a b| + u·|beta c|-style terms.
    func testSgemmAgainstNaive() {
        var rng = SplitMix64(seed: 0x6E)
        for (m, n, k) in [(1, 1, 1), (3, 7, 5), (33, 17, 65), (64, 31, 127)] {
            for transA in [BLAS.Transpose.noTranspose, .transpose] {
                for transB in [BLAS.Transpose.noTranspose, .transpose] {
                    let (aRows, aCols) = transA == .noTranspose ? (m, k) : (k, m)
                    let (bRows, bCols) = transB == .noTranspose ? (k, n) : (n, k)
                    let lda = aCols + 2, ldb = bCols + 1, ldc = n + 3
                    let a = rng.floats(aRows * lda), b = rng.floats(bRows * ldb)
                    let c0 = rng.floats(m * ldc)
                    var c = c0
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                               a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = 0.0, mag = 0.0
                            for p in 0..<k {
                                let av = Double(transA == .noTranspose ? a[i * lda + p] : a[p * lda + i])
                                let bv = Double(transB == .noTranspose ? b[p * ldb + j] : b[j * ldb + p])
                                s += av * bv
                                mag += abs(av * bv)
                            }
                            let expected = 0.5 * s + 2 * Double(c0[i * ldc + j])
                            let tol = Double(k + 3) * unitRoundoff * (0.5 * mag + 2 * abs(Double(c0[i * ldc + j])))
                            XCTAssertLessThanOrEqual(abs(Double(c[i * ldc + j]) - expected), tol, "\(m)x\(n)x\(k) \(transA) \(transB)")
                        }
                        for j in n..<ldc {   // padding untouched
                            XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j])
                        }
                    }
                }
            }
        }
    }
}

final class ThreadingTests: XCTestCase {
    func testDefaultAndSettable() {
        withKernelSettings {
            XCTAssertGreaterThanOrEqual(Threading.threadCount, 1)
            Threading.threadCount = 1
            XCTAssertEqual(Threading.threadCount, 1)
            Threading.threadCount = 0
            XCTAssertEqual(Threading.threadCount, 1, "values below 1 clamp to 1")
            Threading.threadCount = 2
            XCTAssertEqual(Threading.threadCount, 2)
        }
    }

    /// Every test that changes the setting restores it (`withKernelSettings`), so the process
    /// default is still in place here.
    func testDefaultIsActiveProcessorCount() {
        XCTAssertEqual(Threading.threadCount, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Chunks cover 0..<count exactly once, each (but the last) a multiple of the granularity.
    func testForEachChunkCoversRangeOnce() {
        final class Recorder: @unchecked Sendable {
            // @unchecked Sendable: guarded by `lock`.
            let lock = NSLock()
            var ranges: [(Int, Int)] = []
        }
        for count in [0, 1, 3, 4, 5, 17, 100, 1001] {
            for threads in [1, 2, 3, 8] {
                for granularity in [1, 4] {
                    let recorder = Recorder()
                    Threading.forEachChunk(count: count, granularity: granularity, threads: threads) { b, e in
                        recorder.lock.withLock { recorder.ranges.append((b, e)) }
                    }
                    let sorted = recorder.ranges.sorted { $0.0 < $1.0 }
                    XCTAssertLessThanOrEqual(sorted.count, threads)
                    var next = 0
                    for (b, e) in sorted {
                        XCTAssertEqual(b, next)
                        XCTAssertLessThan(b, e)
                        XCTAssertEqual(b % granularity, 0)
                        next = e
                    }
                    XCTAssertEqual(next, count, "count \(count) threads \(threads) granularity \(granularity)")
                }
            }
        }
    }

    /// Concurrent readers and writers of the setting (run under TSan when investigating).
    func testConcurrentAccessIsSafe() {
        withKernelSettings {
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                for _ in 0..<200 {
                    if i % 2 == 0 { Threading.threadCount = 1 + i % 3 } else { _ = Threading.threadCount }
                }
            }
            XCTAssertTrue((1...3).contains(Threading.threadCount))
        }
    }
}

final class FloatBufferTests: XCTestCase {
    func testAlignedZeroedAndGrows() {
        let buffer = FloatBuffer(count: 100)
        XCTAssertEqual(Int(bitPattern: buffer.pointer) % 64, 0)
        XCTAssertEqual(buffer.array, [Float](repeating: 0, count: 100))
        buffer[3] = 7
        XCTAssertEqual(buffer[3], 7)
        buffer.reserve(50)
        XCTAssertEqual(buffer.count, 100)
        XCTAssertEqual(buffer[3], 7, "reserve below count keeps contents")
        let p = buffer.reserve(1000)
        XCTAssertEqual(buffer.count, 1000)
        XCTAssertEqual(p, buffer.pointer)
        XCTAssertEqual(Int(bitPattern: p) % 64, 0)
        buffer.zero()
        XCTAssertEqual(buffer.array.max(), 0)
    }

    func testKernelBenchSmoke() {
        // Tiny sizes only: checks the entry points `mnemo bench` will call, not speed.
        let mv = KernelBench.matvec(dtype: .q8_0, rows: 8, cols: 64, threads: 1, iterations: 2, coldCache: false)
        XCTAssertGreaterThan(mv.secondsPerCall, 0)
        XCTAssertEqual(mv.bytesPerCall, 8 * 68)
        let mm = KernelBench.matmul(dtype: .f16, count: 3, rows: 8, cols: 16, threads: 1, iterations: 1)
        XCTAssertEqual(mm.flopsPerCall, 2 * 3 * 8 * 16)
        XCTAssertTrue(mm.description.contains("matmul f16"))
    }
}
