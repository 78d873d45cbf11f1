import ArgumentParser
import CBLAS
import Foundation
import TensorCore

/// What subnormal operands cost a GEMM, and what `SubnormalFlush` buys back.
///
/// Times `C[m,n] = A[m,k]·B[k,n]` three ways on one thread: normal operands; `A` filled with
/// subnormals (|a| ≈ 10⁻³⁹) through `BLAS.gemm`, which flushes them; and the same through
/// `cblas_sgemm` directly, with the thread's default floating-point control (no flushing). The
/// default shape is the dlib conv VAE's `fc` weight gradient at batch 64 (`[256, 64]·[64, 1024]`).
struct SubnormalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subnormals",
        abstract: "GEMM seconds with normal operands, with subnormal ones (flushed, as Untangle runs them) and unflushed.")

    @Option(help: "Rows of A and C.") var m = 256
    @Option(help: "Columns of A, rows of B.") var k = 64
    @Option(help: "Columns of B and C.") var n = 1024
    @Option(help: "Timed repetitions of each product.") var repetitions = 20

    func run() throws {
        guard m > 0, k > 0, n > 0, repetitions > 0 else { throw ValidationError("--m, --k, --n and --repetitions must be positive") }
        Parallel.setThreadCount(1)
        let normal = (0..<(m * k)).map { Float(($0 % 7) + 1) * 0.1 }
        let subnormal = (0..<(m * k)).map { Float(($0 % 7) + 1) * 1e-39 }
        let b = (0..<(k * n)).map { Float(($0 % 5) + 1) * 0.2 }
        var c = [Float](repeating: 0, count: m * n)
        func flushed(_ a: [Float]) -> Double {
            secondsPerCall(repetitions) {
                BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
            }
        }
        let tNormal = flushed(normal), tFlushed = flushed(subnormal)
        let tUnflushed = secondsPerCall(repetitions) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, subnormal, Int32(k),
                        b, Int32(n), 0, &c, Int32(n))
        }
        print(String(format: "gemm [%d,%d]·[%d,%d], 1 thread, seconds per product:", m, k, k, n))
        print(String(format: "  normal operands          %.6f", tNormal))
        print(String(format: "  subnormal A, flushed     %.6f  (%.2f× normal)", tFlushed, tFlushed / tNormal))
        print(String(format: "  subnormal A, unflushed   %.6f  (%.1f× normal, %.1f× flushed)", tUnflushed, tUnflushed / tNormal, tUnflushed / tFlushed))
        print(String(format: "slowdown_unflushed=%.2f slowdown_flushed=%.3f", tUnflushed / tNormal, tFlushed / tNormal))
    }
}
