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
            let (mean, logVariance) = encodePosterior(x.slice(axis: 0, start..<min(count, start + 256)))
            let tape = Tape(recording: false)
            let kl = gaussianKLPerLatent(mean: tape.constant(mean), logVariance: tape.constant(logVariance)).value
            let weight = Double(mean.shape[0])
            for l in 0..<config.latentCount { sums[l] += weight * Double(kl.scalars[l]) }
        }
        return sums.map { $0 / Double(count) }
    }

    /// Computes `metrics` (dlib's definitions and defaults unless overridden), returning
    /// ordered (name, value) pairs and per-metric seconds. The sample-based metrics share one
    /// encoded sample (`encode-sample` in the seconds).
    /// `progress` gets one line per finished step ("mig: 0.3245 (0.0 s)"), as it finishes;
    /// `meter` counts a long step's work while it runs (each step's phases scoped by its name).
    public func evaluate(_ metrics: [Metric], trainCount: Int = 10_000, evalCount: Int = 5_000, batchSize: Int = 64,
                         seed: UInt64 = 0, meter: WorkMeter? = nil,
                         progress: (String) -> Void = { _ in }) throws -> (values: [(String, Double)], seconds: [(String, Double)]) {
        try CountLimit.require("--train", trainCount, bytesEach: samplePointBytes)
        try CountLimit.require("--eval", evalCount, bytesEach: samplePointBytes)
        try CountLimit.require("--batch", batchSize, copies: 2, bytesEach: dataset.imageBytes) // a batch of image pairs
        if !(dataset is any GroundTruthDataset), let factors = annotationFactors {
            return try evaluateOnAnnotations(metrics, factors: factors, seed: seed, meter: meter, progress: progress)
        }
        let data = try groundTruth()
        var evaluator = DisentanglementMetrics(space: data, representation: representation(data), seed: seed, encodingBatch: encodingPiece)
        evaluator.trainCount = trainCount
        evaluator.evalCount = evalCount
        evaluator.batchSize = batchSize
        var values: [(String, Double)] = [], seconds: [(String, Double)] = []
        func timed<T>(_ name: String, _ body: () -> T, describe: (T) -> String = { _ in "done" }) -> T {
            let start = Date()
            let result = body()
            let elapsed = Date().timeIntervalSince(start)
            seconds.append((name, elapsed))
            progress(String(format: "%@: %@ (%.1f s)", name, describe(result), elapsed))
            return result
        }
        var inputs = MetricInputs(evaluator: evaluator, seed: seed)
        if metrics.contains(where: { $0.need == .sample }) {
            inputs.sample = timed("encode-sample", { evaluator.codeSample(meter: meter?.scoped("encode-sample")) }, describe: { "\($0.trainCodes.count) + \($0.evalCodes.count) points" })
        }
        if metrics.contains(where: { $0.need == .klPerLatent }) { inputs.klPerLatent = klPerLatent() }
        for metric in metrics {
            inputs.meter = meter?.scoped(metric.name)
            values += timed(metric.name, { metric.scores(inputs) }, describe: { $0.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ") })
        }
        return (values, seconds)
    }

    /// The training and evaluation point counts ``evaluate(_:trainCount:evalCount:batchSize:seed:)``
    /// really uses: the requested ones, or for an annotated image folder ⅔ and ⅓ of its images
    /// that have a value in every annotation column (what `evaluation.json` records).
    public func evaluationPoints(train: Int, eval: Int) -> (train: Int, eval: Int) {
        guard !(dataset is any GroundTruthDataset), let factors = annotationFactors else { return (train, eval) }
        let complete = annotatedImages(factors).count
        return (complete * 2 / 3, complete - complete * 2 / 3)
    }

    /// The images with a value in every one of `factors` (dataset index order).
    func annotatedImages(_ factors: [AnnotatedFactor]) -> [Int] {
        (0..<dataset.count).filter { i in factors.allSatisfy { $0.classes[i] != nil } }
    }

    /// The sample-based metrics on an annotated image folder: every image with a value in every
    /// annotation column, encoded once, shuffled with `seed`, ⅔ training and ⅓ evaluation points
    /// (dlib's 10,000 / 5,000 ratio). The BetaVAE and FactorVAE scores need a factor grid to
    /// draw from and are refused.
    func evaluateOnAnnotations(_ metrics: [Metric], factors: [AnnotatedFactor], seed: UInt64, meter: WorkMeter?, progress: (String) -> Void) throws
        -> (values: [(String, Double)], seconds: [(String, Double)]) {
        if let grid = metrics.first(where: { $0.need == .evaluator }) {
            throw ConfigError("--metrics \(grid.name)", "needs a factor grid to sample from (dsprites, lesions); on an annotated folder use the sample-based metrics (\(MetricRegistry.all.filter { $0.need == .sample }.map(\.name).joined(separator: ", ")))")
        }
        let start = Date()
        var rng = RandomStream.annotationMetrics.generator(seed: seed)
        var complete = annotatedImages(factors)
        guard complete.count >= 30 else {
            throw ConfigError(config.dataset, "only \(complete.count) images have a value in every annotation column (\(factors.map(\.name).joined(separator: ", "))); the metrics need at least 30")
        }
        complete.shuffle(using: &rng)
        let codes = encodeMeans(of: complete, in: dataset, meter: meter?.scoped("encode-sample"))
        let z = config.latentCount
        let rows = complete.indices.map { Array(codes.scalars[($0 * z)..<(($0 + 1) * z)]) }
        let classes = complete.map { i in factors.map { $0.classes[i]! } }
        let cut = complete.count * 2 / 3
        let sample = CodeSample(trainCodes: Array(rows[..<cut]), trainFactors: Array(classes[..<cut]), evalCodes: Array(rows[cut...]),
                                evalFactors: Array(classes[cut...]), classCounts: factors.map(\.classCount))
        var seconds = [("encode-sample", Date().timeIntervalSince(start))], values: [(String, Double)] = []
        var inputs = MetricInputs(sample: sample, klPerLatent: metrics.contains { $0.need == .klPerLatent } ? klPerLatent() : nil, seed: seed)
        for metric in metrics {
            inputs.meter = meter?.scoped(metric.name)
            let t = Date()
            let scores = metric.scores(inputs)
            values += scores
            seconds.append((metric.name, Date().timeIntervalSince(t)))
            progress(String(format: "%@: %@ (%.1f s)", metric.name, scores.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", "),
                            seconds.last!.1))
        }
        return (values, seconds)
    }

    /// The annotation factors of an image folder's CSV (``ImageFolder/annotations``), nil for
    /// other data sets or a folder without usable columns.
    public var annotationFactors: [AnnotatedFactor]? {
        guard let folder = dataset as? ImageFolder else { return nil }
        let factors = folder.annotations.factors
        return factors.isEmpty ? nil : factors
    }

    /// One line per CSV column: used as a factor (classes, missing cells) or skipped and why.
    public func annotationSummary() -> String? {
        guard let folder = dataset as? ImageFolder, !folder.attributes.isEmpty else { return nil }
        let (factors, skipped) = folder.annotations
        var lines = factors.map { f in
            "  \(f.name): \(f.isNumeric ? "numeric" : "categorical"), \(f.classCount) classes\(f.missing > 0 ? ", \(f.missing) of \(folder.count) cells missing (left out)" : "")"
        }
        lines += skipped.map { "  \($0.column): not used (\($0.reason))" }
        return "annotation columns:\n" + lines.joined(separator: "\n") + "\n"
    }

    /// `MI[latent][factor]` (nats) and each factor's entropy between the codes of the folder's
    /// images (all of them, or `points` drawn with `seed`) and its annotation factors; each
    /// factor on the images where it is present, latents discretised into 20 bins there.
    func annotationInformation(_ factors: [AnnotatedFactor], points: Int, seed: UInt64, meter: WorkMeter?) -> (mi: [[Double]], entropies: [Double]) {
        var rng = RandomStream.annotationProbe.generator(seed: seed)
        var indices = Array(0..<dataset.count)
        if indices.count > points { indices.shuffle(using: &rng); indices = Array(indices.prefix(points)).sorted() }
        let means = encodeMeans(of: indices, in: dataset, meter: meter), z = config.latentCount
        let codes = (0..<indices.count).map { Array(means.scalars[($0 * z)..<(($0 + 1) * z)]) }
        var mi = [[Double]](repeating: [Double](repeating: 0, count: factors.count), count: config.latentCount)
        var entropies: [Double] = []
        for (f, factor) in factors.enumerated() {
            let rows = indices.indices.filter { factor.classes[indices[$0]] != nil }
            let classes = rows.map { factor.classes[indices[$0]]! }
            entropies.append(rows.isEmpty ? 0 : Information.entropy(classes))
            guard rows.count > 1 else { continue }
            for l in 0..<config.latentCount {
                mi[l][f] = Information.mutualInformation(Information.discretize(rows.map { codes[$0][l] }), classes)
            }
        }
        return (mi, entropies)
    }

    /// Writes `RUN/mi_matrix.csv`: one row per latent, one column per factor (nats).
    func writeMutualInformation(_ mi: [[Double]], factorNames: [String]) throws {
        var csv = "latent," + factorNames.joined(separator: ",") + "\n"
        for (l, row) in mi.enumerated() { csv += "z\(l)," + row.map { String(format: "%.6f", $0) }.joined(separator: ",") + "\n" }
        try AtomicFile.write(csv, to: (run.path as NSString).appendingPathComponent("mi_matrix.csv"))
    }

    /// Names the latents: by ground truth when the data set has factors, by the user's own
    /// annotations when an image folder's CSV has usable columns (``annotationSummary()`` says
    /// which), else by image properties along traversals; `renames` (latent → name) override.
    /// Writes `mi_matrix.csv` (factors or annotations) and `factors.json` into the run directory.
    /// `meter` counts the images encoded.
    public func probe(renames: [Int: String] = [:], points: Int = 10_000, seed: UInt64 = 0, meter: WorkMeter? = nil) throws -> [LatentName] {
        try CountLimit.require("--points", points, bytesEach: samplePointBytes)
        let kl = klPerLatent()
        var names: [LatentName]
        if let factors = annotationFactors {
            let (mi, entropies) = annotationInformation(factors, points: points, seed: seed, meter: meter)
            names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: entropies, factorNames: factors.map(\.name), kl: kl)
            for k in names.indices { names[k].source = "annotation" }
            try writeMutualInformation(mi, factorNames: factors.map(\.name))
        } else if let data = dataset as? any GroundTruthDataset {
            var evaluator = DisentanglementMetrics(space: data, representation: representation(data), seed: seed, encodingBatch: encodingPiece)
            evaluator.trainCount = points
            evaluator.evalCount = 1
            let sample = evaluator.codeSample(meter: meter)
            let mi = sample.mutualInformationMatrix()
            let factorNames = data.factors.map(\.name)
            names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: sample.factorEntropies(),
                                                 factorNames: factorNames, kl: kl)
            try writeMutualInformation(mi, factorNames: factorNames)
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
            // Each property's spread over real images puts the properties on one scale.
            let real = heldOutImages(256).mean(axisChannels: dataset.imageShape[0])
            let measured = (0..<256).map { ImageProperties.measure(real.scalars[($0 * h * w)..<(($0 + 1) * h * w)], height: h, width: w) }
            let scales = ImageProperties.names.indices.map { k -> Double in
                let column = measured.map { $0[k] }
                let mean = column.reduce(0, +) / Double(column.count)
                return (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)).squareRoot()
            }
            names = LatentNaming.fromTraversals(properties: properties, propertyNames: ImageProperties.names, values: values,
                                                scales: scales, kl: kl)
        }
        for (latent, name) in renames {
            guard latent >= 0 && latent < names.count else { throw ConfigError("--rename \(latent)=\(name)", "no latent z\(latent)") }
            names[latent].name = name
            names[latent].source = "user"
        }
        let json = try JSONEncoder.sorted.encode(names)
        try AtomicFile.write(json + Data("\n".utf8), to: (run.path as NSString).appendingPathComponent(ProbeStage().output))
        return names
    }

    /// The record of an evaluation: `values` and `seconds` as ``evaluate(_:trainCount:evalCount:batchSize:seed:meter:progress:)``
    /// returned them, with the point counts it really used (``evaluationPoints(train:eval:)``).
    public func evaluationRecord(values: [(String, Double)], seconds: [(String, Double)], trainCount: Int, evalCount: Int,
                                 batchSize: Int, seed: UInt64) -> EvaluationRecord {
        let points = evaluationPoints(train: trainCount, eval: evalCount)
        return EvaluationRecord(trainPoints: points.train, evalPoints: points.eval, batchSize: batchSize, seed: Int(seed),
                                scores: Dictionary(values, uniquingKeysWith: { $1 }), seconds: Dictionary(seconds, uniquingKeysWith: +))
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
