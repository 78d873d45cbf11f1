// The product of two matrices whose rows run along the summed dimension, for the shape a GEMM
// serves worst: few outputs, long sums. A convolution's weight gradient on the im2col lowering is
// `∂W = G·colsᵀ`, `[O, L]·[L, C·k²]`; for a one-channel first layer (32 × 16 outputs) or a
// one-channel last transposed layer (32 × 16) with L = 1,024 positions per image, a packed GEMM
// spends its time packing and storing 8 × 32 tiles of a 32 × 16 result (≈ 50 GFLOP/s here). As
// dot products along the rows — both operands read in place, sixteen lanes at a time — the same
// sums need no packing at all.

/// `C ← A·Bᵀ + β·C` for row-major `A [m, k]` (row stride `lda`), `B [n, k]` (row stride `ldb`),
/// `C [m, n]` (row stride `ldc`): every element a dot product of a row of A and a row of B.
///
/// Concretely, for `i < m`, `j < n`, with `k₁₆ = 16·⌊k/16⌋`:
/// `C[i, j] = β·C[i, j] + (Σ_{lane < 16} s_lane) + Σ_{k₁₆ ≤ l < k} A[i, l]·B[j, l]`, where
/// `s_lane = Σ_{l ≡ lane (mod 16), l < k₁₆} A[i, l]·B[j, l]` is summed in order of `l`, one fused
/// multiply-add per term, the lane sums are added in the order of `SIMD16.sum()`, and the tail in
/// order of `l`. β = 0 never reads C. Every element's rounding depends on `k` alone, not on `m`, `n`
/// or where the element falls in a 4 × 4 block: deterministic. Vector code: the caller checks
/// `DirectConvolution.isSupported` first.
public func rowDotProducts(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let vectorEnd = k / 16 * 16
    /// Writes `β·C[i, j] + lanes.sum() + tail(i, j)`.
    @inline(__always) func finish(_ i: Int, _ j: Int, _ lanes: Lanes) {
        var s = lanes.sum()
        let (ra, rb) = (a + i * lda, b + j * ldb)
        for l in vectorEnd..<k { s += ra[l] * rb[l] }
        let target = c + i * ldc + j
        target.pointee = beta == 0 ? s : beta * target.pointee + s
    }
    /// One element on its own, with the same lane sums as a block's.
    func single(_ i: Int, _ j: Int) {
        var lanes = Lanes()
        let (ra, rb) = (a + i * lda, b + j * ldb)
        var l = 0
        while l < vectorEnd { lanes.addProduct(load(ra + l), load(rb + l)); l += 16 }
        finish(i, j, lanes)
    }
    var i = 0
    while i + 4 <= m {
        var j = 0
        while j + 4 <= n {
            // A 4 × 4 block of C: sixteen accumulators, four rows of A and four of B loaded a step.
            var acc = (Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(),
                       Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes(), Lanes())
            let (a0, a1, a2, a3) = (a + i * lda, a + (i + 1) * lda, a + (i + 2) * lda, a + (i + 3) * lda)
            let (b0, b1, b2, b3) = (b + j * ldb, b + (j + 1) * ldb, b + (j + 2) * ldb, b + (j + 3) * ldb)
            var l = 0
            while l < vectorEnd {
                let (x0, x1, x2, x3) = (load(a0 + l), load(a1 + l), load(a2 + l), load(a3 + l))
                let (y0, y1, y2, y3) = (load(b0 + l), load(b1 + l), load(b2 + l), load(b3 + l))
                acc.0.addProduct(x0, y0); acc.1.addProduct(x0, y1); acc.2.addProduct(x0, y2); acc.3.addProduct(x0, y3)
                acc.4.addProduct(x1, y0); acc.5.addProduct(x1, y1); acc.6.addProduct(x1, y2); acc.7.addProduct(x1, y3)
                acc.8.addProduct(x2, y0); acc.9.addProduct(x2, y1); acc.10.addProduct(x2, y2); acc.11.addProduct(x2, y3)
                acc.12.addProduct(x3, y0); acc.13.addProduct(x3, y1); acc.14.addProduct(x3, y2); acc.15.addProduct(x3, y3)
                l += 16
            }
            finish(i, j, acc.0); finish(i, j + 1, acc.1); finish(i, j + 2, acc.2); finish(i, j + 3, acc.3)
            finish(i + 1, j, acc.4); finish(i + 1, j + 1, acc.5); finish(i + 1, j + 2, acc.6); finish(i + 1, j + 3, acc.7)
            finish(i + 2, j, acc.8); finish(i + 2, j + 1, acc.9); finish(i + 2, j + 2, acc.10); finish(i + 2, j + 3, acc.11)
            finish(i + 3, j, acc.12); finish(i + 3, j + 1, acc.13); finish(i + 3, j + 2, acc.14); finish(i + 3, j + 3, acc.15)
            j += 4
        }
        for jj in j..<n { for ii in i..<(i + 4) { single(ii, jj) } }
        i += 4
    }
    for ii in i..<m { for j in 0..<n { single(ii, j) } }
}
