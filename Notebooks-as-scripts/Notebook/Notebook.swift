import Datasets
import Experiments
import Foundation
import Metrics
import TensorCore

/// A narrated analysis run as a program: prints its story as wrapped paragraphs and
/// tables, writes its figures to `Results/notebooks/<name>/`, and shares trained runs
/// with the command line (a run trained by `untangle run` or by another notebook is
/// reused, never retrained).
///
/// Command line of every notebook: `--quick` (a small MLP and a few steps — a smoke
/// test of the whole story in seconds, numbers meaningless), `--results DIR` (default
/// `Results`), `--threads N` (default 2).
public final class Notebook {
    /// `Results/notebooks/<name>` (or under `--results`).
    public let directory: String
    /// Root of run directories.
    public let resultsRoot: String
    /// Smoke-test mode.
    public let quick: Bool
    /// Threads for training and analysis.
    public let threads: Int
    let started = Date()
    var sectionCount = 0

    /// Parses the command line and prints the title.
    public init(name: String, title: String, abstract: String) {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func option(_ flag: String) -> String? {
            guard let k = arguments.firstIndex(of: flag), k + 1 < arguments.count else { return nil }
            defer { arguments.removeSubrange(k...(k + 1)) }
            return arguments[k + 1]
        }
        resultsRoot = option("--results") ?? "Results"
        threads = option("--threads").flatMap(Int.init) ?? 2
        quick = arguments.contains("--quick")
        arguments.removeAll { $0 == "--quick" }
        if !arguments.isEmpty || threads < 1 {
            FileHandle.standardError.write(Data("usage: \(name) [--quick] [--results DIR] [--threads N]\n".utf8))
            exit(2)
        }
        directory = (resultsRoot as NSString).appendingPathComponent("notebooks/\(name)")
        Memory.keepLargeBuffersResident()
        Parallel.setThreadCount(threads)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            fail("cannot create \(directory): \(error.localizedDescription)")
        }
        print(String(repeating: "=", count: 88))
        print(title)
        print(String(repeating: "=", count: 88))
        say(abstract)
        if quick { say("(--quick: a small MLP trained for a few steps; the story runs end to end, the numbers mean nothing.)") }
    }

    /// Starts a numbered section.
    public func section(_ title: String) {
        sectionCount += 1
        print("\n\(sectionCount). \(title)\n" + String(repeating: "-", count: min(88, title.count + 4)))
        fflush(nil)
    }

    /// Prints `text` as paragraphs wrapped at 88 columns (blank lines separate paragraphs).
    public func say(_ text: String) {
        for paragraph in text.components(separatedBy: "\n\n") {
            var line = ""
            for word in paragraph.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if line.count + word.count + 1 > 88 && !line.isEmpty {
                    print(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            print(line + "\n")
        }
        fflush(nil)
    }

    /// Prints preformatted text (tables) indented.
    public func show(_ block: String) {
        for line in block.split(separator: "\n", omittingEmptySubsequences: false).dropLast(block.hasSuffix("\n") ? 1 : 0) {
            print("    " + line)
        }
        print("")
        fflush(nil)
    }

    /// The path of figure `name` in the notebook's directory.
    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Copies a file (a figure written into a run directory) into the notebook's directory.
    @discardableResult
    public func keep(_ source: String, as name: String? = nil) throws -> String {
        let target = path(name ?? (source as NSString).lastPathComponent)
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return target
    }

    /// Announces figures.
    public func figures(_ paths: [String]) {
        for p in paths { print("    [figure] \(p)") }
        print("")
    }

    /// The lesion run notebooks 03 and 04 share: `Experiments/lesions-betavae.toml` shortened
    /// (2,500 steps, an 800-step pixel CNN) so that either notebook fits in ten minutes alone.
    public static let lesionOverrides = ["training.steps=2500", "explanation.cnn_steps=800"]

    /// Loads `Experiments/<experiment>.toml` with `overrides` (and, with `--quick`, a small
    /// MLP, few steps and small evaluation sizes).
    public func plan(_ experiment: String, overrides: [String] = []) throws -> ExperimentPlan {
        let file = "Experiments/\(experiment).toml"
        guard FileManager.default.fileExists(atPath: file) else {
            throw ConfigError(file, "not found: run the notebooks from the repository root (swift run -c release nb01-…)")
        }
        var all = overrides + ["training.threads=\(threads)"]
        if quick {
            all += ["model.architecture=\"mlp\"", "model.hidden=[32]", "training.steps=40", "training.checkpoint_every=20",
                    "training.log_every=10", "training.eval_points=200", "evaluation.held_out=64", "evaluation.train_points=300", "evaluation.eval_points=100",
                    "explanation.train=200", "explanation.test=60", "explanation.cnn_steps=5", "explanation.compare_count=6"]
        }
        return try ExperimentPlan.load(path: file, overrides: all)
    }

    /// The trained run of `config`: reused when it exists, else trained here (printing the
    /// loss every tenth of the way) — or continued from its last checkpoint.
    public func trainedRun(_ config: ExperimentConfig) throws -> TrainedRun {
        let trainer = try Trainer(config: config, resultsRoot: resultsRoot)
        if trainer.run.isComplete {
            say("The run \(trainer.run.path) exists (same config, same id), so it is reused. Delete it to train again.")
        } else {
            say("Training \(config.objective.kind.rawValue) (\(config.architecture == .conv ? "dlib conv" : "MLP"), Z \(config.latentCount)) on \(config.dataset) for \(config.steps) steps, batch \(config.batchSize), Adam \(config.learningRate); the run goes to \(trainer.run.path).")
            let every = max(10, config.steps / 10)
            show("  step      loss    recon       KL   img/s")
            try trainer.train(resume: trainer.run.exists) { u in
                if u.step % every < 10 || u.step == u.totalSteps {
                    print(String(format: "    %6d  %8.2f  %7.2f  %7.2f  %6.0f", u.step, u.loss, u.reconstruction, u.kl, u.imagesPerSecond))
                    fflush(nil)
                }
            }
            print("")
        }
        Parallel.setThreadCount(threads)
        return try TrainedRun(path: trainer.run.path)
    }

    /// How far each image property moves along each latent's traversal (11 steps, ±2 prior σ):
    /// `(max − min)` along the row over the property's 5th–95th percentile range on 256
    /// held-out images, signed by Spearman's ρ with the latent value. `[latent][property]`,
    /// properties in `ImageProperties.names` order. 1 means "moves the property across the
    /// range real images span"; saturating |ρ| alone would call a 1-pixel drift monotone.
    public func propertyChanges(_ run: TrainedRun, latents: [Int]) -> [[Double]] {
        let shape = run.dataset.imageShape, (h, w) = (shape[1], shape[2]), plane = h * w
        func measure(_ images: Tensor, _ k: Int) -> [Double] {
            var grey = [Float](repeating: 0, count: plane)
            for c in 0..<shape[0] { for p in 0..<plane { grey[p] += images.scalars[(k * shape[0] + c) * plane + p] / Float(shape[0]) } }
            return ImageProperties.measure(grey[...], height: h, width: w)
        }
        let real = run.heldOutImages(256)
        let observed = (0..<256).map { measure(real, $0) }
        let spans = ImageProperties.names.indices.map { p -> Double in
            let v = observed.map { $0[p] }.sorted()
            return max(v[Int(0.95 * Double(v.count - 1))] - v[Int(0.05 * Double(v.count - 1))], 1e-9)
        }
        let (images, _) = run.traversal(latents: latents, steps: 11)
        return latents.indices.map { r in
            let rows = (0..<11).map { measure(images, r * 11 + $0) }
            return ImageProperties.names.indices.map { p in
                let series = rows.map { $0[p] }
                let rho = spearman(series, (0..<11).map(Double.init))
                return (rho.isFinite && rho < 0 ? -1 : 1) * (series.max()! - series.min()!) / spans[p]
            }
        }
    }

    /// Prints the closing line with the elapsed time.
    public func finish() {
        let seconds = Date().timeIntervalSince(started)
        print(String(repeating: "=", count: 88))
        print(String(format: "done in %d min %02d s; figures in %@", Int(seconds) / 60, Int(seconds) % 60, directory))
    }

    /// Runs `body`; an error is printed with what to do and exits 1.
    public static func run(_ body: () throws -> Void) {
        do { try body() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(1)
    }
}
