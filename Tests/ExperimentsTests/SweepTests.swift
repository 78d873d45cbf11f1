import Experiments
import Foundation
import Testing

let sweepBase = """
[experiment]
name = "study"
[model]
architecture = "mlp"
hidden = [8]
latents = 2
[training]
steps = 10
batch_size = 8
threads = 1

"""

@Suite struct SweepPlanTests {
    let dir = temporaryDirectory()

    @Test func expandsZipThenProductThenSeedsInOrder() throws {
        let path = writeConfig(sweepBase + """
        [sweep]
        seeds = [0, 7]
        [sweep.product]
        "model.beta" = [1, 4]
        training.learning_rate = [1e-3, 1e-4, 5e-4]
        [sweep.zip]
        "model.kind" = ["beta-vae", "beta-tcvae"]
        "model.latents" = [2, 3]
        """, in: dir)
        let plan = try ExperimentPlan.load(path: path)
        let points = try plan.points()
        #expect(points.count == 2 * 2 * 3 * 2)
        #expect(points.map(\.index) == Array(0..<24))
        // zip outermost, then product keys sorted (model.beta slowest), seeds innermost
        let first = points[0].config, second = points[1].config, third = points[2].config
        #expect(first.objective.kind == .betaVAE && first.latentCount == 2 && first.objective.beta == 1 && first.learningRate == 1e-3)
        #expect(first.seed == 0 && second.seed == 7 && second.learningRate == 1e-3)
        #expect(third.learningRate == 1e-4 && third.objective.beta == 1)
        #expect(points[6].config.objective.beta == 4)
        #expect(points[12].config.objective.kind == .betaTCVAE && points[12].config.latentCount == 3)
        #expect(Set(points.map(\.config.runID)).count == 24)
        #expect(points[1].label == "kind=\"beta-vae\" latents=2 beta=1 learning_rate=0.001 seed=7")
        // the run id does not depend on the stage settings or the sweep section
        let single = try ExperimentPlan.load(path: path, overrides: ["model.beta=4", "evaluation.probe=true"])
        #expect(single.base.runID == (try ExperimentPlan.load(path: path, overrides: ["model.beta=4"])).base.runID)
        #expect(try plan.point(nil).config == plan.base)
        #expect(try plan.point(23).config == points[23].config)
        expectConfigError("--index 24", "runs 0…23") { _ = try plan.point(24) }
    }

    @Test func rejectsBadSweeps() throws {
        func load(_ sweep: String) throws { _ = try ExperimentPlan.load(path: writeConfig(sweepBase + sweep, in: dir)) }
        expectConfigError("sweep.zip", "equal lengths") { try load("[sweep.zip]\n\"model.beta\" = [1, 2]\n\"model.latents\" = [2]\n") }
        expectConfigError("'model.bta' is not a run key") { try load("[sweep.product]\n\"model.bta\" = [1, 2]\n") }
        expectConfigError("'evaluation.probe' is not a run key") { try load("[sweep.product]\n\"evaluation.probe\" = [true]\n") }
        expectConfigError("sweep.product.model.beta: empty value list") { try load("[sweep.product]\n\"model.beta\" = []\n") }
        expectConfigError("repeats a seed") { try load("[sweep]\nseeds = [1, 1]\n") }
        expectConfigError("needs seeds") { try load("[sweep]\nworkers = 2\n") }
        expectConfigError("swept twice") { try load("[sweep]\nseeds = [1]\n[sweep.product]\n\"experiment.seed\" = [2, 3]\n") }
        // β is ignored by FactorVAE, so both values give the same run
        expectConfigError("sweep runs 0 and 1 resolve to the same run") {
            try load("[sweep.product]\n\"model.beta\" = [1, 2]\n\"model.kind\" = [\"factor-vae\"]\n")
        }
        // a swept value that is invalid for the run names the run and the key
        expectConfigError("sweep run 1", "model.beta: must be ≥ 0") { try load("[sweep.product]\n\"model.beta\" = [1, -2]\n") }
        expectConfigError("evaluation.metrics: unknown metric 'migg'") { try load("[evaluation]\nmetrics = [\"migg\"]\n") }
        expectConfigError("explanation.compare needs explanation.classify") { try load("[explanation]\ncompare = true\n") }
        expectConfigError("slurm.time") { try load("[slurm]\ntime = \"four hours\"\n") }
    }

