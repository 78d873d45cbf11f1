import Experiments
import Foundation
import Metrics
import TensorCore
import Testing

/// Long steps show done/total, rate and ETA while they run — a redrawn line on a terminal,
/// plain lines in logs — and showing it changes no result.
@Suite struct ProgressTests {
    final class ManualClock: @unchecked Sendable {
        var now = 0.0
        func read() -> Double { now }
    }

    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    }

    @Test func plainLinesComeEveryTenSecondsOfAPhaseAndNotForShortPhases() {
        let clock = ManualClock(), out = Lines(), drawn = Lines()
        let meter = ConsoleProgress.meter(isTerminal: false, plainEvery: 10, indent: "  ", clock: { clock.read() },
                                          draw: drawn.add, write: out.add)
        meter.begin("encoding 10 images", total: 10, unit: "images")
        for _ in 0..<10 { clock.now += 3; meter.advance() }
        meter.end()
        #expect(out.lines == ["  encoding 10 images 4/10 images (40 %)  0.3 images/s  ETA 18s",
                              "  encoding 10 images 8/10 images (80 %)  0.3 images/s  ETA 6s"])
        meter.begin("short", total: 3, unit: "trees")
        for _ in 0..<3 { clock.now += 3; meter.advance() }
        meter.end()
        #expect(out.lines.count == 2 && drawn.lines.isEmpty)
    }

    @Test func aTerminalGetsOneRedrawnLineClearedAtTheEnd() {
        let clock = ManualClock(), out = Lines(), drawn = Lines()
        let meter = ConsoleProgress.meter(isTerminal: true, quiet: 1, clock: { clock.read() }, draw: drawn.add, write: out.add)
        meter.begin("quick", total: 2, unit: "steps")
        clock.now += 0.5; meter.advance()
        clock.now += 0.3; meter.advance()
        meter.end()
        #expect(drawn.lines.isEmpty, "a phase under a second draws nothing: \(drawn.lines)")
        clock.now = 10
        meter.begin("fitting", total: 4, unit: "stages")
        for _ in 0..<4 { clock.now += 0.5; meter.advance() }
        meter.end()
        #expect(drawn.lines == ["\r\u{1B}[K" + "fitting [████████········] 2/4 stages  2.0 stages/s  ETA 1s",
                                "\r\u{1B}[K" + "fitting [████████████····] 3/4 stages  2.0 stages/s  ETA 1s",
                                "\r\u{1B}[K" + "fitting [████████████████] 4/4 stages  2.0 stages/s  ETA 0s", "\r\u{1B}[K"])
        #expect(out.lines.isEmpty)
    }

    @Test func evaluateReportsEveryLongStepAndScoresTheSameWithAMeter() throws {
        let dir = temporaryDirectory()
        let t = try Trainer(config: ExperimentConfig.load(path: writeConfig(tinyConfig(steps: 8), in: dir)), resultsRoot: dir)
        try t.train()
        let trained = try TrainedRun(path: t.run.path)
        final class Finished: @unchecked Sendable {
            let lock = NSLock()
            var readings: [WorkMeter.Reading] = []
        }
        let finished = Finished()
        let meter = WorkMeter(interval: 0) { r, done in
            guard done else { return }
            finished.lock.lock(); finished.readings.append(r); finished.lock.unlock()
        }
        let metrics = try MetricRegistry.parseList("betavae,factorvae,mig,dci,dci-forest")
        let plain = try trained.evaluate(metrics, trainCount: 100, evalCount: 50, batchSize: 4).values
        let metered = try trained.evaluate(metrics, trainCount: 100, evalCount: 50, batchSize: 4, meter: meter).values
        #expect(plain.map(\.0) == metered.map(\.0) && plain.map(\.1) == metered.map(\.1))
        let labels = finished.readings.map(\.label)
        for prefix in ["encode-sample: encoding 100 points", "encode-sample: encoding 50 points", "betavae: encoding",
                       "factorvae: encoding", "dci: fitting 5 gradient-boosted models", "dci-forest: fitting 5 random forests"] {
            #expect(labels.contains { $0.hasPrefix(prefix) }, "\(prefix) in \(labels)")
        }
        #expect(finished.readings.allSatisfy { $0.done == $0.total && $0.total > 0 }, "\(finished.readings)")
        #expect(finished.readings.first { $0.label.hasPrefix("dci: ") }?.total == 5 * 100)
    }
}
