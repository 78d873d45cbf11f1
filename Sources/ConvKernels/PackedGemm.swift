// A packed single-precision matrix product on the same 8 × 32 AVX-512 register tile as the direct
// convolutions (`Tile`), for CPUs whose OpenBLAS build does not recognise them.
//
// OpenBLAS picks its kernels at load time from the CPU's family and model. A build that predates
// a CPU (Debian 12's OpenBLAS 0.3.21 on a 5th-generation Xeon, model 207) falls back to its
// `Prescott` kernels — SSE3, 4 lanes, no FMA — and its sgemm runs at 33 GFLOP/s on two cores
// where the same library's `SkylakeX` kernels reach 297 (measured on such a machine, 2026-12-06).
// Untangle must not override the library's choice (`OPENBLAS_CORETYPE`), so `BLAS.gemm` routes
// its products here instead when the CPU has AVX-512 and OpenBLAS's core does not use it.
//
// The scheme is the textbook one (Goto & van de Geijn 2008, "Anatomy of high-performance matrix
// multiplication"; BLIS's microkernel): C is computed in blocks of `kBlock × nBlock` of op(B), whose
// panels of 32 columns the microkernel reads in place when B is untransposed and packed otherwise,
// op(A) is packed in panels of 8 rows, and the microkernel runs one 8 × 32 tile of C over a
// block's `k` with sixteen `SIMD16<Float>` accumulators. Partial panels are zero-padded when
// packed, so the microkernel never branches; only the tile's store looks at the edges.

/// Packed `sgemm` for row-major matrices, single-threaded (callers split the work, as they do
/// for OpenBLAS: `Parallel` runs it single-threaded too).
public enum PackedGemm {
    /// The `k` extent of one packed block: a block's 8-row panel of op(A) is 8 KiB (in L1) and
    /// its op(B) panel of 32 columns 32 KiB.
    static let kBlock = 256
    /// The `n` extent of one packed block of op(B): 256 × 512 floats = 512 KiB (in L2).
    static let nBlock = 512

