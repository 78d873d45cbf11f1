import CBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The persistent threads behind `Parallel.forEach`: part 0 of a loop runs on the caller, part `w`
/// on worker `w`, and between loops each worker polls for the next one for `spinNanoseconds`
/// (0.2 ms) before it sleeps on a condition variable.
///
/// A training step runs about a hundred parallel loops of 0.05–2 ms; Dispatch's `concurrentPerform`
/// put its threads to sleep after each, and waking a sleeping thread takes tens of microseconds
/// (more under a hypervisor), which left a second core idle for ~10 % of a 2-thread step (measured:
/// 23.0 CPU-seconds in 12.75 s of wall clock). Polling briefly is what OpenMP runtimes do (GOMP's
/// `GOMP_SPINCOUNT`, which PyTorch's CPU kernels inherit). The split of a loop into parts is the
/// caller's and is the same as before, so results do not change: only who waits, and how.
///
/// One loop at a time: a second caller (another thread running its own loop concurrently, as tests
/// do) or a loop nested inside a part gets `false` from `run` and uses its fallback.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a waiting thread polls before it sleeps (a worker) or yields between polls (the caller).
    static let spinNanoseconds = 200_000

    /// Monotonic nanoseconds (vDSO `clock_gettime`, ~20 ns).
    static func now() -> Int {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return t.tv_sec * 1_000_000_000 + t.tv_nsec
    }

    /// Polls `done` with a pause between polls until it holds or `spinNanoseconds` have passed
    /// (the clock read every 32 polls); whether it held.
    @inline(__always)
    static func spin(until done: () -> Bool) -> Bool {
        let deadline = now() + spinNanoseconds
        while true {
            for _ in 0..<32 {
                if done() { return true }
                untangle_spin_pause()
            }
            if now() > deadline { return false }
        }
    }

    /// `generation << 16 | parts`: a new loop bumps the generation; `parts` says which workers take part.
    private let state = Atomic<Int>(0)
    /// Workers of the current loop that have not finished their part.
    private let remaining = Atomic<Int>(0)
    /// Whether a loop is running (taken by `run` with a compare-exchange).
    private let busy = Atomic<Bool>(false)
    /// The current loop's part function (written before `state` is released, read after it is acquired).
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    /// Workers started and workers asleep (both under `mutex`).
    nonisolated(unsafe) private var started = 0, sleeping = 0

    private init() {
        mutex = .allocate(capacity: 1); wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil); pthread_cond_init(wake, nil)
    }

    /// Runs `part(p)` for `p` in `0..<parts` — 0 on this thread, the others on workers 1… — and
    /// returns when all have finished; `false` (nothing run) when the pool is taken or this is a worker.
    func run(parts: Int, _ part: (Int) -> Void) -> Bool {
        guard parts > 1, parts < 1 << 16, !Self.isWorker,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        startWorkers(parts - 1)
        withoutActuallyEscaping(part) { part in
            job = part
            remaining.store(parts - 1, ordering: .relaxed)
            pthread_mutex_lock(mutex)
            let generation = (state.load(ordering: .relaxed) >> 16) + 1
            state.store(generation << 16 | parts, ordering: .releasing)
            if sleeping > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)
            part(0)
            let finished = { self.remaining.load(ordering: .acquiring) == 0 }
            if !Self.spin(until: finished) {
                while !finished() { sched_yield() }
            }
            job = nil
        }
        return true
    }

    /// Starts workers up to `count` (they are never stopped: an idle worker sleeps).
    private func startWorkers(_ count: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while started < count {
            started += 1
            let index = started, seen = state.load(ordering: .relaxed)
            let thread = Thread(index: index, seen: seen, pool: self)
            var handle = pthread_t()
            let context = Unmanaged.passRetained(thread).toOpaque()
            let created = pthread_create(&handle, nil, { raw in
                Unmanaged<WorkerPool.Thread>.fromOpaque(raw!).takeRetainedValue().loop()
                return nil
            }, context)
            precondition(created == 0, "WorkerPool: could not start a worker thread (pthread_create \(created))")
            pthread_detach(handle)
        }
    }

    /// The thread-specific key marking pool workers.
    private static let workerKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the calling thread is one of the pool's workers.
    static var isWorker: Bool { pthread_getspecific(workerKey) != nil }

    /// One worker: its index (the part it runs) and the last state it handled.
    private final class Thread {
        let index: Int, pool: WorkerPool
        var seen: Int

        init(index: Int, seen: Int, pool: WorkerPool) { (self.index, self.seen, self.pool) = (index, seen, pool) }

        func loop() -> Never {
            pthread_setspecific(WorkerPool.workerKey, UnsafeRawPointer(bitPattern: 1))
            while true {
                let current = next()
                seen = current
                if index < current & 0xFFFF {
                    pool.job!(index)
                    pool.remaining.subtract(1, ordering: .releasing)
                }
            }
        }

        /// The next state different from `seen`: polled for `spinNanoseconds`, then waited for asleep.
        private func next() -> Int {
            var current = seen
            if WorkerPool.spin(until: { current = pool.state.load(ordering: .acquiring); return current != seen }) { return current }
            pthread_mutex_lock(pool.mutex)
            defer { pthread_mutex_unlock(pool.mutex) }
            while pool.state.load(ordering: .acquiring) == seen {
                pool.sleeping += 1
                pthread_cond_wait(pool.wake, pool.mutex)
                pool.sleeping -= 1
            }
            return pool.state.load(ordering: .acquiring)
        }
    }
}
