import CBLAS
import ConvKernels
import Foundation

/// Matrix products: OpenBLAS `cblas_sgemm`, or Untangle's own packed AVX-512 kernel
/// (`PackedGemm`) where OpenBLAS has not picked AVX-512 kernels on a CPU that has them.
public enum BLAS {
    /// The implementation behind ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:kernel:)``.
    public enum Kernel: String, Sendable {
        /// OpenBLAS's `cblas_sgemm`, with the kernels it chose for this CPU.
        case openBLAS
        /// `PackedGemm`: 8 × 32 AVX-512 register tiles over packed panels (needs AVX-512).
        case packed
    }

    /// OpenBLAS core names (`openblas_get_corename`, lower-cased) whose sgemm kernels use AVX-512.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Whether this CPU can run the packed kernel (AVX-512 on x86-64; `DirectConvolution.isSupported`).
    public static var packedKernelIsAvailable: Bool { DirectConvolution.isSupported }

    /// The kernel this process uses: `packed` when the CPU runs AVX-512 (`DirectConvolution.isSupported`)
    /// and OpenBLAS's chosen core is not one of its AVX-512 cores — e.g. OpenBLAS 0.3.21 on a CPU
    /// newer than it knows falls back to `Prescott` (SSE3) — else `openBLAS`. `UNTANGLE_PACKED_GEMM=0`
    /// forces OpenBLAS, `=1` the packed kernel where the CPU can run it. The choice changes results
    /// only by rounding; every run of one process uses one kernel.
    public static let kernel: Kernel = {
        let setting = ProcessInfo.processInfo.environment["UNTANGLE_PACKED_GEMM"]
        guard packedKernelIsAvailable, setting != "0" else { return .openBLAS }
        if setting == "1" { return .packed }
        return avx512Cores.contains(String(cString: openblas_get_corename()).lowercased()) ? .openBLAS : .packed
    }()

    /// Sets the number of OpenBLAS worker threads (process-wide).
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// The number of OpenBLAS worker threads.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
    /// OpenBLAS's description of its build and the CPU kernel set it chose.
    public static var configuration: String {
        let core = String(cString: openblas_get_corename())
        let config = String(cString: openblas_get_config())
        let choice = kernel == .packed ? "Untangle's packed AVX-512 kernel (OpenBLAS's core does not use AVX-512)" : "OpenBLAS"
        return "\(config) (core: \(core)); sgemm: \(choice)"
    }

    /// `C ← α·op(A)·op(B) + β·C` on raw row-major buffers, where `op(X)` is `X` or `Xᵀ`.
    ///
    /// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`,
    /// `ldc` are the row strides of the stored (untransposed) matrices. Runs with subnormals
    /// flushed to zero (`SubnormalFlush`), through `kernel` (default ``kernel``; `.packed` needs
    /// ``packedKernelIsAvailable``). Both run on the calling thread (`Parallel.setThreadCount` keeps
    /// OpenBLAS single-threaded; callers split the work).
    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, kernel: Kernel = BLAS.kernel) {
        if m == 0 || n == 0 { return }
        SubnormalFlush.flushing {
            if kernel == .packed {
                PackedGemm.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                return
            }
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}

extension Tensor {
    /// Matrix product `op(A)·op(B)` of rank-2 tensors, `op` optionally transposing.
    ///
    /// Concretely: `matmul(A [m,k], B [k,n]) → [m,n]`, `C_ij = Σ_p A_ip B_pj`. Through the packed
    /// kernel, whose rounding depends on k alone, a product of ≥ 2²⁰ multiply-adds is split by rows of
    /// C over `Parallel.threadCount` threads — bit for bit the single call's result; through OpenBLAS it
    /// is one call on the calling thread (its rounding may depend on m).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul: inner dimensions differ: \(transposeA ? "Aᵀ" : "A")\(a.shape) · \(transposeB ? "Bᵀ" : "B")\(b.shape)")
        let rowRanges = BLAS.kernel == .packed && m * n * k >= 1 << 20 ? Parallel.chunks(m) : [0..<m]
        return Tensor(shape: [m, n]) { c in
            if k == 0 { c.initialize(repeating: 0); return }
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    nonisolated(unsafe) let (pa, pb, pc) = (pa.baseAddress!, pb.baseAddress!, c.baseAddress!)
                    let lda = a.shape[1]
                    Parallel.forEach(rowRanges.count) { r in
                        let rows = rowRanges[r]
                        // Row i of op(A) starts at A[i, 0] (row stride lda), or at A[0, i] when transposed.
                        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k,
                                  a: pa + (transposeA ? rows.lowerBound : rows.lowerBound * lda), lda: lda, b: pb, ldb: b.shape[1],
                                  c: pc + rows.lowerBound * n, ldc: n)
                    }
                }
            }
        }
    }
}