    @Test func slurmScriptCoversTheRunsNotDone() throws {
        let path = writeConfig(sweepBase + """
        [slurm]
        partition = "short"
        memory = "2G"
        max_parallel = 3
        extra = ["--account=lab"]
        [sweep]
        seeds = [0, 1, 2, 3]
        """, in: dir)
        let results = dir + "/results"
        let plan = try ExperimentPlan.load(path: path, overrides: ["training.threads=2", "model.hidden=[8, 4]"])
        let executor = SweepExecutor(plan: plan, resultsRoot: results, executable: "/opt/untangle")
        // pretend run 1 is done
        let run1 = results + "/study/" + (try plan.points()[1].config.runID)
        try FileManager.default.createDirectory(atPath: run1, withIntermediateDirectories: true)
        let fingerprint = plan.stages.fingerprint
        let marker = try JSONSerialization.data(withJSONObject: ["stages": fingerprint])
        try marker.write(to: URL(fileURLWithPath: run1 + "/stages.json"))
        let snapshot = try executor.snapshot()
        #expect(snapshot.hasPrefix(results + "/study/sweeps/config-") && FileManager.default.contents(atPath: snapshot) == FileManager.default.contents(atPath: path))
        let (script, indices) = try #require(try executor.slurmScript(snapshot: snapshot))
        #expect(indices == [0, 2, 3])
        for line in ["#SBATCH --array=0,2-3%3", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=2G", "#SBATCH --partition=short",
                     "#SBATCH --account=lab", "#SBATCH --output=\(results)/study/slurm/%A_%a.out",
                     "/opt/untangle run \(snapshot) --index \"$SLURM_ARRAY_TASK_ID\" --results \(results) --set training.threads=2 --set 'model.hidden=[8, 4]' &",
                     // preemption: a warning signal before the time limit, passed on to the run, and a requeue on status 76
                     "#SBATCH --signal=B:USR1@180", "#SBATCH --requeue", "trap 'kill -USR1 \"$child\" 2>/dev/null' USR1",
                     "if [ \"$status\" -eq 76 ]; then", "scontrol requeue \"$SLURM_JOB_ID\""] {
            #expect(script.contains(line), "missing: \(line)\n\(script)")
        }
        #expect(SweepExecutor.compactRanges([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8")
        let report = try executor.statusReport()
        #expect(report.contains("4 runs in \(results)/study: 3 pending, 1 done"), "\(report)")
    }
}

@Suite struct SummaryTests {
    let dir = temporaryDirectory()

    /// A finished-looking run directory with the given β, seed and metric values.
    func fakeRun(beta: Double, seed: Int, kind: String = "beta-vae", mig: Double, elbo: Double) throws {
        let path = writeConfig(sweepBase, in: dir, name: "tmp.toml")
        var config = try ExperimentConfig.load(path: path, overrides: ["model.beta=\(beta)", "experiment.seed=\(seed)", "model.kind=\"\(kind)\""])
        config.name = "study"
        let run = dir + "/study/" + config.runID
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try config.resolvedTOML.write(toFile: run + "/config.toml", atomically: true, encoding: .utf8)
        try "{\"elbo\": \(elbo), \"step\": 10, \"kl_per_latent\": [1, 2]}".write(toFile: run + "/metrics.json", atomically: true, encoding: .utf8)
        try EvaluationRecord(trainPoints: 100, evalPoints: 50, batchSize: 64, seed: 0, scores: ["mig": mig], seconds: ["mig": 1.5])
            .write(to: try RunDirectory(existing: run))
    }

