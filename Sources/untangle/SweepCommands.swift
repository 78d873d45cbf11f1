import ArgumentParser
import Experiments
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage of one run of an experiment: train, evaluate, probe, classify, compare.",
        discussion: """
        Without --index: the config as written (sweep ignored). With --index I: run I of the config's [sweep] \
        (what each Slurm array task runs). Stages already done are skipped, training resumes from its last \
        checkpoint; RUN/stages.json marks the run done. Exit status 75: another process works on the run.
        """)

    @Argument(help: "The experiment config (TOML).") var config: String
    @Option(help: "Run index within the config's sweep (0-based; $SLURM_ARRAY_TASK_ID).") var index: Int?
    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config key: section.key=value (repeatable).")
    var overrides: [String] = []
    @Option(help: "Root directory of run directories.") var results = "Results"

    func run() throws {
        RunCommandExit.dieWithParentIfWorker()
        let plan = try ExperimentPlan.load(path: config, overrides: overrides)
        let point = try plan.point(index)
        let pipeline = RunPipeline(config: point.config, stages: plan.stages, resultsRoot: results)
        print("run \(point.index) \(point.config.runID)  \(point.label)  →  \(pipeline.run.path)")
        fflush(nil)
        do {
            try pipeline.execute { print($0); fflush(nil) }
        } catch let busy as RunPipeline.Busy {
            print(busy.description)
            throw ExitCode(RunCommandExit.busy)
        }
    }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run all runs of an experiment's [sweep]: local worker processes or a Slurm job array.",
        discussion: """
        Runs have stable ids (a hash of their resolved config) and live in Results/<experiment>/<run-id>/. \
        Finished runs are skipped, unfinished ones continue from their checkpoints, so a killed sweep is \
        restarted by running the same command. --executor slurm writes an sbatch job array (resources from \
        [slurm]) and submits it; each task runs `untangle run CONFIG --index $SLURM_ARRAY_TASK_ID`. \
        --status reads done/running/failed from the run directories.
        """)

    @Argument(help: "The experiment config (TOML) with a [sweep] section.") var config: String
    @Option(help: "local or slurm.") var executor = "local"
    @Option(help: "Local worker processes (default: [sweep] workers, else cores ÷ training.threads).") var workers: Int?
    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config key for every run (repeatable).")
    var overrides: [String] = []
    @Option(help: "Root directory of run directories.") var results = "Results"
    @Flag(help: "Show each run's status and exit.") var status = false
    @Flag(help: "List the runs without running anything.") var dryRun = false
    @Flag(help: "Run failed runs again (local executor).") var retryFailed = false
    @Flag(help: "Slurm: write the sbatch script only.") var noSubmit = false

    func validate() throws {
        guard ["local", "slurm"].contains(executor) else { throw ValidationError("--executor must be local or slurm, got \(executor)") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        let plan = try ExperimentPlan.load(path: config, overrides: overrides)
        let sweep = SweepExecutor(plan: plan, resultsRoot: results)
        if status || dryRun {
            print(try sweep.statusReport(), terminator: "")
            return
        }
        if executor == "slurm" {
            _ = try sweep.runSlurm(submit: !noSubmit) { print($0); fflush(nil) }
            return
        }
        let outcome = try sweep.runLocal(workers: workers ?? sweep.defaultWorkers, retryFailed: retryFailed) { print($0); fflush(nil) }
        if !outcome.failed.isEmpty || !outcome.skippedFailed.isEmpty { throw ExitCode(1) }
    }
}

struct Summarize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Aggregate an experiment's runs: summary/runs.csv, summary/aggregate.csv and metric-vs-hyperparameter figures.",
        discussion: """
        Every run directory under the experiment with a metrics.json counts (sweep runs or single runs). \
        Figures: each metric against each swept numeric hyperparameter, mean ± std over seeds, one line per \
        model; error bars per model when only non-numeric keys (model.kind) vary.
        """)

    @Argument(help: "An experiment directory (Results/<experiment>).") var experiment: String
    @Option(help: "Output directory (default EXPERIMENT/summary).") var output: String?
    @Flag(help: "CSV files only, no figures.") var noFigures = false
    @Option(help: "Metrics to plot: comma list of names or prefixes ending in * (e.g. mig,dci.*,classify.tree.*).")
    var metrics: String?

    func run() throws {
        let summary = try ExperimentSummary(directory: experiment)
        let patterns = metrics.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let files = try summary.write(output: output, figures: !noFigures, metrics: patterns)
        print("\(summary.rows.count) runs; varying: \(summary.varyingKeys.joined(separator: ", "))")
        print(summary.overview, terminator: "")
        let figures = files.filter { $0.hasSuffix(".png") }.count
        print("wrote \(files.filter { $0.hasSuffix(".csv") }.joined(separator: ", ")) and \(figures) figure\(figures == 1 ? "" : "s")")
    }
}
