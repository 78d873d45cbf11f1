import Datasets
import Foundation
import Metrics
import Models
import TensorCore

/// `untangle demo`: the quick end-to-end tour on the built-in dSprites — train an Ada-GVAE
/// (printing the falling loss), name its latents, and write reconstructions,
/// traversals and the HTML report.
///
/// The recipe is the fastest measured here (`Experiments/budget-study.toml`): weak supervision
/// (Locatello et al. 2020) — each step sees 64 pairs of images that differ in one ground-truth
/// factor — with β 1 and Adam 1e-3; unsupervised β-VAEs need far more steps to separate posX,
/// posY and scale (the budget study's curves).
public enum Demo {
    /// The demo's experiment: an Ada-GVAE (β 1, k = 1, Z 10) on built-in dSprites, Adam 1e-3, 64 pairs a step.
    public static func config(steps: Int, architecture: Architecture, seed: UInt64, threads: Int) -> ExperimentConfig {
        var c = ExperimentConfig(name: "demo")
        c.description = "untangle demo: Ada-GVAE on built-in dSprites"
        c.seed = seed
        c.architecture = architecture
        c.objective = ObjectiveSettings(kind: .adaGVAE, beta: 1)
        c.changedFactors = .fixed(1)
        c.steps = steps
        c.learningRate = 1e-3
        c.threads = threads
        c.logEvery = 10
        c.checkpointEvery = max(10, (steps / 2) / 10 * 10)
        c.heldOut = 512
        return c
    }

    /// Runs the tour, sending human-readable lines to `say` (and the progress of probing and
    /// the report to `meter`); returns the report path.
    public static func run(steps: Int, architecture: Architecture, seed: UInt64, threads: Int, resultsRoot: String,
                           meter: WorkMeter? = nil, say: (String) -> Void) throws -> String {
        let config = config(steps: steps, architecture: architecture, seed: seed, threads: threads)
        let trainer = try Trainer(config: config, resultsRoot: resultsRoot)
        say("1/3 training an Ada-GVAE (weakly supervised: 64 pairs of images a step, each pair differing in one factor; β 1, Z 10, \(architecture == .conv ? "dlib conv" : "MLP") architecture) on built-in dSprites for \(steps) steps")
        say("  step      loss    recon       KL")
        let every = max(10, steps / 12 / 10 * 10)
        let metrics = try trainer.train(overwrite: true) { u in
            if u.step % every == 0 || u.step == u.totalSteps {
                say(String(format: "%6d  %8.2f  %7.2f  %7.2f", u.step, u.loss, u.reconstruction, u.kl))
            }
        }
        if let metrics {
            say(String(format: "on a fresh draw of images: reconstruction %.2f nats, KL %.2f nats, %d active latents", metrics.reconstruction, metrics.kl, metrics.activeUnits))
        }
        say("\n2/3 naming the latents by their mutual information with the ground-truth factors")
        let trained = try TrainedRun(path: trainer.run.path)
        let names = try trained.probe(points: 5000, meter: meter)
        say(TrainedRun.nameTable(names))
        let factors = (trained.dataset as? any GroundTruthDataset)?.factors.map(\.name) ?? []
        let named = LatentNaming.namedFactors(names.map(\.name), among: factors)
        say("latents named after a ground-truth factor: \(named.isEmpty ? "none" : named.joined(separator: ", "))")
        say("3/3 writing reconstructions, traversals and the report")
        let report = try trained.writeReport(meter: meter)
        say("open \(report)")
        say("or explore it live in the browser: untangle serve \(trained.run.path)   (swift run -c release untangle serve …)")
        return report
    }
}
