import ConvKernels
import TensorCore
import Testing

/// `rowDotProducts` (`C ← A·Bᵀ + β·C` along rows; the one-channel layers' weight gradient) against a
/// double-precision loop on shapes with partial 4 × 4 blocks and k tails, β = 0 never reading C, and
/// rounding independent of where an element falls (a block or a remainder row or column).
@Suite(.enabled(if: DirectConvolution.isSupported, "the kernels need AVX-512 on x86-64"))
struct RowDotProductsTests {
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return rng.uniform([count], low: -1, high: 1).scalars
    }

    /// (m, n, k): one element; whole blocks; remainders in both dimensions; k below one vector, on a
    /// vector boundary and with a tail; the conv1 shape.
    @Test(arguments: [(1, 1, 1), (4, 4, 16), (6, 5, 37), (9, 7, 100), (3, 2, 15), (32, 16, 1024)])
    func matchesADoublePrecisionLoop(m: Int, n: Int, k: Int) {
        let (lda, ldb, ldc) = (k + 3, k + 1, n + 2)
        let a = values(m * lda, seed: 1), b = values(n * ldb, seed: 2)
        for beta in [Float(0), 1, -0.5] {
            let start = values(m * ldc, seed: 3)
            var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : start
            rowDotProducts(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for l in 0..<k { s += Double(a[i * lda + l]) * Double(b[j * ldb + l]) }
                    let expected = s + (beta == 0 ? 0 : Double(beta) * Double(start[i * ldc + j]))
                    #expect(abs(Double(c[i * ldc + j]) - expected) <= 2e-6 * Double(k + 1), "m \(m) n \(n) k \(k) β \(beta) at \(i), \(j)")
                }
                // Padding columns of C are left alone.
                for j in n..<ldc where beta != 0 { #expect(c[i * ldc + j] == start[i * ldc + j]) }
            }
        }
    }

    /// Each element alone (m = n = 1) gives the bits it gets inside a 4 × 4 block or a remainder.
    @Test func anElementRoundsAloneAsInABlock() {
        let (m, n, k) = (6, 5, 75)
        let a = values(m * k, seed: 4), b = values(n * k, seed: 5)
        var c = [Float](repeating: 0, count: m * n)
        rowDotProducts(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0, c: &c, ldc: n)
        for i in 0..<m {
            for j in 0..<n {
                var one: Float = 0
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                    rowDotProducts(m: 1, n: 1, k: k, a: pa.baseAddress! + i * k, lda: k, b: pb.baseAddress! + j * k, ldb: k,
                                   beta: 0, c: &one, ldc: 1)
                } }
                #expect(one == c[i * n + j], "element \(i), \(j)")
            }
        }
    }
}
