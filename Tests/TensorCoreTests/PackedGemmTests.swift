import TensorCore
import Testing

/// The packed AVX-512 GEMM (`BLAS.Kernel.packed`) against a double-precision loop, on shapes that
/// leave partial panels and blocks in every dimension, every transpose, α and β; and the
/// properties the rest of Untangle relies on (β = 0 never reads C, rounding independent of how
/// the caller splits rows and columns).
@Suite(.enabled(if: BLAS.packedKernelIsAvailable, "the packed kernel needs AVX-512 on x86-64"))
struct PackedGemmTests {
    /// (m, n, k): one element; one full tile; one past a tile in every dimension; two k blocks
    /// (kBlock 256); two n blocks (nBlock 512); a single row and column.
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (8, 32, 5), (9, 33, 17), (13, 70, 300), (3, 600, 20), (1, 45, 7), (20, 1, 9)]

    /// Values in [-1, 1) from a seeded generator.
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return rng.uniform([count], low: -1, high: 1).scalars
    }

    /// `α·op(A)·op(B) + β·C` in double precision with strides `lda`, `ldb`, `ldc`.
    func reference(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float, _ a: [Float], lda: Int,
                   _ b: [Float], ldb: Int, beta: Float, _ c: [Float], ldc: Int) -> [Double] {
        var out = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(tA ? a[p * lda + i] : a[i * lda + p]) * Double(tB ? b[j * ldb + p] : b[p * ldb + j]) }
                out[i * ldc + j] = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesADoublePrecisionLoop(tA: Bool, tB: Bool) {
        for (m, n, k) in Self.shapes {
            for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, -0.25)] {
                // Stored shapes with padded row strides, so the kernel must honour lda/ldb/ldc.
                let (lda, ldb, ldc) = ((tA ? m : k) + 3, (tB ? k : n) + 2, n + 5)
                let a = values((tA ? k : m) * lda, seed: 1), b = values((tB ? n : k) * ldb, seed: 2)
                var c = values(m * ldc, seed: 3)
                let expected = reference(tA, tB, m, n, k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
                BLAS.gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: &c, ldc: ldc, kernel: .packed)
                let worst = zip(c, expected).map { abs(Double($0) - $1) }.max()!
                #expect(worst <= 2e-6 * Double(k + 1), "m \(m) n \(n) k \(k) tA \(tA) tB \(tB) α \(alpha) β \(beta): off by \(worst)")
            }
        }
    }

    @Test func betaZeroNeverReadsC() {
        let (m, n, k) = (9, 33, 4)
        let a = values(m * k, seed: 4), b = values(k * n, seed: 5)
        var c = [Float](repeating: .nan, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, kernel: .packed)
        #expect(c.allSatisfy { $0.isFinite })
        var d = [Float](repeating: .nan, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: 0, a: a, lda: 1, b: b, ldb: n, c: &d, ldc: n, kernel: .packed)
        #expect(d.allSatisfy { $0 == 0 }, "k = 0 and β = 0: C ← 0")
        var e = [Float](repeating: 2, count: m * n)
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: 0, a: a, lda: 1, b: b, ldb: n, beta: 0.5, c: &e, ldc: n, kernel: .packed)
        #expect(e.allSatisfy { $0 == 1 }, "k = 0: C ← β·C")
    }

    /// `op(A)·op(B)` `[m, n]` from stored `a` (`[m, k]`, or `[k, m]` when `tA`) and `b` (`[k, n]`, or
    /// `[n, k]` when `tB`), one call per block of the rows starting at `rowCuts` × the columns
    /// starting at `columnCuts` (one call for the defaults).
    func product(_ tA: Bool, _ tB: Bool, m: Int, n: Int, k: Int, _ a: [Float], _ b: [Float], rowCuts: [Int] = [0],
                 columnCuts: [Int] = [0], kernel: BLAS.Kernel = .packed) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            for (r, i0) in rowCuts.enumerated() {
                let i1 = r + 1 < rowCuts.count ? rowCuts[r + 1] : m
                for (q, j0) in columnCuts.enumerated() {
                    let j1 = q + 1 < columnCuts.count ? columnCuts[q + 1] : n
                    BLAS.gemm(transposeA: tA, transposeB: tB, m: i1 - i0, n: j1 - j0, k: k, a: pa.baseAddress! + (tA ? i0 : i0 * k), lda: tA ? m : k,
                              b: pb.baseAddress! + (tB ? j0 * k : j0), ldb: tB ? k : n, c: pc.baseAddress! + i0 * n + j0, ldc: n, kernel: kernel)
                }
            }
        } } }
        return c
    }

    /// An element's rounding depends on k alone: the rows or columns of C computed in two calls
    /// are bit-identical to one call over all of them (what lets convolutions split a batch).
    @Test func splittingRowsOrColumnsChangesNoBit() {
        let (m, n, k) = (21, 77, 300)
        let a = values(m * k, seed: 6), b = values(k * n, seed: 7)
        let whole = product(false, false, m: m, n: n, k: k, a, b)
        #expect(product(false, false, m: m, n: n, k: k, a, b, rowCuts: [0, 5]) == whole)
        #expect(product(false, false, m: m, n: n, k: k, a, b, columnCuts: [0, 40]) == whole)
    }

    /// A narrow C (n = 16) is tiled as Cᵀ; computed in pieces of 5 rows (tiled as C) it is the
    /// same to the bit: the orientation changes no sum.
    @Test func narrowProductsRoundAsTheirRowsDo() {
        let (m, n, k) = (40, 16, 300)
        let a = values(k * m, seed: 10), b = values(n * k, seed: 11)
        #expect(product(true, true, m: m, n: n, k: k, a, b, rowCuts: Array(stride(from: 0, to: m, by: 5))) == product(true, true, m: m, n: n, k: k, a, b))
    }

    /// The two kernels agree to float rounding on a layer-sized product.
    @Test func agreesWithOpenBLAS() {
        let (m, n, k) = (64, 256, 1024)
        let a = values(m * k, seed: 8), b = values(n * k, seed: 9)
        let packed = product(false, true, m: m, n: n, k: k, a, b), open = product(false, true, m: m, n: n, k: k, a, b, kernel: .openBLAS)
        let worst = zip(packed, open).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "off by \(worst)")
    }

    /// `Tensor.matmul` splits a product of ≥ 2²⁰ multiply-adds by rows over the threads when the packed
    /// kernel runs it: bit for bit the one-thread product, for every transpose and a narrow C.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [(300, 256, 1024), (1031, 10, 256)])
    func matmulSplitOverThreadsIsTheOneThreadProduct(transposes: (Bool, Bool), shape: (Int, Int, Int)) {
        guard BLAS.kernel == .packed else { return }
        let (m, n, k) = shape, (tA, tB) = transposes
        let a = Tensor(shape: tA ? [k, m] : [m, k], scalars: values(m * k, seed: 71))
        let b = Tensor(shape: tB ? [n, k] : [k, n], scalars: values(k * n, seed: 72))
        Parallel.setThreadCount(1)
        let one = Tensor.matmul(a, b, transposeA: tA, transposeB: tB)
        Parallel.setThreadCount(3)
        defer { Parallel.setThreadCount(1) }
        #expect(Tensor.matmul(a, b, transposeA: tA, transposeB: tB) == one, "\(transposes) \(shape)")
    }
}
