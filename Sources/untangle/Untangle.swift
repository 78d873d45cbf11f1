import ArgumentParser
import Foundation
import Experiments
import Models
import TensorCore

/// `untangle <stage>`: the command-line front end. Each subcommand only parses
/// its arguments and calls library code.
@main
struct Untangle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untangle",
        abstract: "A workbench for disentangled representations: train VAEs, probe and name their factors, explain decisions.",
        version: UntangleVersion.string,
        subcommands: [Version.self, Demo.self, DataCommand.self, Train.self, Reconstruct.self, Evaluate.self, Probe.self, Traverse.self, Report.self, Classify.self, Explain.self, Compare.self,
                      RunCommand.self, Sweep.self, Summarize.self, CurveCommand.self, Score.self])

    static func main() {
        Memory.keepLargeBuffersResident()
        main(nil)
    }
}

enum UntangleVersion {
    static let string = "0.1.0"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the Untangle version and the BLAS it runs on.")

    func run() {
        print("untangle \(UntangleVersion.string)")
        print("BLAS: \(BLAS.configuration)")
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A quick end-to-end tour on the built-in dSprites: train an Ada-GVAE, name its latents, write the report.",
        discussion: "About two minutes on 2 cores with the defaults. Writes Results/demo/<run-id>/ (replaced on every run).")

    @Option(help: "Training steps.") var steps = 800
    @Option(help: "conv (dlib) or mlp.") var architecture = "conv"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Root directory of run directories.") var results = "Results"

    func validate() throws {
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10, got \(steps)") }
        guard ["conv", "mlp"].contains(architecture) else { throw ValidationError("--architecture must be conv or mlp, got \(architecture)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        _ = try Experiments.Demo.run(steps: steps, architecture: architecture == "conv" ? .conv : .mlp(hidden: [256, 128]),
                                     seed: seed, threads: threads, resultsRoot: results) { print($0); fflush(nil) }
    }
}
