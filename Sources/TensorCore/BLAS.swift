import CBLAS

/// Matrix products through OpenBLAS `cblas_sgemm`.
public enum BLAS {
    /// Sets the number of OpenBLAS worker threads (process-wide).
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// The number of OpenBLAS worker threads.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
    /// OpenBLAS's description of its build and the CPU kernel set it chose.
    public static var configuration: String {
        let core = String(cString: openblas_get_corename())
        let config = String(cString: openblas_get_config())
        return "\(config) (core: \(core))"
    }

    /// `C ← α·op(A)·op(B) + β·C` on raw row-major buffers, where `op(X)` is `X` or `Xᵀ`.
    ///
    /// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`,
    /// `ldc` are the row strides of the stored (untransposed) matrices. Runs with subnormals
    /// flushed to zero (`SubnormalFlush`).
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        SubnormalFlush.flushing {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}

extension Tensor {
    /// Matrix product `op(A)·op(B)` of rank-2 tensors, `op` optionally transposing.
    ///
    /// Concretely: `matmul(A [m,k], B [k,n]) → [m,n]`, `C_ij = Σ_p A_ip B_pj`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul: inner dimensions differ: \(transposeA ? "Aᵀ" : "A")\(a.shape) · \(transposeB ? "Bᵀ" : "B")\(b.shape)")
        return Tensor(shape: [m, n]) { c in
            if k == 0 { c.initialize(repeating: 0); return }
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                              c: c.baseAddress!, ldc: n)
                }
            }
        }
    }
}
