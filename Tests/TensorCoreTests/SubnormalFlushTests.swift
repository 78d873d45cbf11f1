import TensorCore
import Testing

/// Subnormals are flushed to zero inside `BLAS.gemm` and `Parallel.forEach`/`forEachBlock`, on
/// every thread, and the caller's floating-point control is left as it was.
@Suite struct SubnormalFlushTests {
    /// Half the smallest normal float, computed at run time (not folded by the compiler).
    static func halfOfSmallestNormal(_ values: [Float]) -> [Float] { values.map { $0 * 0.5 } }

    @Test func callerThreadKeepsSubnormalsOutsideTheKernels() {
        let halves = Self.halfOfSmallestNormal([Float.leastNormalMagnitude])
        #expect(!SubnormalFlush.isActive)
        #expect(halves[0] != 0 && halves[0].isSubnormal, "the test's premise: this thread computes subnormals by default")
    }

    @Test func gemmFlushesSubnormalOperandsAndResults() {
        let (m, k, n) = (4, 3, 5)
        // A holds normal values whose products with B are subnormal (≈ 5.9e-39), so an
        // unflushed GEMM returns nonzero subnormals and a flushed one exact zeros.
        let a = [Float](repeating: Float.leastNormalMagnitude, count: m * k)
        let b = [Float](repeating: 0.125, count: k * n)
        var c = [Float](repeating: 1, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        #expect(c.allSatisfy { $0 == 0 }, "got \(c.prefix(3))")
        // Subnormal inputs read as zero (DAZ), normal products are untouched.
        let sub = Self.halfOfSmallestNormal([Float](repeating: Float.leastNormalMagnitude, count: m * k))
        let ones = [Float](repeating: 1, count: k * n)
        var d = [Float](repeating: 1, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: sub, lda: k, b: ones, ldb: n, c: &d, ldc: n)
        #expect(d.allSatisfy { $0 == 0 })
        var e = [Float](repeating: 0, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: ones, lda: k, b: ones, ldb: n, c: &e, ldc: n)
        #expect(e.allSatisfy { $0 == Float(k) })
        #expect(!SubnormalFlush.isActive, "BLAS.gemm restores the caller's control")
    }

    @Test func parallelLoopsFlushOnEveryThread() {
        let previous = Parallel.threadCount
        defer { Parallel.setThreadCount(previous) }
        Parallel.setThreadCount(2)
        let count = 1 << 16
        let input = [Float](repeating: Float.leastNormalMagnitude, count: count)
        var forEachOut = [Float](repeating: 1, count: count), blockOut = [Float](repeating: 1, count: count)
        var active = [Bool](repeating: false, count: count)
        input.withUnsafeBufferPointer { x in
            forEachOut.withUnsafeMutableBufferPointer { y in
                active.withUnsafeMutableBufferPointer { flag in
                    Parallel.forEach(count, minimumPerThread: 1024) { i in
                        y[i] = x[i] * 0.5
                        flag[i] = SubnormalFlush.isActive
                    }
                }
            }
            blockOut.withUnsafeMutableBufferPointer { y in
                Parallel.forEachBlock(count, minimumParallelCount: 1) { range in
                    for i in range { y[i] = x[i] * 0.5 }
                }
            }
        }
        #expect(forEachOut.allSatisfy { $0 == 0 } && blockOut.allSatisfy { $0 == 0 })
        #expect(active.allSatisfy { $0 })
        // A short loop runs on the calling thread, flushed too, and restores its control.
        var short: Float = 1
        Parallel.forEach(1) { _ in short = input[0] * 0.5 }
        #expect(short == 0 && !SubnormalFlush.isActive)
    }

    @Test func nestedFlushingRestoresTheOuterSetting() {
        SubnormalFlush.flushing {
            SubnormalFlush.flushing { #expect(SubnormalFlush.isActive) }
            #expect(SubnormalFlush.isActive)
        }
        #expect(!SubnormalFlush.isActive)
    }
}
