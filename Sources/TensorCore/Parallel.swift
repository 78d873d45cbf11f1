import Dispatch

/// Data-parallel loops over the machine's cores, for memory-bound kernels
/// (im2col, col2im, layout changes) that OpenBLAS does not cover.
///
/// Work is split into `threadCount` contiguous chunks, so the result never
/// depends on scheduling: every index is handled by exactly one thread with a
/// fixed order of operations, keeping runs bit-for-bit reproducible.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = 1

    /// Threads used by `forEach` (and OpenBLAS, via `setThreadCount`). Default 1.
    public static var threadCount: Int { configuredThreads }

    /// Sets the thread count for `forEach` and for OpenBLAS. Call once at start-up.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "Parallel.setThreadCount: need at least 1 thread, got \(n)")
        configuredThreads = n
        BLAS.setThreadCount(n)
    }

    /// Calls `body(i)` for every `i` in `0..<count`, in `threadCount` contiguous chunks.
    /// `body` must write disjoint memory for distinct `i`.
    @inlinable
    public static func forEach(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        let threads = Swift.min(threadCount, count / Swift.max(minimumPerThread, 1))
        if threads <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let start = count * t / threads, end = count * (t + 1) / threads
                for i in start..<end { work(i) }
            }
        }
    }
}
