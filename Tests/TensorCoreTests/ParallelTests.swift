import Dispatch
import Foundation
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

    /// `forEach` on the worker pool: every index of every loop runs exactly once — thousands of short
    /// loops in a row (workers between polling and sleeping), loops nested in a part, and loops from
    /// several threads at once (one of them gets the pool, the others Dispatch).
    @Test func poolLoopsRunEveryIndexOnce() {
        Parallel.setThreadCount(3)
        defer { Parallel.setThreadCount(1) }
        /// Runs `loops` loops of 1…37 indices, each index adding 1 to its slot; whether every slot is 1.
        @Sendable func loopsCover(_ loops: Int, nested: Bool) -> Bool {
            var good = true
            for loop in 0..<loops {
                let count = 1 + loop % 37
                var hits = [Int](repeating: 0, count: count * (nested ? 5 : 1))
                hits.withUnsafeMutableBufferPointer { h in
                    nonisolated(unsafe) let h = h
                    Parallel.forEach(count) { i in
                        if nested { Parallel.forEach(5) { h[i * 5 + $0] += 1 } } else { h[i] += 1 }
                    }
                }
                good = good && hits.allSatisfy { $0 == 1 }
                if loop % 500 == 499 { usleep(1_000) } // let the workers fall asleep now and then
            }
            return good
        }
        #expect(loopsCover(3_000, nested: false))
        #expect(loopsCover(300, nested: true))
        var results = [Bool](repeating: false, count: 4)
        results.withUnsafeMutableBufferPointer { r in
            nonisolated(unsafe) let r = r
            DispatchQueue.concurrentPerform(iterations: 4) { r[$0] = loopsCover(500, nested: $0 == 3) }
        }
        #expect(results == [true, true, true, true])
    }
}
