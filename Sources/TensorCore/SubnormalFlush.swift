import CBLAS

/// Subnormal floats flushed to zero inside Untangle's kernels.
///
/// A subnormal `Float` (0 < |x| < 2⁻¹²⁶ ≈ 1.18·10⁻³⁸) is handled by microcode on x86 cores:
/// an FMA with a subnormal operand or result costs ~100× a normal one. Training produces them —
/// gradients that decay toward zero (a latent the KL term has switched off, Adam's moments of
/// such weights) feed the backward GEMMs — and OpenBLAS's `sgemm` on such operands was measured
/// 123–179× slower on one x86-64 thread (`untangle-bench subnormals`); a DIP-VAE-II run on
/// dSprites slowed from 246 to ≈ 1,300 CPU seconds per 1,000 steps as they accumulated. So every kernel runs with the
/// thread's flush bits set — x86 MXCSR FTZ (results) and DAZ (inputs), AArch64 FPCR FZ — as
/// TensorFlow and oneDNN do on CPUs by default (`torch.set_flush_denormal(True)` in PyTorch).
///
/// Numerically a subnormal is replaced by a signed zero: an absolute change below 1.2·10⁻³⁸,
/// invisible at float32 precision next to any normal value. The register is per thread, so
/// `flushing` sets it on the thread it runs on and restores the previous value afterwards:
/// `Parallel.forEach` wraps each thread's share of a loop and `BLAS.gemm` each product, so
/// results do not depend on which thread (or which caller's setting) runs them.
public enum SubnormalFlush {
    /// Runs `body` with subnormal flushing on for the current thread, restoring the
    /// thread's previous floating-point control afterwards (nesting is free).
    @inlinable
    public static func flushing<R>(_ body: () throws -> R) rethrows -> R {
        let saved = enter()
        defer { leave(saved) }
        return try body()
    }

    /// Sets the flush bits on the current thread; returns the previous control value.
    @usableFromInline
    static func enter() -> UInt64 {
        let saved = untangle_fp_control_get()
        let flushed = saved | untangle_fp_flush_bits()
        if flushed != saved { untangle_fp_control_set(flushed) }
        return saved
    }

    /// Restores a control value returned by `enter`.
    @usableFromInline
    static func leave(_ saved: UInt64) {
        if untangle_fp_control_get() != saved { untangle_fp_control_set(saved) }
    }

    /// Whether the current thread flushes subnormals now (false where the platform has no flush bits).
    public static var isActive: Bool {
        let bits = untangle_fp_flush_bits()
        return bits != 0 && untangle_fp_control_get() & bits == bits
    }
}
