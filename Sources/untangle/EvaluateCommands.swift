import ArgumentParser
import Datasets
import Experiments
import Foundation
import Metrics
import TensorCore

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a trained run's disentanglement; writes RUN/evaluation.json and prints a table.",
        discussion: """
        Metrics (disentanglement_lib's definitions unless named otherwise): \(MetricRegistry.helpText). \
        Defaults: 10,000 training / 5,000 evaluation points, batch 64, mean representation, seed 0.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "all, or a comma list (e.g. mig,dci,sap).") var metrics = "all"
    @Option(help: "Training points.") var train = 10_000
    @Option(name: .customLong("eval"), help: "Evaluation points.") var evalCount = 5_000
    @Option(help: "Batch size of BetaVAE pairs / FactorVAE votes.") var batch = 64
    @Option(help: "Sampling seed.") var seed: UInt64 = 0
    @OptionGroup var threading: ThreadOptions
    @Flag(help: "Replace an existing evaluation.json.") var overwrite = false

    func validate() throws {
        do { _ = try MetricRegistry.parseOption(metrics) } catch let error as ConfigError { throw ValidationError(error.description) }
        guard train > 1, evalCount > 0, batch > 1 else { throw ValidationError("--train > 1, --eval > 0, --batch > 1") }
    }

    func run() throws {
        threading.apply()
        let trained = try target.open()
        let existing = target.file(EvaluationRecord.fileName)
        if FileManager.default.fileExists(atPath: existing) && !overwrite {
            throw CommandFailure("\(existing) exists; pass --overwrite to compute it again")
        }
        var chosen = try MetricRegistry.parseOption(metrics)
        if metrics == "all", trained.annotationFactors != nil, !(trained.dataset is any GroundTruthDataset) {
            chosen = chosen.filter { $0.need != .evaluator }
            print("annotated image folder: the BetaVAE and FactorVAE scores need a factor grid; computing \(chosen.map(\.name).joined(separator: ", "))")
        }
        let (values, seconds) = try trained.evaluate(chosen, trainCount: train, evalCount: evalCount,
                                                     batchSize: batch, seed: seed, meter: ConsoleProgress.meter(indent: "  ")) { print("  " + $0); fflush(nil) }
        printScoreTable(values)
        let total = seconds.reduce(0) { $0 + $1.1 }
        print(String(format: "time: %.1f s (%@)", total, seconds.map { String(format: "%@ %.1f", $0.0, $0.1) }.joined(separator: ", ")))
        let points = trained.evaluationPoints(train: train, eval: evalCount)
        if points != (train, evalCount) { print("on the annotated images: \(points.train) training and \(points.eval) evaluation points") }
        let path = try trained.evaluationRecord(values: values, seconds: seconds, trainCount: train, evalCount: evalCount,
                                                batchSize: batch, seed: seed).write(to: trained.run)
        print("wrote \(path)")
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Name the latents: writes RUN/mi_matrix.csv and RUN/factors.json and prints the table.",
        discussion: """
        With ground truth a latent is named after the factor with the highest MI (nats) when that factor holds \
        ≥ 50 % of the latent's MI, the runner-up ≤ half the best, and the latent carries ≥ 10 % of the factor's \
        entropy (else mixed(a,b), or unnamed); a factor named by n latents reads "posX (1 of n)". An image folder's CSV \
        columns (other than the label) are ground truth the same way — numbers binned, empty cells left out; probe lists \
        which it used. Without either, after the image property (centroid, area, intensity, orientation, eccentricity) \
        that changes monotonically along the traversal by ≥ ½ its spread in the data and ≥ 2× any other (a near-tie is \
        mixed(a,b)). \
        Latents with KL ≤ 0.01 nats are inactive. --rename 3=x-position overrides.
        """)

    @OptionGroup var target: RunArguments
    @Option(help: "Override a name: LATENT=NAME (repeatable).") var rename: [String] = []
    @Option(help: "Points for the MI matrix.") var points = 10_000
    @OptionGroup var threading: ThreadOptions

    var renames: [Int: String] {
        get throws {
            var out: [Int: String] = [:]
            for r in rename {
                let parts = r.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let l = Int(parts[0].drop { $0 == "z" }), !parts[1].isEmpty else {
                    throw ValidationError("--rename takes LATENT=NAME (e.g. 3=x-position), got '\(r)'")
                }
                out[l] = String(parts[1])
            }
            return out
        }
    }

    func validate() throws {
        _ = try renames
        guard points > 1 else { throw ValidationError("--points must be at least 2") }
    }

    func run() throws {
        threading.apply()
        let trained = try target.open()
        if let summary = trained.annotationSummary() { print(summary, terminator: "") }
        let names = try trained.probe(renames: try renames, points: points, meter: ConsoleProgress.meter())
        print(TrainedRun.nameTable(names), terminator: "")
        print("wrote \(target.file("factors.json"))")
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score external codes: every sample-based metric on CODES.npy [N, Z] against FACTORS.npy [N, F].",
        discussion: """
        Metrics: \(MetricRegistry.all.filter { $0.need == .sample }.map(\.name).joined(separator: ", ")) — the same \
        definitions as `evaluate`. Each factor column's distinct values become its classes. The first --train-fraction \
        of the rows train the metrics' classifiers, the rest evaluate them.
        """)

    @Argument(help: "Codes, [N, Z] .npy (any numeric dtype).") var codes: String
    @Argument(help: "Ground-truth factors, [N, F] .npy.") var factors: String
    @Option(help: "Fraction of rows used as training points.") var trainFraction = 2.0 / 3
    @Option(help: "Seed of the metrics' own randomness.") var seed: UInt64 = 0
    @Option(help: "Also write the scores as JSON here.") var output: String?
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard trainFraction > 0 && trainFraction < 1 else { throw ValidationError("--train-fraction must lie in (0, 1), got \(trainFraction)") }
    }

    func run() throws {
        threading.apply()
        let sample = try ExternalCodes.load(codes: codes, factors: factors, trainFraction: trainFraction)
        print("\(sample.trainCodes.count) training + \(sample.evalCodes.count) evaluation points, \(sample.latentCount) latents, factors with \(sample.classCounts.map(String.init).joined(separator: "/")) classes")
        let scores = ExternalCodes.score(sample, seed: seed)
        printScoreTable(scores)
        if let output {
            let data = try JSONSerialization.data(withJSONObject: Dictionary(scores, uniquingKeysWith: { a, _ in a }), options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(data + Data("\n".utf8), to: output)
            print("wrote \(output)")
        }
    }
}

/// Prints `name  value` lines, the names padded to the longest one plus two spaces (so a long
/// name such as `dci_forest.informativeness_train` never runs into its value), values to 4 places.
func printScoreTable(_ scores: [(String, Double)]) {
    let width = (scores.map(\.0.count).max() ?? 0) + 2
    for (name, value) in scores { print(name.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "%.4f", value)) }
}
