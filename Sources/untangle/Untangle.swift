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
        subcommands: [Version.self, Demo.self, DataCommand.self, Train.self, Encode.self, Reconstruct.self, Evaluate.self, Probe.self, Traverse.self, Report.self, Classify.self, Explain.self, Compare.self,
                      RunCommand.self, Sweep.self, Summarize.self, CurveCommand.self, Score.self, Serve.self])

    /// Parses and runs a subcommand. Errors every command can meet get one treatment here: a
    /// busy run exits 75, a training stopped by a signal 76 (after its checkpoint), anything
    /// else prints its message (naming the file and problem) and exits non-zero.
    static func main() {
        Memory.keepLargeBuffersResident()
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch let busy as RunBusy {
            FileHandle.standardError.write(Data("untangle: \(busy)\n".utf8))
            Foundation.exit(RunCommandExit.busy)
        } catch let stop as TrainingError {
            if case .preempted = stop {
                print(stop.description)
                fflush(nil)
                Foundation.exit(RunCommandExit.preempted)
            }
            exit(withError: stop)
        } catch {
            exit(withError: error)
        }
    }
}

enum UntangleVersion {
    /// The one version constant (also written to every run.json).
    static let string = untangleVersion
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
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Root directory of run directories.") var results = "Results"

    func validate() throws {
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10, got \(steps)") }
        guard ["conv", "mlp"].contains(architecture) else { throw ValidationError("--architecture must be conv or mlp, got \(architecture)") }
    }

    func run() throws {
        _ = try Experiments.Demo.run(steps: steps, architecture: architecture == "conv" ? .conv : .mlp(hidden: [256, 128]),
                                     seed: seed, threads: threading.threads, resultsRoot: results,
                                     meter: ConsoleProgress.meter(indent: "  ")) { print($0); fflush(nil) }
    }
}
