import ArgumentParser
import Autodiff
import Datasets
import Experiments
import Metrics
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
        subcommands: [TrainStep.self, Scaling.self, LayerBench.self, Encode.self, DataLoading.self, MetricsBench.self, SaliencyBench.self, SubnormalBench.self])
}

/// Seconds per call of `body`, timed over `repetitions` calls after one warm-up call.
func secondsPerCall(_ repetitions: Int, _ body: () -> Void) -> Double {
    body()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repetitions { body() }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repetitions)
}

/// The number printed after `key=` in a benchmark's output (`images/s=812`), nil when absent.
func reported(_ key: String, in text: String) -> Double? {
    text.components(separatedBy: key + "=").dropFirst().first.flatMap { Double($0.prefix { $0.isNumber || $0 == "." }) }
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
        same batch, model, thread count and step count, and prints the ratio Swift/PyTorch. \
        With --pairs N it alternates N Swift and PyTorch measurements in one run (the Swift \
        model keeps training from one pair to the next) and prints each ratio and their median. \
        Each Swift run's effective GFLOP/s is set against one sgemm 1024³ rate, measured after the \
        first run on the same threads; their median share is printed too.
        """)

    @Option(help: "Threads for OpenBLAS and Untangle's parallel kernels (and torch.set_num_threads).")
    var threads = 2
    @Option(help: "Timed steps.")
    var steps = 60
    @Option(help: "Untimed warm-up steps.")
    var warmup = 10
    @Option(help: "Batch size.")
    var batch = 64
    @Option(help: "Alternating Swift/PyTorch measurements in one run; the median ratio is printed.")
    var pairs = 1
    @Option(help: "Python interpreter with torch installed.")
    var python = "python3"
    @Option(help: "The PyTorch reference script.")
    var reference = "../shared/reference/torch_vae_bench.py"
    @Flag(help: "Skip the PyTorch reference run.")
    var noTorch = false
    @Flag(help: "Skip the sgemm rate (its buffers would count in the peak memory `scaling` reads).")
    var noSgemm = false

    func validate() throws {
        guard threads >= 1, steps >= 1, warmup >= 0, batch >= 1, pairs >= 1 else {
            throw ValidationError("threads, steps, batch and pairs must be ≥ 1, warmup ≥ 0")
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
        var ratios: [Double] = [], shares: [Double] = []
        var sgemm: Double?
        for pair in 1...pairs {
            let start = DispatchTime.now().uptimeNanoseconds
            var loss: Float = 0
            for _ in 0..<steps { loss = step() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let swiftRate = Double(batch * steps) / seconds
            if pairs > 1 { print("pair \(pair):") }
            print(String(format: "swift   threads=%d batch=%d steps/s=%.2f images/s=%.0f peak_rss_mib=%.0f (final loss %.1f)",
                         threads, batch, Double(steps) / seconds, swiftRate, peakResidentMiB(), loss))
            if !noSgemm {
                // sgemm once, after the first pair's Swift run; each pair's share against it.
                let rate = sgemm ?? StepWork.sgemmRate()
                sgemm = rate
                let effective = swiftRate * StepWork.flopsPerImage / 1e9
                shares.append(effective / rate)
                print(String(format: "effective %.1f GFLOP/s (%.1f MFLOP/image) = %.0f %% of sgemm 1024³ on the same threads (%.1f GFLOP/s)",
                             effective, StepWork.flopsPerImage / 1e6, 100 * effective / rate, rate))
            }
            guard !noTorch else { continue }
            let output = try runReference()
            print(output.trimmingCharacters(in: .whitespacesAndNewlines))
            guard let torchRate = reported("images/s", in: output) else {
                throw ValidationError("could not read images/s from the reference output")
            }
            ratios.append(swiftRate / torchRate)
            print(String(format: "ratio Swift/PyTorch = %.2f", swiftRate / torchRate))
        }
        if ratios.count > 1 {
            print(String(format: "median ratio Swift/PyTorch over %d pairs = %.2f", ratios.count, ratios.sorted()[ratios.count / 2]))
        }
        if shares.count > 1 {
            print(String(format: "median effective share of sgemm over %d runs = %.0f %%", shares.count, 100 * shares.sorted()[shares.count / 2]))
        }
    }

    private func runReference() throws -> String {
        guard FileManager.default.fileExists(atPath: reference) else {
            throw ValidationError("reference script not found at \(reference) (pass --reference or --no-torch)")
        }
        let result = try ChildProcess.run([python, reference, String(threads), String(steps)])
        let text = result.combined
        guard result.status == 0 else {
            throw ValidationError("the PyTorch reference failed (\(python) \(reference)):\n\(text)")
        }
        return text
    }
}

/// No-grad encoding throughput (mean codes) of the dlib conv encoder against PyTorch's, in
/// alternating pairs in one run: what metrics, probing, saliency and reports spend their time on.
/// Swift is timed twice per pair: the library's path (`posteriorWithoutGradients`, which skips blank
/// regions exactly) and the dense layers alone; `--data dsprites` encodes dSprites images (PyTorch's
/// dense encoder costs the same on any image).
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Images/s of no-grad encoding (dlib conv encoder, mean codes) vs ../shared/reference/torch_encode_bench.py.",
        discussion: "Runs --pairs alternating Swift/PyTorch measurements with the same threads, batch and image count; prints each ratio and the median.")

    @Option(help: "Threads (OpenBLAS, Untangle's kernels, torch.set_num_threads).") var threads = 2
    @Option(help: "Images per measurement.") var images = 20_000
    @Option(help: "Batch size.") var batch = 256
    @Option(help: "Images per encoder call within a batch; 0: the whole batch in one call (the library encodes 1,024 a call where the conv encoder skips blank regions, else 256).")
    var piece = 0
    @Option(help: "Alternating Swift/PyTorch pairs.") var pairs = 3
    @Option(help: "Python interpreter with torch installed.") var python = "python3"
    @Option(help: "The PyTorch reference script.") var reference = "../shared/reference/torch_encode_bench.py"
    @Option(help: "Images: bernoulli (pixels 1 with probability 0.1, as the reference) or dsprites (random grid images).")
    var data = "bernoulli"

    func validate() throws {
        guard ["bernoulli", "dsprites"].contains(data) else { throw ValidationError("--data is bernoulli or dsprites, not \(data)") }
        guard threads >= 1, images >= batch, batch >= 1, pairs >= 1, piece >= 0 else {
            throw ValidationError("threads, batch, pairs ≥ 1, piece ≥ 0 and images ≥ batch")
        }
    }

    func run() throws {
        Parallel.setThreadCount(threads)
        Memory.keepLargeBuffersResident()
        let piece = self.piece == 0 ? batch : min(self.piece, batch)
        print("OpenBLAS: \(BLAS.configuration), threads=\(threads), batch=\(batch) (encoded \(piece) images a call), images=\(images), data=\(data), "
              + "blank regions skipped: \(ConvEncoder.skipsBlankRegions)")
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 10, seed: 0)
        var rng = RandomGenerator(seed: 1)
        let x: Tensor
        if data == "dsprites" {
            let sprites = DSprites()
            x = sprites.images((0..<batch).map { _ in Int(rng.uniform([1]).scalar * Float(sprites.count - 1)) })
        } else {
            x = rng.uniform([batch, 1, 64, 64]).map { $0 > 0.9 ? 1 : 0 } // Bernoulli(0.1), as the reference
        }
        let pieces = stride(from: 0, to: batch, by: piece).map { x.slice(axis: 0, $0..<min(batch, $0 + piece)) }
        func encode() { for p in pieces { _ = model.encoder.posteriorWithoutGradients(p).mean } }
        func encodeDense() { for p in pieces { let tape = Tape(recording: false); _ = model.encoder(tape.constant(p)).mean.value } }
        /// Images/s over the calls that cover `images` (after a warm-up call).
        func rate(_ body: () -> Void) -> Double { Double(batch) / secondsPerCall((images + batch - 1) / batch, body) }
        for _ in 0..<3 { encode(); encodeDense() }
        var ratios: [Double] = [], denseRatios: [Double] = []
        for pair in 1...pairs {
            let swiftRate = rate(encode), denseRate = rate(encodeDense)
            let output = try ChildProcess.run([python, reference, String(threads), String(images), String(batch)])
            guard output.status == 0, let torchRate = reported("images/s", in: output.output) else {
                throw ValidationError("the PyTorch reference failed (\(python) \(reference)):\n\(output.combined)")
            }
            ratios.append(swiftRate / torchRate)
            denseRatios.append(denseRate / torchRate)
            print(String(format: "pair %d: swift %.0f images/s (dense layers alone %.0f), torch %.0f images/s, ratio %.2f (dense %.2f)",
                         pair, swiftRate, denseRate, torchRate, swiftRate / torchRate, denseRate / torchRate))
        }
        print(String(format: "median ratio Swift/PyTorch = %.2f (dense layers alone %.2f)",
                     ratios.sorted()[ratios.count / 2], denseRatios.sorted()[denseRatios.count / 2]))
    }
}

/// Pure metric time (on fixed codes) against the numpy/scikit-learn reference on the same saved codes.
struct MetricsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Encode 10,000 + 5,000 points of a run, time the sample metrics in Swift and in numpy/scikit-learn.")

    @Argument(help: "A run directory on a ground-truth data set.") var runDirectory: String
    @Option(help: "Directory for the saved codes (npy).") var codes = "/tmp/untangle-codes"
    @Option(help: "Python with numpy and scikit-learn.") var python = "python3"
    @Option(help: "The reference script.") var reference = "Benchmarks/metrics_reference.py"
    @Option(help: "Threads.") var threads = 2

    func run() throws {
        Parallel.setThreadCount(threads)
        let trained = try TrainedRun(path: runDirectory)
        let data = try trained.groundTruth()
        let metrics = DisentanglementMetrics(space: data, representation: trained.representation(data), seed: 0,
                                             encodingBatch: trained.encodingPiece)
        var start = Date()
        let sample = metrics.codeSample()
        print(String(format: "encode 15,000 points: %.2f s", Date().timeIntervalSince(start)))
        try FileManager.default.createDirectory(atPath: codes, withIntermediateDirectories: true)
        func save(_ rows: [[Float]], _ name: String) throws {
            try NPYArray(float32: rows.flatMap { $0 }, shape: [rows.count, rows[0].count]).write(to: codes + "/" + name)
        }
        func save(_ rows: [[Int]], _ name: String) throws {
            try NPYArray(int64: rows.flatMap { $0.map(Int64.init) }, shape: [rows.count, rows[0].count]).write(to: codes + "/" + name)
        }
        try save(sample.trainCodes, "codes_train.npy"); try save(sample.evalCodes, "codes_eval.npy")
        try save(sample.trainFactors, "factors_train.npy"); try save(sample.evalFactors, "factors_eval.npy")
        var total = 0.0
        func timed(_ name: String, _ body: () -> String) {
            start = Date()
            let value = body()
            let seconds = Date().timeIntervalSince(start)
            total += seconds
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + " \(value)  " + String(format: "(%.2f s)", seconds))
        }
        let inputs = MetricInputs(sample: sample, seed: 0)
        var ours: [(String, Double)] = []
        for metric in MetricRegistry.all where metric.need == .sample {
            timed(metric.name) {
                let scores = metric.scores(inputs)
                ours += scores
                return scores.map { "\($0.0) \(String(format: "%.4f", $0.1))" }.joined(separator: ", ")
            }
        }
        print(String(format: "swift total %.2f s", total))
        let output = try ChildProcess.run([python, reference, codes]).combined
        print("reference (numpy/scikit-learn):\n" + output, terminator: "")
        var reference: [String: Double] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let value = Double(fields[1]) { reference[String(fields[0])] = value }
        }
        print("score                               Untangle  reference  difference")
        for (key, value) in ours {
            guard let r = reference[key] else { continue }
            print(key.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%9.4f  %9.4f  %+10.4f", value, r, value - r))
        }
        if let line = output.split(separator: "\n").last(where: { $0.hasPrefix("total ") }),
           let seconds = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." }) {
            print(String(format: "ratio reference/Swift time = %.2f (higher: Swift faster)", seconds / total))
        }
    }
}
