import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread-specific key marking a thread inside ``Parallel/serially(_:)``.
private let serialKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Data-parallel loops over the machine's cores.
///
/// Untangle does its own threading: OpenBLAS runs single-threaded, and the batch
/// (or a GEMM's rows) is split into `threadCount` contiguous chunks processed
/// concurrently. Every index is handled by exactly one thread with a fixed order
/// of operations, so results depend on the thread count but never on scheduling:
/// runs are bit-for-bit reproducible for a given `threadCount`. (OpenBLAS's own
/// threads busy-wait between calls and would compete with these loops for cores.)
/// The loops run on `WorkerPool`'s persistent threads, which poll for the next loop for
/// 0.2 ms before they sleep: a training step's hundred short loops then start without
/// waking a thread each time.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = 1

    /// Threads used by `forEach` and `chunks`. Default 1; 1 on a thread inside ``serially(_:)``.
    public static var threadCount: Int { pthread_getspecific(serialKey) == nil ? configuredThreads : 1 }

    /// Runs `body` with this thread's parallel loops inline (``threadCount`` 1 on this thread): for work
    /// already split over the threads at a coarser grain — each thread one share of a batch — whose
    /// inner loops would otherwise wake the other threads for every small piece. Results are those of
    /// one thread.
    public static func serially<R>(_ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(serialKey)
        pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(serialKey, previous) }
        return try body()
    }

    /// Sets the thread count for Untangle's parallel loops (OpenBLAS stays single-threaded).
    /// Call once at start-up.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "Parallel.setThreadCount: need at least 1 thread, got \(n)")
        configuredThreads = n
        BLAS.setThreadCount(1)
    }

    /// `0..<count` split into at most `threadCount` contiguous, non-empty ranges.
    public static func chunks(_ count: Int) -> [Range<Int>] {
        let t = Swift.max(1, Swift.min(threadCount, count))
        return (0..<t).map { (count * $0 / t)..<(count * ($0 + 1) / t) }
    }

    /// `0..<count` split into contiguous, near-equal pieces of at most `maximumPerPiece`
    /// items and at least `threadCount` pieces (fewer only when `count` is smaller).
    public static func pieces(_ count: Int, maximumPerPiece: Int) -> [Range<Int>] {
        let n = Swift.min(count, Swift.max(threadCount, (count + Swift.max(maximumPerPiece, 1) - 1) / Swift.max(maximumPerPiece, 1)))
        return (0..<Swift.max(n, 1)).map { (count * $0 / Swift.max(n, 1))..<(count * ($0 + 1) / Swift.max(n, 1)) }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, in `threadCount` contiguous chunks,
    /// running single-threaded when there are fewer than `minimumPerThread` items per thread.
    /// `body` must write disjoint memory for distinct `i`. Each thread's share runs with
    /// subnormals flushed to zero (`SubnormalFlush`).
    @inlinable
    public static func forEach(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        let threads = Swift.min(threadCount, count / Swift.max(minimumPerThread, 1))
        if threads <= 1 {
            SubnormalFlush.flushing { for i in 0..<count { body(i) } }
            return
        }
        run(parts: threads) { t in
            let start = count * t / threads, end = count * (t + 1) / threads
            SubnormalFlush.flushing { for i in start..<end { body(i) } }
        }
    }

    /// Runs `part(t)` for `t` in `0..<parts` concurrently: on `WorkerPool`'s threads, or through
    /// Dispatch when the pool is running another loop (a concurrent caller, or a loop inside a part).
    @usableFromInline
    static func run(parts: Int, _ part: (Int) -> Void) {
        if WorkerPool.shared.run(parts: parts, part) { return }
        withoutActuallyEscaping(part) { part in
            nonisolated(unsafe) let work = part
            DispatchQueue.concurrentPerform(iterations: parts) { work($0) }
        }
    }

    /// Calls `body(range)` on contiguous blocks covering `0..<count`: one block when
    /// `count < minimumParallelCount` (not worth waking threads), else one per thread.
    /// Used by elementwise kernels; `body` must write disjoint memory per index.
    @inlinable
    public static func forEachBlock(_ count: Int, minimumParallelCount: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        if threadCount == 1 || count < minimumParallelCount {
            SubnormalFlush.flushing { body(0..<count) }
            return
        }
        let ranges = chunks(count)
        forEach(ranges.count) { body(ranges[$0]) }
    }
}
