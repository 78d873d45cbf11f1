import Experiments
import Foundation
import Metrics
import NN
import Testing

/// A run directory written by Untangle 0.2.0 (before checksums, run-lock registry and the stage
/// changes of 0.3.0), committed under `Fixtures/run-0.2.0/`: today's code must read it the same
/// way — same run id from its config, its weights load (noted as unchecksummed), and `probe` and
/// `evaluate` give the values 0.2.0 wrote.
@Suite struct CompatibilityTests {
    /// A writable copy of the committed run (stages write into it and take its lock).
    func copiedRun() throws -> String {
        let source = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("run-0.2.0").path
        let target = temporaryDirectory() + "/run-0.2.0"
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return target + "/compat/c239ae7ad170"
    }

    @Test func aRunWrittenBy020ReadsTheSameWay() throws {
        let path = try copiedRun()
        let run = try RunDirectory(existing: path)
        let config = try run.loadConfig()
        #expect(config.runID == "c239ae7ad170", "the run id of a resolved config must never change")
        #expect(run.isComplete)
        let trained = try TrainedRun(path: path)
        let oldNames = try #require(try run.decode([LatentName].self, from: "factors.json"))
        let oldEvaluation = try #require(try EvaluationRecord.read(from: run), "0.2.0's evaluation.json decodes as today's record")
        let names = try trained.probe(points: 500)
        #expect(names.map(\.name) == oldNames.map(\.name))
        // Names and MI shares come from discretised codes and must match exactly. The KL per latent is
        // a float32 mean over encoder outputs, and OpenBLAS (DYNAMIC_ARCH) picks its sgemm kernel by
        // CPU, each with its own summation order: on the committed run, OPENBLAS_CORETYPE Prescott, Core2,
        // Nehalem, Sandybridge, Haswell, SkylakeX, Cooperlake, Zen and Atom give KLs within 4.04e-7 of
        // 0.2.0's (relative; Haswell, Cooperlake and Zen exactly), SkylakeX 2.5e-7 — a few float32 ulps.
        // The bound is 10x that spread: another machine passes; a changed KL formula moves it by far more.
        for (new, old) in zip(names, oldNames) {
            #expect(abs(new.share - old.share) < 1e-12 && abs(new.kl - old.kl) <= 4e-6 * abs(old.kl), "\(new) vs \(old)")
        }
        let (values, _) = try trained.evaluate(try MetricRegistry.parseList("mig,modularity"), trainCount: 300, evalCount: 100)
        for (name, value) in values {
            let old = try #require(oldEvaluation.scores[name], "0.2.0 wrote no \(name)")
            #expect(abs(value - old) < 1e-12, "\(name): \(value) today, \(old) in 0.2.0")
        }
    }
}
