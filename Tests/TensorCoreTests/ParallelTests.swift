import TensorCore
import Testing

/// `Parallel.serially` makes a thread's loops inline (thread count 1 there, nested calls included)
/// and leaves the configured count to other threads and to the thread afterwards.
@Suite struct ParallelTests {
    @Test func seriallyRunsThisThreadsLoopsInline() {
        Parallel.setThreadCount(2)
        defer { Parallel.setThreadCount(1) }
        let counts = Parallel.serially { () -> [Int] in
            let inner = Parallel.threadCount
            let nested = Parallel.serially { Parallel.threadCount }
            return [inner, nested, Parallel.threadCount, Parallel.chunks(10).count]
        }
        #expect(counts == [1, 1, 1, 1])
        #expect(Parallel.threadCount == 2 && Parallel.chunks(10).count == 2)
        // Each of two workers, inside `serially`, sees one thread; the shares cover every index once.
        var seen = [Int](repeating: 0, count: 2), covered = [Int](repeating: 0, count: 100)
        seen.withUnsafeMutableBufferPointer { s in covered.withUnsafeMutableBufferPointer { c in
            nonisolated(unsafe) let (s, c) = (s, c)
            let shares = Parallel.chunks(100)
            Parallel.forEach(shares.count) { t in
                Parallel.serially {
                    s[t] = Parallel.threadCount
                    Parallel.forEach(shares[t].count) { c[shares[t].lowerBound + $0] += 1 }
                }
            }
        } }
        #expect(seen == [1, 1] && covered.allSatisfy { $0 == 1 })
    }
}
