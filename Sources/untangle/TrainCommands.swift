import ArgumentParser
import Experiments
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VAE from an experiment config into Results/<experiment>/<run-id>/.",
        discussion: """
        Any config key can be overridden: --set model.beta=8 --set training.steps=2000.
        A finished run is never retrained unless --overwrite; an unfinished one continues with --resume.
        Exit status 75: another process works on the run (it holds RUN/.lock, as `untangle run` and `sweep` do).
        """)

    @Option(help: "The experiment config (TOML).") var config: String
    @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config key: section.key=value (repeatable).")
    var overrides: [String] = []
    @Option(help: "Shorthand for --set training.steps=N.") var steps: Int?
    @Option(help: "Shorthand for --set experiment.seed=N.") var seed: Int?
    @Option(help: "Shorthand for --set training.threads=N.") var threads: Int?
    @Option(help: "Root directory of run directories.") var results = "Results"
    @Flag(help: "Continue an unfinished run from its last checkpoint.") var resume = false
    @Flag(help: "Delete an existing run directory and train again.") var overwrite = false

    var allOverrides: [String] {
        overrides + [steps.map { "training.steps=\($0)" }, seed.map { "experiment.seed=\($0)" },
                     threads.map { "training.threads=\($0)" }].compactMap { $0 }
    }

    func validate() throws {
        guard !(resume && overwrite) else { throw ValidationError("--resume and --overwrite exclude each other") }
        do { _ = try ExperimentConfig.load(path: config, overrides: allOverrides) } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let experiment = try ExperimentConfig.load(path: config, overrides: allOverrides)
        let trainer = try Trainer(config: experiment, resultsRoot: results)
        print("run \(trainer.run.path)  (\(experiment.objective.kind.rawValue), \(experiment.dataset), \(experiment.steps) steps, seed \(experiment.seed))")
        let progress = ConsoleProgress(plainEvery: max(10, experiment.steps / 20))
        let result: HeldOutMetrics?
        do {
            result = try trainer.train(resume: resume, overwrite: overwrite, progress: progress.update)
        } catch let busy as RunPipeline.Busy {
            print(busy.description)
            throw ExitCode(RunCommandExit.busy)
        }
        guard let metrics = result else { return }
        print(String(format: "fresh draw of %d images (own seed, same data as training): reconstruction %.2f nats, KL %.2f nats, ELBO %.2f, active units %d",
                     metrics.heldOut, metrics.reconstruction, metrics.kl, metrics.elbo, metrics.activeUnits))
        print("wrote \(trainer.run.metricsPath)")
    }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export latent codes for your own analysis: codes.npy (mean, log-variance), indices, factors, labels.",
        discussion: """
        Writes RUN/encode/ (or --output): codes.npy float32 [N, 2, Z] (mean, log-variance), indices.npy int64 [N], \
        factors.npy int64 [N, F] when the data set has factors, labels.csv (index, label, annotation columns) when it \
        has labels, and manifest.json (latent and factor names). Default N: every image of a set of up to 100,000, \
        else a seeded sample of 10,000.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "Data set to encode (default: the run's own).") var data: String?
    @Option(help: "Number of images (default: all up to 100,000, else 10,000 sampled).") var count: Int?
    @Option(help: "Seed of the sample.") var seed: UInt64 = 0
    @Option(help: "Output directory (default RUN/encode).") var output: String?
    @Flag(help: "Also write images.npy, the encoder's inputs (float32 [N, C, H, W]).") var images = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws { if let count, count <= 0 { throw ValidationError("--count must be positive") } }

    func run() throws {
        threading.apply()
        let directory = output ?? target.file("encode")
        let export = try target.open().exportCodes(dataSpec: data, count: count, seed: seed, images: images, output: directory) { print($0) }
        print("wrote \(export.files.joined(separator: ", ")) (\(export.count) images, \(export.latents) latents) to \(directory)")
    }
}

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write RUN/reconstructions.png: held-out inputs above their reconstructions.")

    @OptionGroup var target: RunArguments
    @Option(help: "Number of images.") var count = 10
    @Option(help: "Output PNG (default RUN/reconstructions.png).") var output: String?

    func validate() throws { guard count > 0 else { throw ValidationError("--count must be positive") } }

    func run() throws {
        let trained = try target.open()
        print("wrote \(try trained.writeReconstructions(count: count, output: output))")
    }
}
