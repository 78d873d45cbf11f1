import ArgumentParser
import Explain
import Foundation
import Models
import TensorCore

/// Per-image time of the saliency methods on the pixel CNN against Captum on the same CNN,
/// threads and images (`Benchmarks/captum_saliency_bench.py`, run in the same invocation).
struct SaliencyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "ms/image of gradient, SmoothGrad, IG, occlusion and Grad-CAM on the pixel CNN vs Captum.",
        discussion: """
        The methods exactly as `compare` runs them (AttributionRegistry: SmoothGrad 10 samples, IG 50 \
        Gauss–Legendre steps, occlusion 8×8 stride 4 = 225 windows) on a batch of --images 64×64×1 \
        images; median over --repeats after a warm-up. Then, unless --no-torch or when torch/captum \
        are not importable, the Captum reference with the same threads, images and repeats, and the \
        ratio Captum ms / Untangle ms per method (> 1: Untangle is faster).
        """)

    @Option(help: "Threads (OpenBLAS, Untangle's kernels, torch.set_num_threads).") var threads = 1
    @Option(help: "Images per call.") var images = 8
    @Option(help: "Timed repeats (the median is reported).") var repeats = 5
    @Option(help: "Python interpreter with torch and captum installed.") var python = "python3"
    @Option(help: "The Captum reference script.") var reference = "Benchmarks/captum_saliency_bench.py"
    @Flag(help: "Skip the Captum reference run.") var noTorch = false

    static let methods = ["gradient", "smoothgrad", "ig-gausslegendre", "occlusion", "grad-cam"]

    func validate() throws {
        guard threads >= 1, images >= 1, repeats >= 1 else { throw ValidationError("threads, images and repeats must be ≥ 1") }
    }

    func run() throws {
        Parallel.setThreadCount(threads)
        Memory.keepLargeBuffersResident()
        print("OpenBLAS: \(BLAS.configuration), threads=\(threads), images=\(images), repeats=\(repeats)")
        let model = PixelClassifier.explained(PixelCNN(imageShape: [1, 64, 64], classCount: 2, seed: 0))
        var rng = RandomGenerator(seed: 1)
        let x = rng.uniform([images, 1, 64, 64])
        var ours: [String: Double] = [:]
        for method in AttributionRegistry.named(Set(Self.methods)) {
            _ = method.attribute(model, x, rng: &rng)
            let samples = (0..<repeats).map { _ -> Double in
                let start = DispatchTime.now().uptimeNanoseconds
                _ = method.attribute(model, x, rng: &rng)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(images)
            }
            ours[method.name] = samples.sorted()[repeats / 2]
        }
        var captum: [String: Double] = [:], versions = ""
        if !noTorch {
            let result = try ChildProcess.run([python, reference, String(threads), String(images), String(repeats)])
            if result.status == 0 {
                for line in result.output.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    if parts.count == 2, let ms = Double(parts[1]) { captum[String(parts[0])] = ms }
                    if line.hasPrefix("torch ") { versions = String(line) }
                }
            } else {
                print("(Captum reference not run: \(python) \(reference) exited \(result.status); \(result.combined.split(separator: "\n").last ?? ""))")
            }
        }
        print("method              untangle ms/img   captum ms/img   captum/untangle")
        for name in Self.methods {
            guard let mine = ours[name] else { continue }
            let theirs = captum[name].map { String(format: "%13.3f   %15.2f", $0, $0 / mine) } ?? ""
            print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "  %15.3f", mine) + "   " + theirs)
        }
        if let d = captum["occlusion-default"], let b = captum["occlusion-batched"] {
            print(String(format: "(Captum occlusion: %.3f ms/img with perturbations_per_eval=1, %.3f with 64; the faster is compared)", d, b))
        }
        if !versions.isEmpty { print(versions) }
    }
}
