// OpenBLAS's cblas interface (Debian: libopenblas-dev, pkg-config `openblas`). OpenBLAS's cblas.h
// also declares the extensions Untangle calls: openblas_set_num_threads, openblas_get_num_threads,
// openblas_get_config and openblas_get_corename.
#include <cblas.h>

#include <stdint.h>

// The calling thread's floating-point control register: MXCSR on x86-64, FPCR on AArch64
// (0 elsewhere). Read and written around Untangle's kernels, see `SubnormalFlush` in TensorCore.
static inline uint64_t untangle_fp_control_get(void) {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t csr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
    return csr;
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
#else
    return 0;
#endif
}

static inline void untangle_fp_control_set(uint64_t value) {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t csr = (uint32_t)value;
    __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
#elif defined(__aarch64__)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(value));
#else
    (void)value;
#endif
}

// The control bits that flush subnormal floats to zero: MXCSR FTZ (bit 15, subnormal results
// become ±0) and DAZ (bit 6, subnormal inputs read as ±0); FPCR FZ (bit 24, both). 0 where unknown.
static inline uint64_t untangle_fp_flush_bits(void) {
#if defined(__x86_64__) || defined(__i386__)
    return 0x8040;
#elif defined(__aarch64__)
    return (uint64_t)1 << 24;
#else
    return 0;
#endif
}

// A spin-wait hint for the worker threads of `Parallel` (x86 `pause`, AArch64 `yield`): a waiting
// loop that polls a flag stays off the memory bus and leaves the core to its sibling thread.
static inline void untangle_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
