import Foundation
import TensorCore
import Testing

/// The meter counts, throttles and estimates as documented, from any thread.
@Suite struct WorkMeterTests {
    /// A clock the test moves by hand.
    final class ManualClock: @unchecked Sendable {
        var now = 100.0
        func read() -> Double { now }
    }

    /// Every reading the observer got, with whether it ended its phase.
    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var readings: [(WorkMeter.Reading, Bool)] = []
        func add(_ r: WorkMeter.Reading, _ finished: Bool) { lock.lock(); readings.append((r, finished)); lock.unlock() }
    }

    @Test func readingsAreThrottledAndEstimateRateAndTimeLeft() {
        let clock = ManualClock(), log = Log()
        let meter = WorkMeter(interval: 1, clock: { clock.read() }, observer: log.add)
        meter.advance(by: 5)  // no phase: nothing
        meter.begin("encoding", total: 10, unit: "images")
        for _ in 0..<3 { clock.now += 0.5; meter.advance(by: 1) }
        meter.end()
        // Reported at 1.0 s (2 done) only, then once at the end (3 done after 1.5 s).
        #expect(log.readings.count == 2)
        let (running, runningDone) = log.readings[0], (last, lastDone) = log.readings[1]
        #expect(!runningDone && running.done == 2 && running.total == 10 && running.seconds == 1)
        #expect(running.rate == 2 && running.secondsRemaining == 4 && running.fraction == 0.2)
        #expect(lastDone && last.done == 3 && last.seconds == 1.5 && last.label == "encoding" && last.unit == "images")
        meter.end()  // no open phase: nothing more
        #expect(log.readings.count == 2)
    }

    @Test func countsClampToTheTotalAndBeginEndsTheOpenPhase() {
        let clock = ManualClock(), log = Log()
        let meter = WorkMeter(interval: 0, clock: { clock.read() }, observer: log.add)
        meter.begin("a", total: 3, unit: "trees")
        meter.advance(by: 7)
        meter.begin("b", total: 2, unit: "steps")
        #expect(log.readings.map(\.0.label) == ["a", "a"] && log.readings.map(\.1) == [false, true])
        #expect(log.readings[1].0.done == 3 && log.readings[1].0.fraction == 1)
        let empty = WorkMeter.Reading(label: "x", unit: "u", done: 0, total: 0, seconds: 0)
        #expect(empty.fraction == 1 && empty.secondsRemaining.isInfinite && empty.rate == 0)
    }

    @Test func scopedMetersPrefixTheirLabelsAndShareTheObserver() {
        let log = Log()
        let meter = WorkMeter(interval: 0, observer: log.add)
        let inner = meter.scoped("betavae").scoped("pool")
        inner.begin("encoding", total: 1, unit: "images")
        inner.end()
        #expect(log.readings.map(\.0.label) == ["betavae: pool: encoding"])
    }

    @Test func advancesFromManyThreadsAllCount() {
        let log = Log()
        let meter = WorkMeter(interval: 0, observer: log.add)
        meter.begin("parallel", total: 10_000, unit: "items")
        DispatchQueue.concurrentPerform(iterations: 10_000) { _ in meter.advance() }
        meter.end()
        #expect(log.readings.last?.0.done == 10_000 && log.readings.last?.1 == true)
        #expect(log.readings.filter(\.1).count == 1)
    }
}