    /// `C ← α·op(A)·op(B) + β·C`, with `op(X)` = `X` or `Xᵀ`, on raw row-major buffers.
    ///
    /// Concretely, for `i < m`, `j < n`: `acc = Σ_{p < k} op(A)[i, p]·op(B)[p, j]`, summed in order
    /// of `p` from 0 with one fused multiply-add per term within each block of `kBlock` terms;
    /// the first block stores `α·acc + β·C[i, j]` (β = 0 never reads C, as BLAS specifies), each
    /// later block adds `α·acc` to that. So every element's rounding is fixed by `k` alone —
    /// the same whatever `m`, `n` or the caller's split of the work — and results are
    /// deterministic.
    /// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`, `ldc` are the
    /// row strides of the stored (untransposed) matrices. Vector code: the caller checks
    /// `DirectConvolution.isSupported` first.
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0 && n > 0 else { return }
        guard k > 0 else {
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
            }
            return
        }
        // A tile is 8 rows × 32 columns of C. When C is narrow (n < 32: a weight gradient with 16
        // columns), the tiles run over Cᵀ = op(B)ᵀ·op(A)ᵀ instead and store transposed, whichever
        // pads less; each element is the same sum of the same products in the same order either way.
        let padded = { (rows: Int, columns: Int) in (rows + 7) / 8 * 8 * ((columns + 31) / 32 * 32) }
        if padded(n, m) < padded(m, n) {
            tiles(transposeA: !transposeB, transposeB: !transposeA, m: n, n: m, k: k, alpha: alpha, a: b, lda: ldb, b: a, ldb: lda,
                  beta: beta, c: c, rowStep: 1, columnStep: ldc)
        } else {
            tiles(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, rowStep: ldc, columnStep: 1)
        }
    }

    /// The blocked loops of ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``,
    /// writing element `(i, j)` of the product at `c[i·rowStep + j·columnStep]`.
    static func tiles(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, rowStep: Int, columnStep: Int) {
        let panelColumns = 32, panelRows = directTileWidth
        let kc = Swift.min(k, kBlock), nc = Swift.min((n + panelColumns - 1) / panelColumns * panelColumns, nBlock)
        // Transposed, a block's every panel is packed; untransposed, only a partial last one.
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * (transposeB ? nc : panelColumns))
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: kc * panelRows)
        let edge = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * panelColumns)
        defer { packedB.deallocate(); packedA.deallocate(); edge.deallocate() }
        for j0 in Swift.stride(from: 0, to: n, by: nBlock) {
            let columns = Swift.min(nBlock, n - j0)
            for p0 in Swift.stride(from: 0, to: k, by: kBlock) {
                let depth = Swift.min(kBlock, k - p0)
                // Untransposed B is read in place, a full panel's row p at `b + (p0 + p)·ldb`, which
                // saves a copy of B that small-m products (conv1: m = 32, k = 16) spend as long on as
                // on the arithmetic; only a partial last panel is packed (zero-padded).
                packB(b, ldb: ldb, transposed: transposeB, rows: p0..<(p0 + depth), columns: j0..<(j0 + columns), into: packedB)
                let blockBeta = p0 == 0 ? beta : 1
                for i0 in Swift.stride(from: 0, to: m, by: panelRows) {
                    let rows = Swift.min(panelRows, m - i0)
                    packA(a, lda: lda, transposed: transposeA, rows: i0..<(i0 + rows), depth: p0..<(p0 + depth), into: packedA)
                    for jr in Swift.stride(from: 0, to: columns, by: panelColumns) {
                        let width = Swift.min(panelColumns, columns - jr), inPlace = !transposeB && width == panelColumns
                        let panel = inPlace ? b + p0 * ldb + j0 + jr : UnsafePointer(packedB + (transposeB ? jr * depth : 0))
                        let panelStride = inPlace ? ldb : panelColumns
                        var tile = Tile()
                        for p in 0..<depth {
                            tile.add(packedA + p * panelRows, spacing: 1, load(panel + p * panelStride), load(panel + p * panelStride + 16))
                        }
                        let target = c + i0 * rowStep + (j0 + jr) * columnStep
                        if rows == panelRows && width == panelColumns && columnStep == 1 {
                            tile.combine(into: target, rowStride: rowStep, alpha: alpha, beta: blockBeta)
                        } else {
                            tile.store(to: edge)
                            for t in 0..<rows {
                                for v in 0..<width {
                                    let q = target + t * rowStep + v * columnStep
                                    q.pointee = combined(edge[t * panelColumns + v], alpha: alpha, beta: blockBeta, q.pointee)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `α·acc + β·c`, the one formula of every store (vector or scalar, so edges round alike).
    @inline(__always) static func combined(_ acc: Float, alpha: Float, beta: Float, _ c: Float) -> Float {
        var v = acc
        if alpha != 1 { v = alpha * v }
        if beta != 0 { v = v + beta * c }
        return v
    }

    /// Packs `op(B)[rows, columns]` as consecutive panels of 32 columns, each `rows.count × 32`
    /// floats row by row, columns past `columns` zero. Untransposed, only a partial last panel
    /// is packed, at `out` (full ones are read in place).
    @inline(__always)
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, rows: Range<Int>, columns: Range<Int>,
                      into out: UnsafeMutablePointer<Float>) {
        let depth = rows.count
        for j in Swift.stride(from: 0, to: columns.count, by: 32) {
            let panel = transposed ? out + j * depth : out, width = Swift.min(32, columns.count - j), j0 = columns.lowerBound + j
            if transposed {
                // op(B)[p, j] = B[j, p]: each stored row of B is one packed column.
                for v in 0..<width {
                    let source = b + (j0 + v) * ldb + rows.lowerBound
                    for p in 0..<depth { panel[p * 32 + v] = source[p] }
                }
                if width < 32 { for p in 0..<depth { (panel + p * 32 + width).update(repeating: 0, count: 32 - width) } }
            } else if width < 32 {
                for p in 0..<depth {
                    let target = panel + p * 32
                    target.update(from: b + (rows.lowerBound + p) * ldb + j0, count: width)
                    (target + width).update(repeating: 0, count: 32 - width)
                }
            }
        }
    }

    /// Packs `op(A)[rows, depth]` (at most 8 rows) as `depth.count × 8` floats, position `p`'s
    /// 8 row values together, rows past `rows` zero.
    @inline(__always)
    static func packA(_ a: UnsafePointer<Float>, lda: Int, transposed: Bool, rows: Range<Int>, depth: Range<Int>,
                      into out: UnsafeMutablePointer<Float>) {
        let count = rows.count, width = directTileWidth
        if transposed {
            // op(A)[i, p] = A[p, i]: a stored row of A holds the panel's 8 values of one p.
            for p in 0..<depth.count {
                let target = out + p * width
                target.update(from: a + (depth.lowerBound + p) * lda + rows.lowerBound, count: count)
                if count < width { (target + count).update(repeating: 0, count: width - count) }
            }
        } else {
            for t in 0..<width {
                guard t < count else {
                    for p in 0..<depth.count { out[p * width + t] = 0 }
                    continue
                }
                let source = a + (rows.lowerBound + t) * lda + depth.lowerBound
                for p in 0..<depth.count { out[p * width + t] = source[p] }
            }
        }
    }
}

extension Tile {
    /// `p[t·rowStride + v] = α·tile[t][v] + β·p[t·rowStride + v]` for the 8 rows × 32 columns
    /// (`PackedGemm.combined`, lane by lane); β = 0 never reads `p`.
    @inline(__always) func combine(into p: UnsafeMutablePointer<Float>, rowStride: Int, alpha: Float, beta: Float) {
        func put(_ t: Int, _ x: Lanes, _ y: Lanes) {
            let row = p + rowStride * t
            var u = x, w = y
            if alpha != 1 { u = alpha * u; w = alpha * w }
            if beta != 0 { u = u + beta * load(row); w = w + beta * load(row + 16) }
            UnsafeMutableRawPointer(row).storeBytes(of: u, as: Lanes.self)
            UnsafeMutableRawPointer(row + 16).storeBytes(of: w, as: Lanes.self)
        }
        put(0, a0, b0); put(1, a1, b1); put(2, a2, b2); put(3, a3, b3)
        put(4, a4, b4); put(5, a5, b5); put(6, a6, b6); put(7, a7, b7)
    }
}
