/// Process-wide allocator tuning for training loops.
public enum Memory {
    /// Keeps large buffers on the heap instead of fresh `mmap`s.
    ///
    /// glibc serves allocations above 128 KiB with `mmap` and returns them with
    /// `munmap`, so every training step would page-fault its activations (tens of
    /// MB) in again, zero-filled by the kernel. Raising the mmap threshold (to 32 MiB,
    /// the largest glibc accepts on 64-bit) and the trim threshold lets freed activation
    /// buffers be reused by the next step; buffers of 32 MiB and more (conv1's activation
    /// at batch 256 of 64×64 images, any larger image) would still be mmapped afresh, so
    /// `mmap` is switched off for allocations altogether (`M_MMAP_MAX` 0: the heap serves
    /// them, and glibc still falls back to `mmap` where the heap cannot grow). Measured:
    /// the training step at batch 256 on 1 thread, 664–680 → 799–802 images/s, peak RSS
    /// unchanged (283–302 against 296 MiB). Idempotent; a no-op off glibc.
    public static func keepLargeBuffersResident() {
        #if os(Linux)
        // <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4 (not exported
        // by the Glibc module).
        _ = glibcMallopt(-3, 1 << 25)
        _ = glibcMallopt(-1, Int32.max)
        _ = glibcMallopt(-4, 0)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A heap buffer of `Float`s owned by a reference (freed on deinit), for per-chunk
/// intermediates that parallel kernels fill and pullbacks keep. Splitting large
/// intermediates into per-thread buffers keeps each under glibc's mmap threshold, so
/// they are recycled from the heap instead of page-faulted in afresh every step.
public final class ScratchBuffer: @unchecked Sendable {
    /// The storage (uninitialised until written).
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// `count` uninitialised floats.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
