import ArgumentParser
import Experiments
import Foundation
import TensorCore

struct Traverse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write latent traversals of a run: RUN/figures/traversals.png (labelled), traversals-plain.png, traversals.gif.",
        discussion: "Each active latent (sorted by KL, named from factors.json when probed) is varied around the mean code of 16 held-out images.")

    @OptionGroup var target: RunArguments
    @Option(help: "Steps per latent.") var steps = 11
    @Option(help: "prior (±limit σ) or empirical (the latent's held-out range).") var range = "prior"
    @Option(help: "Prior range in standard deviations.") var limit = 2.0
    @Flag(help: "Also show inactive latents.") var all = false
    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard TraversalRange(rawValue: range) != nil else { throw ValidationError("--range must be prior or empirical, got \(range)") }
        guard steps >= 2, limit > 0 else { throw ValidationError("--steps ≥ 2, --limit > 0") }
    }

    func run() throws {
        threading.apply()
        let trained = try target.open()
        for path in try trained.writeTraversals(steps: steps, range: TraversalRange(rawValue: range)!, limit: limit, includeInactive: all,
                                                       meter: ConsoleProgress.meter()) {
            print("wrote \(path)")
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assemble RUN/index.html: config, metrics, factor names, figures, reconstructions and traversals (works offline).")

    @OptionGroup var target: RunArguments
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        print("wrote \(try target.open().writeReport(meter: ConsoleProgress.meter()))")
    }
}

struct CurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curve",
        abstract: "Print a run's learning curve (RUN/curve.csv, from training.eval_every); --rescore recomputes its metrics from the kept codes.",
        discussion: """
        --rescore recomputes MIG, SAP, DCI and modularity of every row from RUN/curve/codes-STEP.npy with \
        today's metric definitions (for curves written by an earlier version) and rewrites curve.csv; \
        steps, times, active units and names are kept.
        """)

    @Argument(help: "Run directories.") var runDirectories: [String]
    @Flag(help: "Recompute the code-based metrics and rewrite curve.csv.") var rescore = false
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        threading.apply()
        for path in runDirectories {
            let points = rescore ? try LearningCurve.rescore(run: path)
                : try LearningCurve.read((path as NSString).appendingPathComponent(LearningCurve.fileName))
            print(path + (rescore ? " (rescored)" : ""))
            print(LearningCurve.table(points), terminator: "")
        }
    }
}
