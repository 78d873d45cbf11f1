import Datasets
import Foundation
import Metrics

/// The disentanglement metrics (`evaluation.metrics`, ``MetricRegistry``) → `evaluation.json`.
///
/// ```toml
/// [evaluation]
/// metrics = ["mig", "sap", "dci"]      # default: none (the stage is off)
/// train_points = 10000                 # sample sizes (disentanglement_lib's defaults)
/// eval_points = 5000
/// ```
public struct EvaluateStage: RunStage {
    /// `evaluation.metrics` and their sample sizes.
    public struct Options: StageOptions {
        public var metrics: [Metric] = [], trainPoints = 10_000, evalPoints = 5_000
        public var isEnabled: Bool { !metrics.isEmpty }
        public var fingerprint: [String: ConfigValue] {
            metrics.isEmpty ? [:] : ["metrics": .array(metrics.map { .string($0.name) }), "train_points": .integer(trainPoints),
                                     "eval_points": .integer(evalPoints)]
        }
    }

    public init() {}
    public var name: String { "evaluate" }
    public var output: String { EvaluationRecord.fileName }
    public var keys: [String: Set<String>] { ["evaluation": ["metrics", "train_points", "eval_points"]] }

    public func options(_ r: ConfigReader) throws -> Options {
        var o = Options()
        if let names = try r.strings("evaluation.metrics") {
            o.metrics = try names.map { n in
                guard let m = MetricRegistry.named(n) else { throw ConfigError(r.source, "evaluation.metrics: \(UnknownMetric(name: n))") }
                return m
            }
        }
        o.trainPoints = try r.integer("evaluation.train_points", atLeast: 2) ?? o.trainPoints
        o.evalPoints = try r.integer("evaluation.eval_points", atLeast: 1) ?? o.evalPoints
        return o
    }

    public func check(_ data: any ImageDataset, source: String) throws {
        let annotated = (data as? ImageFolder).map { !$0.annotations.factors.isEmpty } ?? false
        if !(data is any GroundTruthDataset) && !annotated {
            throw ConfigError(source, "evaluation.metrics need ground-truth factors (dsprites, lesions, or an image folder's CSV annotation columns); remove them for this data set")
        }
    }

    public func run(_ context: StageContext, options o: Options, log: @escaping (String) -> Void) throws -> String {
        let trained = try context.trained()
        let (values, seconds) = try trained.evaluate(o.metrics, trainCount: o.trainPoints, evalCount: o.evalPoints, seed: 0,
                                                     meter: logMeter(log)) { log("evaluate: " + $0) }
        try trained.evaluationRecord(values: values, seconds: seconds, trainCount: o.trainPoints, evalCount: o.evalPoints,
                                     batchSize: 64, seed: 0).write(to: trained.run)
        return values.map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")
    }

    /// The record's scores.
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        try EvaluationRecord.read(from: run)?.scores ?? [:]
    }
}
