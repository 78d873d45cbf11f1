/// Process-wide allocator tuning for training loops.
public enum Memory {
    /// Keeps large buffers on the heap instead of fresh `mmap`s.
    ///
    /// glibc serves allocations above 128 KiB with `mmap` and returns them with
    /// `munmap`, so every training step would page-fault its activations (tens of
    /// MB) in again, zero-filled by the kernel. Raising the mmap and trim
    /// thresholds lets freed activation buffers be reused by the next step.
    /// Idempotent; a no-op off glibc.
    public static func keepLargeBuffersResident() {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (not exported by the Glibc module).
        _ = glibcMallopt(-3, 1 << 30)
        _ = glibcMallopt(-1, Int32.max)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
