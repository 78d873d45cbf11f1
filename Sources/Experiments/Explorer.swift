import Datasets
import Foundation
import ImageIO
import Metrics
import TensorCore

/// Why the explorer refused a request (a bad upload, an unknown image): the message a browser
/// shows. Never a crash.
public struct ExplorerError: Error, CustomStringConvertible {
    /// What was wrong, for the user.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The logic behind `untangle serve RUN`: one run, opened without its lock and never written to,
/// answering what the browser asks — the run's latents (probe name, range, activity), sample
/// images, the decoder's image for a code, an uploaded PNG's code, and the factor and pixel
/// explanations of an image. Everything is computed in memory; files are served only from inside
/// the run directory. Calls are serialised (one model, one lock).
public final class RunExplorer: @unchecked Sendable {
    /// One slider: latent `index`, the probe's name, the range of its held-out means (1st to
    /// 99th percentile, widened by a quarter on each side, at least ±0.5), and whether it is
    /// active (mean KL over held-out images above `LatentNaming.activeKL`, the rule `probe` and
    /// `classify` use).
    public struct Latent: Codable, Equatable, Sendable {
        public var index: Int, name: String, low: Float, high: Float, active: Bool
    }

    /// The run.
    public let trained: TrainedRun
    /// Every latent, in order.
    public let latents: [Latent]
    /// Dataset indices of the images offered in the picker: the classifiers' test images when
    /// the run has classifiers, else a seeded sample.
    public let samples: [Int]
    /// Whether `classify` has run (decisions, rule path, counterfactuals, saliency).
    public let hasClassifiers: Bool
    private let lock = NSLock()

