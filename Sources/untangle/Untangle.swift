import ArgumentParser
import Foundation
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
        subcommands: [Version.self, Demo.self, DataCommand.self, Train.self, Reconstruct.self, Evaluate.self, Probe.self, Traverse.self, Report.self, Classify.self, Explain.self, Compare.self])

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
        abstract: "Train a small β-VAE on synthetic sprites and print the falling loss.",
        discussion: "Deterministic for a given --seed and --threads. Takes a few seconds.")

    @Option(help: "Training steps.") var steps = 600
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Number of latents Z.") var latents = 4
    @Option(help: "KL weight β.") var beta: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Threads for BLAS and parallel kernels.") var threads = 2
    @Option(help: "Print every N steps (mean over those steps).") var logEvery = 50

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard latents > 0 else { throw ValidationError("--latents must be positive, got \(latents)") }
        guard beta >= 0, beta.isFinite else { throw ValidationError("--beta must be a finite number ≥ 0, got \(beta)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        guard logEvery > 0 else { throw ValidationError("--log-every must be positive, got \(logEvery)") }
    }

    func run() {
        Parallel.setThreadCount(threads)
        print("β-VAE (MLP 256-128-64-Z\(latents)) on 16×16 synthetic squares, batch \(batch), β \(beta), seed \(seed)")
        print("  step      loss   recon      KL")
        trainSquaresDemo(steps: steps, batch: batch, latentCount: latents, beta: beta, seed: seed, logEvery: logEvery) { r in
            print(String(format: "%6d  %8.2f  %6.2f  %6.2f", r.step, r.loss, r.reconstruction, r.kl))
        }
    }
}
