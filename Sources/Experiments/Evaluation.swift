import Autodiff
import Datasets
import Foundation
import Metrics
import NN
import TensorCore

extension MetricRegistry {
    /// ``parseList(_:)`` with its error as a `ConfigError` naming the `--metrics` option.
    public static func parseOption(_ text: String) throws -> [Metric] {
        do { return try parseList(text) } catch let error as UnknownMetric { throw ConfigError("--metrics", error.description) }
    }
}

extension TrainedRun {
    /// The run's data set as a ground-truth data set, or an error saying why not.
    public func groundTruth() throws -> any GroundTruthDataset {
        guard let data = dataset as? any GroundTruthDataset else {
            throw ConfigError(config.dataset, "has no ground-truth factors; disentanglement metrics need dsprites, dsprites:FILE.npz or lesions")
        }
        return data
    }

    /// The mean representation: render the factor combinations and encode them (μ).
    public func representation(_ data: any GroundTruthDataset) -> Representation {
        { classes in self.encodeMeans(data.images(classes: classes)) }
    }

    /// Mean KL per latent `(1/N) Σ ½(μ² + σ² − log σ² − 1)` over `count` held-out images.
    public func klPerLatent(count: Int = 1024) -> [Double] {
        let x = heldOutImages(count)
        var sums = [Double](repeating: 0, count: config.latentCount)
        for start in stride(from: 0, to: count, by: 256) {
            let tape = Tape(recording: false)
            let (mean, logVariance) = model.encoder(tape.constant(x.slice(axis: 0, start..<min(count, start + 256))))
            let kl = gaussianKLPerLatent(mean: mean, logVariance: logVariance).value
            let weight = Double(mean.shape[0])
            for l in 0..<config.latentCount { sums[l] += weight * Double(kl.scalars[l]) }
        }
        return sums.map { $0 / Double(count) }
    }

    /// Computes `metrics` (dlib's definitions and defaults unless overridden), returning
    /// ordered (name, value) pairs and per-metric seconds. The sample-based metrics share one
    /// encoded sample (`encode-sample` in the seconds).
    public func evaluate(_ metrics: [Metric], trainCount: Int = 10_000, evalCount: Int = 5_000, batchSize: Int = 64,
                         seed: UInt64 = 0) throws -> (values: [(String, Double)], seconds: [(String, Double)]) {
        let data = try groundTruth()
        var evaluator = DisentanglementMetrics(space: data, representation: representation(data), seed: seed)
        evaluator.trainCount = trainCount
        evaluator.evalCount = evalCount
        evaluator.batchSize = batchSize
        var values: [(String, Double)] = [], seconds: [(String, Double)] = []
        func timed<T>(_ name: String, _ body: () -> T) -> T {
            let start = Date()
            defer { seconds.append((name, Date().timeIntervalSince(start))) }
            return body()
        }
        var inputs = MetricInputs(evaluator: evaluator, seed: seed)
        if metrics.contains(where: { $0.need == .sample }) { inputs.sample = timed("encode-sample") { evaluator.codeSample() } }
        if metrics.contains(where: { $0.need == .klPerLatent }) { inputs.klPerLatent = klPerLatent() }
        for metric in metrics { values += timed(metric.name) { metric.scores(inputs) } }
        return (values, seconds)
    }

    /// Names the latents: by ground truth when the data set has factors, else by image
    /// properties along traversals; `renames` (latent → name) override. Writes
    /// `mi_matrix.csv` (ground truth only) and `factors.json` into the run directory.
    public func probe(renames: [Int: String] = [:], points: Int = 10_000, seed: UInt64 = 0) throws -> [LatentName] {
        let kl = klPerLatent()
        var names: [LatentName]
        if let data = dataset as? any GroundTruthDataset {
            var evaluator = DisentanglementMetrics(space: data, representation: representation(data), seed: seed)
            evaluator.trainCount = points
            evaluator.evalCount = 1
            let sample = evaluator.codeSample()
            let mi = sample.mutualInformationMatrix()
            let factorNames = data.factors.map(\.name)
            names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: sample.factorEntropies(),
                                                 factorNames: factorNames, kl: kl)
            var csv = "latent," + factorNames.joined(separator: ",") + "\n"
            for (l, row) in mi.enumerated() { csv += "z\(l)," + row.map { String(format: "%.6f", $0) }.joined(separator: ",") + "\n" }
            try AtomicFile.write(csv, to: (run.path as NSString).appendingPathComponent("mi_matrix.csv"))
        } else {
            let values = (0..<11).map { -2 + 0.4 * Double($0) }
            let bases = encodeMeans(heldOutImages(8))
            let (h, w) = (dataset.imageShape[1], dataset.imageShape[2])
            var properties = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: values.count),
                                                                 count: ImageProperties.names.count), count: config.latentCount)
            for l in 0..<config.latentCount {
                for (s, v) in values.enumerated() {
                    var z = bases
                    for b in 0..<z.shape[0] { z.scalars[b * config.latentCount + l] = Float(v) }
                    let images = decode(z).mean(axisChannels: dataset.imageShape[0])
                    for b in 0..<z.shape[0] {
                        let p = ImageProperties.measure(images.scalars[(b * h * w)..<((b + 1) * h * w)], height: h, width: w)
                        for (k, value) in p.enumerated() { properties[l][k][s] += value / Double(z.shape[0]) }
                    }
                }
            }
            names = LatentNaming.fromTraversals(properties: properties, propertyNames: ImageProperties.names, values: values, kl: kl)
        }
        for (latent, name) in renames {
            guard latent >= 0 && latent < names.count else { throw ConfigError("--rename \(latent)=\(name)", "no latent z\(latent)") }
            names[latent].name = name
            names[latent].source = "user"
        }
        let json = try JSONEncoder.sorted.encode(names)
        try AtomicFile.write(json + Data("\n".utf8), to: (run.path as NSString).appendingPathComponent("factors.json"))
        return names
    }

    /// Writes `evaluation.json` (values and seconds per metric) into the run directory.
    public func writeEvaluation(values: [(String, Double)], seconds: [(String, Double)], settings: [String: Any]) throws -> String {
        var object: [String: Any] = settings
        for (k, v) in values { object[k] = v }
        object["seconds"] = Dictionary(seconds, uniquingKeysWith: +)
        let path = (run.path as NSString).appendingPathComponent("evaluation.json")
        try writeJSON(object, to: path)
        return path
    }

    /// The probe table: latent, name, KL (nats), best factor and its share of the latent's MI,
    /// the runner-up and its share.
    public static func nameTable(_ names: [LatentName]) -> String {
        var out = "latent  name                      KL (nats)  best factor     share   runner-up       share\n"
        for n in names.sorted(by: { $0.kl > $1.kl }) {
            out += "z\(n.latent)".padding(toLength: 8, withPad: " ", startingAt: 0)
                + n.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%9.3f  ", n.kl)
                + (n.bestFactor ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "%5.2f   ", n.share)
                + (n.runnerUp ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0)
                + (n.runnerUpShare.map { String(format: "%5.2f", $0) } ?? "    -") + "\n"
        }
        return out
    }
}

extension JSONEncoder {
    /// Pretty-printed, sorted keys (deterministic bytes).
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}

extension Tensor {
    /// `[N, C, H, W]` → `[N, H·W]` averaged over the C channels.
    func mean(axisChannels c: Int) -> Tensor {
        c == 1 ? reshaped([shape[0], -1]) : self.sum(axis: 1).reshaped([shape[0], -1]) * (1 / Float(c))
    }
}