    /// Opens `path` read-only (`TrainedRun(path:locking: false)`), encodes 512 held-out images
    /// for the slider ranges, and picks `sampleCount` images.
    public init(path: String, sampleCount: Int = 24, allowUnfinished: Bool = false) throws {
        trained = try TrainedRun(path: path, allowUnfinished: allowUnfinished, locking: false)
        let z = trained.config.latentCount
        let codes = trained.encodeMeans(trained.heldOutImages(512))
        let n = codes.shape[0]
        let names = (try? trained.latentNames()) ?? (0..<z).map { "z\($0)" }
        let kl = trained.klPerLatent()
        latents = (0..<z).map { l in
            let values = (0..<n).map { codes.scalars[$0 * z + l] }.sorted()
            let (p1, p99) = (values[n / 100], values[(n * 99) / 100])
            let pad = max((p99 - p1) / 4, 0.5)
            return Latent(index: l, name: names[l], low: p1 - pad, high: p99 + pad, active: kl[l] > LatentNaming.activeKL)
        }
        hasClassifiers = FileManager.default.fileExists(atPath: trained.run.file("classifiers.json"))
        let data = trained.dataset
        if hasClassifiers, let bundle = try? trained.loadClassifiers(), let (_, labelOf) = try? trained.labels(column: bundle.labelColumn),
           let split = try? trained.split(data, labels: labelOf, classNames: bundle.classNames, trainCount: bundle.trainCount,
                                          testCount: bundle.testCount, seed: bundle.seed) {
            samples = Array(split.test.prefix(sampleCount))
        } else {
            var rng = RandomStream.heldOut.generator(seed: trained.config.seed &+ 99)
            samples = (0..<min(sampleCount, data.count)).map { _ in rng.int(below: data.count) }
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The image shape `[C, H, W]` uploads must have.
    public var imageShape: [Int] { trained.dataset.imageShape }

    /// What the page needs first, as JSON: run path, image shape, latents, samples, whether
    /// there are classifiers, and the run's metrics files (`metrics.json`, `evaluation.json`)
    /// and figures (relative paths under the run directory).
    public func overview() throws -> Data {
        struct Overview: Encodable {
            var run: String, imageShape: [Int], latents: [Latent], samples: [Int], hasClassifiers: Bool
            var metrics: [String: String], figures: [String]
        }
        let run = trained.run
        var metrics: [String: String] = [:]
        // The stages' small tables (the names and the classifiers have their own views).
        for name in [TrainStage().output, EvaluateStage().output, CurveStage().output, CompareStage().output, "compare/" + FactorRuleCheck.fileName] {
            if let text = BoundedFile.optionalText(run.file(name)) { metrics[name] = text }
        }
        let figures = ((try? FileManager.default.subpathsOfDirectory(atPath: run.path)) ?? [])
            .filter { $0.hasSuffix(".png") && ($0.hasPrefix("figures/") || $0.hasPrefix("curve/") || $0.hasPrefix("compare/panel-")) }
            .sorted()
        return try JSONEncoder.sorted.encode(Overview(run: run.path, imageShape: imageShape, latents: latents, samples: samples,
                                                      hasClassifiers: hasClassifiers, metrics: metrics, figures: figures))
    }

    /// Dataset image `index` `[1, C, H, W]`; an unknown index is an error.
    public func image(_ index: Int) throws -> Tensor {
        guard index >= 0 && index < trained.dataset.count else {
            throw ExplorerError("image \(index) is not in the data set (0..<\(trained.dataset.count))")
        }
        return locked { trained.dataset.images([index]) }
    }

    /// The posterior mean of `image` `[1, C, H, W]`.
    public func code(of image: Tensor) -> [Float] { locked { Array(trained.encodeMeans(image).scalars) } }

    /// The decoder's image for `code` (Bernoulli means, `[C, H, W]` in [0, 1]), as the library
    /// decodes it (``TrainedRun/decode(_:)``).
    public func decoded(_ code: [Float]) throws -> Tensor {
        guard code.count == trained.config.latentCount, code.allSatisfy(\.isFinite) else {
            throw ExplorerError("a code needs \(trained.config.latentCount) finite numbers, got \(code.count)")
        }
        return locked { trained.decode(Tensor(shape: [1, code.count], scalars: code)).reshaped(imageShape) }
    }

    /// PNG bytes of an image `[C, H, W]` (or `[1, C, H, W]`) in [0, 1].
    public static func png(_ image: Tensor) throws -> Data {
        let shape = image.shape.count == 4 ? Array(image.shape.dropFirst()) : image.shape
        return try PNGFile.encode(RasterImage(tensor: image.reshaped(shape)))
    }

    /// A `data:image/png;base64,…` URL of an image `[C, H, W]` (or `[1, C, H, W]`) in [0, 1].
    public static func dataURL(_ image: Tensor) throws -> String { "data:image/png;base64," + (try png(image)).base64EncodedString() }

    /// An uploaded file, checked: at most 8 MB, a PNG, exactly the run's image size (grey for
    /// one channel, RGB for three). Returns `[1, C, H, W]` in [0, 1].
    public func upload(_ data: Data, name: String = "upload") throws -> Tensor {
        guard !data.isEmpty else { throw ExplorerError("\(name): the file is empty") }
        guard data.count <= 8 << 20 else { throw ExplorerError("\(name): \(data.count) bytes; uploads are limited to 8 MB") }
        let shape = imageShape
        let raster: RasterImage
        do {
            raster = try PNGFile.decode(data, source: name, channels: shape[0])
        } catch {
            throw ExplorerError("\(name) is not a readable PNG image (\(error)); this run takes \(shape[2])×\(shape[1]) PNGs")
        }
        guard raster.height == shape[1] && raster.width == shape[2] else {
            throw ExplorerError("\(name) is \(raster.width)×\(raster.height) pixels; this run's model takes \(shape[2])×\(shape[1])")
        }
        return raster.tensor().reshaped([1] + shape)
    }

    /// The factor and pixel explanations of `image` (``TrainedRun/explanation(of:index:seed:)``)
    /// as JSON, every picture a PNG data URL; needs classifiers.
    public func explanation(of image: Tensor, index: Int?) throws -> Data {
        guard hasClassifiers else { throw ExplorerError("this run has no classifiers: run `untangle classify \(trained.run.path)` first") }
        let e = try locked { try trained.explanation(of: image, index: index) }
        let url = RunExplorer.dataURL
        struct Map: Encodable { var model: String, method: String, signed: String, absolute: String, mass: Double? }
        struct Strip: Encodable { var model: String, caption: String, image: String }
        struct Decision: Encodable { var model: String, probability: Double, decision: String }
        struct Payload: Encodable {
            var text: String, trueLabel: String?, rule: String?, decisions: [Decision], ruleSteps: [String]
            var strips: [Strip], maps: [Map], input: String, reconstruction: String, mask: String?
        }
        let payload = Payload(text: e.text, trueLabel: e.trueLabel, rule: e.rule,
                              decisions: e.decisions.map { Decision(model: $0.model, probability: $0.probability, decision: e.classes[$0.probability >= 0.5 ? 1 : 0]) },
                              ruleSteps: e.ruleSteps, strips: try e.strips.map { Strip(model: $0.model, caption: $0.caption, image: try url($0.tile)) },
                              maps: try e.maps.map { Map(model: $0.model, method: $0.method, signed: try url($0.signed), absolute: try url($0.absolute), mass: $0.mass) },
                              input: try url(e.input), reconstruction: try url(e.reconstruction), mask: try e.mask.map(url))
        return try JSONEncoder.sorted.encode(payload)
    }

    /// The bytes of `relative` inside the run directory, or nil: only regular files whose
    /// resolved path (symbolic links followed) stays inside the run, never a dot-file.
    public func runFile(_ relative: String) -> Data? {
        let parts = relative.split(separator: "/")
        guard !parts.isEmpty, !parts.contains(where: { $0.hasPrefix(".") }) else { return nil }
        let root = URL(fileURLWithPath: trained.run.path).resolvingSymlinksInPath().path
        let target = URL(fileURLWithPath: root).appendingPathComponent(relative).resolvingSymlinksInPath().path
        guard target.hasPrefix(root + "/") else { return nil }
        return try? BoundedFile.readIfPresent(target, limit: BoundedFile.Limit.table) // nil for a folder, too
    }
}