    @Test func aggregatesSeedsPerHyperparameter() throws {
        try fakeRun(beta: 4, seed: 0, mig: 0.1, elbo: -100)
        try fakeRun(beta: 4, seed: 1, mig: 0.3, elbo: -110)
        try fakeRun(beta: 1, seed: 0, mig: 0.05, elbo: -90)
        try FileManager.default.createDirectory(atPath: dir + "/study/logs", withIntermediateDirectories: true) // not a run
        let summary = try ExperimentSummary(directory: dir + "/study")
        #expect(summary.rows.count == 3)
        #expect(summary.varyingKeys == ["experiment.seed", "model.beta"])
        #expect(summary.numericKeys == ["model.beta"])
        #expect(summary.metricNames == ["heldout.elbo", "mig"]) // no step, per-latent list or seconds
        let runs = summary.runsCSV.split(separator: "\n")
        #expect(runs[0].hasPrefix("run_id,status,data.dataset,evaluation.held_out,experiment.seed,model.architecture"))
        #expect(runs[0].hasSuffix(",heldout.elbo,mig"))
        #expect(runs[1].contains(",unfinished,") && runs[1].hasSuffix(",-90,0.05")) // β 1 sorts first
        let aggregate = summary.aggregateCSV.split(separator: "\n").map(String.init)
        #expect(aggregate[0] == "model.beta,n,heldout.elbo.mean,heldout.elbo.std,heldout.elbo.median,mig.mean,mig.std,mig.median")
        #expect(aggregate[1] == "1.0,1,-90,0,-90,0.05,0,0.05")
        // mean 0.2, sample std of (0.1, 0.3) = 0.141421…, median 0.2; elbo mean −105, std 7.07107, median −105
        #expect(aggregate[2] == "4.0,2,-105,7.07107,-105,0.2,0.141421,0.2")
        let files = try summary.write(figures: true)
        #expect(files.contains(dir + "/study/summary/mig-vs-beta.png"))
        #expect(files.contains(dir + "/study/summary/heldout_elbo-vs-beta.png"))
        let data = try String(contentsOfFile: dir + "/study/summary/mig-vs-beta.0.dat", encoding: .utf8)
        #expect(data == "1.0 0.05 0.0\n4.0 0.2 0.1414213562373095\n" || data.hasPrefix("1.0 0.05 0.0\n4.0 0.2"), "\(data)")
        let chosen = try summary.write(output: dir + "/chosen", figures: true, metrics: ["heldout.*"])
        #expect(chosen.filter { $0.hasSuffix(".png") } == [dir + "/chosen/heldout_elbo-vs-beta.png"])
        expectConfigError("--metrics dci.*", "matches no metric") { _ = try summary.write(output: dir + "/x", metrics: ["dci.*"]) }
        expectConfigError("holds no finished training runs") { _ = try ExperimentSummary(directory: dir + "/study/logs") }
    }

    @Test func modelComparisonGetsErrorBarsPerModel() throws {
        try fakeRun(beta: 4, seed: 0, mig: 0.1, elbo: -100)
        try fakeRun(beta: 4, seed: 1, mig: 0.2, elbo: -100)
        try fakeRun(beta: 6, seed: 0, kind: "beta-tcvae", mig: 0.3, elbo: -100)
        let summary = try ExperimentSummary(directory: dir + "/study")
        // β differs too, but only with the model: no hyperparameter axis, error bars per model
        #expect(summary.numericKeys.isEmpty)
        let files = try summary.write(figures: true)
        #expect(files.contains(dir + "/study/summary/mig.png") && !files.contains { $0.contains("-vs-") })
        let data = try String(contentsOfFile: dir + "/study/summary/mig.dat", encoding: .utf8)
        #expect(data.hasPrefix("0 \"beta-tcvae\" 0.3 0.0\n1 \"beta-vae\" 0.15"), "\(data)") // sorted by model kind
    }
}
