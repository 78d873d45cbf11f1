import Autodiff
import Datasets
import Foundation
import Metrics
import NN
import TensorCore

/// The metrics `untangle evaluate` can compute (`--metrics all` or a comma list).
public enum MetricName: String, CaseIterable, Sendable {
    case betavae, factorvae, mig, sap, dci, modularity, unsupervised, activeunits = "active-units"

    /// Parses `all` or a comma-separated list, naming any unknown entry.
    public static func parseList(_ text: String) throws -> [MetricName] {
        if text == "all" { return allCases }
        return try text.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let m = MetricName(rawValue: name) else {
                throw ConfigError("--metrics", "unknown metric '\(name)' (known: all, \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return m
        }
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
    /// ordered (name, value) pairs and per-metric seconds.
    public func evaluate(_ metrics: [MetricName], trainCount: Int = 10_000, evalCount: Int = 5_000, batchSize: Int = 64,
                         seed: UInt64 = 0) throws -> (values: [(String, Double)], seconds: [(String, Double)]) {
        let data = try groundTruth()
        var evaluator = DisentanglementMetrics(space: data, representation: representation(data), seed: seed)
        evaluator.trainCount = trainCount
        evaluator.evalCount = evalCount
        evaluator.batchSize = batchSize
        var values: [(String, Double)] = [], seconds: [(String, Double)] = []
        func timed(_ name: String, _ body: () -> Void) {
            let start = Date()
            body()
            seconds.append((name, Date().timeIntervalSince(start)))
        }
        var sample: CodeSample?
        let needsSample: Set<MetricName> = [.mig, .sap, .dci, .modularity, .unsupervised]
        if !needsSample.isDisjoint(with: metrics) { timed("encode-sample") { sample = evaluator.codeSample() } }
        for metric in metrics {
            timed(metric.rawValue) {
                switch metric {
                case .betavae:
                    let s = evaluator.betaVAEScore()
                    values += [("betavae.train_accuracy", s.train), ("betavae.eval_accuracy", s.eval)]
                case .factorvae:
                    let s = evaluator.factorVAEScore()
                    values += [("factorvae.train_accuracy", s.train), ("factorvae.eval_accuracy", s.eval),
                               ("factorvae.active_latents", Double(s.activeLatents))]
                case .mig:
                    values.append(("mig", sample!.mig()))
                case .sap:
                    values.append(("sap", sample!.sap().score))
                case .dci:
                    let s = sample!.dci(seed: seed)
                    values += [("dci.disentanglement", s.disentanglement), ("dci.completeness", s.completeness),
                               ("dci.informativeness_train", s.trainAccuracy), ("dci.informativeness_test", s.evalAccuracy)]
                case .modularity:
                    values += [("modularity", CodeSample.modularity(mutualInformation: sample!.mutualInformationMatrix())),
                               ("explicitness", sample!.explicitness())]
                case .unsupervised:
                    let s = sample!.unsupervised()
                    values += [("gaussian_total_correlation", s.gaussianTotalCorrelation),
                               ("mutual_info_score", s.mutualInformationScore)]
                case .activeunits:
                    values.append(("active_units", Double(klPerLatent().filter { $0 > LatentNaming.activeKL }.count)))
                }
            }
        }
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
