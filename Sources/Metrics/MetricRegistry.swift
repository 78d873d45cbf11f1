import Foundation
import TensorCore

/// What a metric may be computed from; each ``Metric`` says which parts it needs.
public struct MetricInputs {
    /// Samples and encodes fresh points (the BetaVAE and FactorVAE scores draw their own).
    public var evaluator: DisentanglementMetrics?
    /// The shared encoded sample (training and evaluation points) of the sample-based metrics.
    public var sample: CodeSample?
    /// Mean KL per latent on held-out images (nats).
    public var klPerLatent: [Double]?
    /// Seed of the metrics' own randomness (forests, splits).
    public var seed: UInt64
    /// Counts a long metric's work as it goes (images encoded, trees grown); nil shows nothing.
    public var meter: WorkMeter?

    public init(evaluator: DisentanglementMetrics? = nil, sample: CodeSample? = nil, klPerLatent: [Double]? = nil, seed: UInt64 = 0,
                meter: WorkMeter? = nil) {
        self.evaluator = evaluator; self.sample = sample; self.klPerLatent = klPerLatent; self.seed = seed; self.meter = meter
    }
}

/// One disentanglement metric: its name on the command line and in configs, what it needs, and
/// the named scores it returns (the keys of `evaluation.json`).
public struct Metric: Sendable, Equatable {
    /// What the metric reads.
    public enum Need: Sendable { case evaluator, sample, klPerLatent }
    /// `mig`, `dci`, `sap-tree`, …
    public let name: String
    /// One line for help texts.
    public let summary: String
    public let need: Need
    let compute: @Sendable (MetricInputs) -> [(String, Double)]

    public static func == (a: Metric, b: Metric) -> Bool { a.name == b.name }

    /// The scores for `inputs`, which must hold what ``need`` names.
    public func scores(_ inputs: MetricInputs) -> [(String, Double)] { compute(inputs) }
}

/// An unknown metric name, with the known ones.
public struct UnknownMetric: Error, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { "unknown metric '\(name)' (known: all, \(MetricRegistry.names.joined(separator: ", ")))" }
}

/// Every metric Untangle computes, in the order `evaluate` runs and prints them. A new metric is
/// one entry here (and its function beside the others); the CLI help, config validation,
/// `evaluate`, `score` and the summaries all iterate this list.
public enum MetricRegistry {
    public static let all: [Metric] = [
        Metric(name: "betavae", summary: "BetaVAE score (logistic regression on mean |z₁ − z₂| of 64 pairs)", need: .evaluator) { i in
            let s = i.evaluator!.betaVAEScore(meter: i.meter)
            return [("betavae.train_accuracy", s.train), ("betavae.eval_accuracy", s.eval)]
        },
        Metric(name: "factorvae", summary: "FactorVAE score (majority vote on the argmin of normalised variances)", need: .evaluator) { i in
            let s = i.evaluator!.factorVAEScore(meter: i.meter)
            return [("factorvae.train_accuracy", s.train), ("factorvae.eval_accuracy", s.eval),
                    ("factorvae.active_latents", Double(s.activeLatents))]
        },
        Metric(name: "mig", summary: "mutual information gap (20 bins)", need: .sample) { i in [("mig", i.sample!.mig())] },
        Metric(name: "sap", summary: "SAP with dlib's LinearSVC(C = 0.01, balanced)", need: .sample) { i in [("sap", i.sample!.sap().score)] },
        Metric(name: "sap-tree", summary: "SAP with a one-latent CART threshold classifier", need: .sample) { i in
            [("sap_tree", i.sample!.sap(classifier: .tree).score)]
        },
        Metric(name: "dci", summary: "DCI from gradient-boosted trees (dlib's)", need: .sample) { i in
            dciScores(i.sample!.dci(seed: i.seed, meter: i.meter), prefix: "dci")
        },
        Metric(name: "dci-forest", summary: "DCI from random forests", need: .sample) { i in
            dciScores(i.sample!.dci(seed: i.seed, importance: .randomForest, meter: i.meter), prefix: "dci_forest")
        },
        Metric(name: "modularity", summary: "modularity and explicitness (raw codes as dlib; and standardised)", need: .sample) { i in
            let explicitness = i.sample!.explicitness(variants: [false, true])
            return [("modularity", CodeSample.modularity(mutualInformation: i.sample!.mutualInformationMatrix())),
                    ("explicitness", explicitness[0]), ("explicitness_standardized", explicitness[1])]
        },
        Metric(name: "unsupervised", summary: "Gaussian total correlation and mutual-information score", need: .sample) { i in
            let s = i.sample!.unsupervised()
            return [("gaussian_total_correlation", s.gaussianTotalCorrelation), ("mutual_info_score", s.mutualInformationScore)]
        },
        Metric(name: "irs", summary: "interventional robustness score (Suter et al. 2019, dlib's irs.py, 99 % quantile)", need: .sample) { i in
            let s = i.sample!.irs()
            return [("irs", s.score), ("irs.active_latents", Double(s.activeLatents))]
        },
        Metric(name: "active-units", summary: "latents with mean KL > 0.01 nats", need: .klPerLatent) { i in
            [("active_units", Double(i.klPerLatent!.filter { $0 > LatentNaming.activeKL }.count))]
        },
    ]

    static func dciScores(_ s: (disentanglement: Double, completeness: Double, trainAccuracy: Double, evalAccuracy: Double,
                                importance: [[Double]]), prefix: String) -> [(String, Double)] {
        [("\(prefix).disentanglement", s.disentanglement), ("\(prefix).completeness", s.completeness),
         ("\(prefix).informativeness_train", s.trainAccuracy), ("\(prefix).informativeness_test", s.evalAccuracy)]
    }

    /// The metric names, in order.
    public static var names: [String] { all.map(\.name) }
    /// The metric called `name`.
    public static func named(_ name: String) -> Metric? { all.first { $0.name == name } }

    /// `all` or a comma-separated list of names; an unknown entry throws ``UnknownMetric``.
    public static func parseList(_ text: String) throws -> [Metric] {
        if text.trimmingCharacters(in: .whitespaces) == "all" { return all }
        return try text.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let metric = named(name) else { throw UnknownMetric(name: name) }
            return metric
        }
    }

    /// The help text: one line per metric.
    public static var helpText: String { all.map { "\($0.name): \($0.summary)" }.joined(separator: "; ") }
}
