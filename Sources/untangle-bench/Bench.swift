import ArgumentParser
import Autodiff
import Datasets
import Foundation
import Models
import NN
import Optimizers
import TensorCore

@main
struct UntangleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untangle-bench",
        abstract: "Speed benchmarks for Untangle (run with `swift run -c release untangle-bench …`).",
        subcommands: [TrainStep.self, DataLoading.self])
}

/// Seconds per call of `body`, timed over `repetitions` calls after one warm-up call.
func secondsPerCall(_ repetitions: Int, _ body: () -> Void) -> Double {
    body()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repetitions { body() }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repetitions)
}

/// One β-VAE training step of the dlib conv VAE on `x` (forward, backward, Adam).
func convTrainingStep(model: VAE, adam: Adam, x: Tensor, rng: inout RandomGenerator) -> Float {
    let tape = Tape()
    let parts = model.lossParts(tape.constant(x), noise: rng.normal([x.shape[0], model.latentCount]), beta: 4)
    tape.backward(from: parts.total)
    adam.step(model.parameters)
    return parts.total.value.scalar
}

/// Batches/s of sampling training batches, against the training-step rate measured in the same run.
struct DataLoading: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Batches/s of sampling 64 images (dsprites, lesions) vs. dlib conv VAE training steps/s.")

    @Option(help: "Threads.") var threads = 2
    @Option(help: "Timed batches per data set.") var batches = 200
    @Option(help: "Timed training steps.") var steps = 20

    func run() {
        Parallel.setThreadCount(threads)
        Memory.keepLargeBuffersResident()
        var rng = RandomGenerator(seed: 0)
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 10, seed: 0)
        let adam = Adam()
        let x = DSprites().sample(64, rng: &rng).images
        let stepRate = 1 / secondsPerCall(steps) { _ = convTrainingStep(model: model, adam: adam, x: x, rng: &rng) }
        print(String(format: "training steps/s (dlib conv VAE, B 64): %.2f", stepRate))
        let sets: [any GroundTruthDataset] = [DSprites(), Lesions()]
        for data in sets {
            let rate = 1 / secondsPerCall(batches) { _ = data.sample(64, rng: &rng) }
            print(String(format: "%-9@ batches/s of 64: %8.1f  = %6.1f× the training step rate",
                         data.name as NSString, rate, rate / stepRate))
        }
    }
}

/// Images/s of one full β-VAE training step on the dlib conv VAE, against PyTorch.
struct TrainStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "Images/s of forward + backward + Adam for the dlib conv VAE (B 64, 64×64×1, Z 10).",
        discussion: """
        Runs the Swift step, then (unless --no-torch) the PyTorch reference script with the \
        same batch, model, thread count and step count, and prints the ratio Swift/PyTorch.
        """)

    @Option(help: "Threads for OpenBLAS and Untangle's parallel kernels (and torch.set_num_threads).")
    var threads = 2
    @Option(help: "Timed steps.")
    var steps = 60
    @Option(help: "Untimed warm-up steps.")
    var warmup = 10
    @Option(help: "Batch size.")
    var batch = 64
    @Option(help: "Python interpreter with torch installed.")
    var python = "python3"
    @Option(help: "The PyTorch reference script.")
    var reference = "../shared/reference/torch_vae_bench.py"
    @Flag(help: "Skip the PyTorch reference run.")
    var noTorch = false

    func validate() throws {
        guard threads >= 1, steps >= 1, warmup >= 0, batch >= 1 else {
            throw ValidationError("threads, steps and batch must be ≥ 1, warmup ≥ 0")
        }
    }

    func run() throws {
        Parallel.setThreadCount(threads)
        Memory.keepLargeBuffersResident()
        print("OpenBLAS: \(BLAS.configuration), threads=\(threads)")
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 10, seed: 0)
        let adam = Adam(learningRate: 1e-4)
        var rng = RandomGenerator(seed: 1)
        // Same input statistics as the reference: Bernoulli(0.1) pixels.
        let x = rng.uniform([batch, 1, 64, 64]).map { $0 > 0.9 ? 1 : 0 }
        func step() -> Float { convTrainingStep(model: model, adam: adam, x: x, rng: &rng) }
        for _ in 0..<warmup { _ = step() }
        let start = DispatchTime.now().uptimeNanoseconds
        var loss: Float = 0
        for _ in 0..<steps { loss = step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let swiftRate = Double(batch * steps) / seconds
        print(String(format: "swift   threads=%d steps/s=%.2f images/s=%.0f (final loss %.1f)",
                     threads, Double(steps) / seconds, swiftRate, loss))
        guard !noTorch else { return }
        let output = try runReference()
        print(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let torchRate = output.components(separatedBy: "images/s=").last
            .flatMap({ Double($0.prefix { $0.isNumber || $0 == "." }) }) else {
            throw ValidationError("could not read images/s from the reference output")
        }
        print(String(format: "ratio Swift/PyTorch = %.2f", swiftRate / torchRate))
    }

    private func runReference() throws -> String {
        guard FileManager.default.fileExists(atPath: reference) else {
            throw ValidationError("reference script not found at \(reference) (pass --reference or --no-torch)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, reference, String(threads), String(steps)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ValidationError("the PyTorch reference failed (\(python) \(reference)):\n\(text)")
        }
        return text
    }
}
