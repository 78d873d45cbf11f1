import Datasets
import Foundation
import Metrics

/// One stage of a run after training: what `untangle run` / `sweep` execute in order, what
/// `summarize` reads and what the run report shows all come from ``RunStages/all``. Adding a stage
/// is one type conforming to this protocol (its settings go into ``StageSettings``) and one line in
/// that list.
public protocol RunStage: Sendable {
    /// The stage's name in logs and in `failed.json` (`evaluate`, `probe`, `classify`, `compare`).
    var name: String { get }
    /// Whether the settings ask for it.
    func isEnabled(_ settings: StageSettings) -> Bool
    /// Refuses, before any work, a data set the stage cannot run on (the capability it needs);
    /// `source` names the data set in the error (the config's `data.dataset`).
    func check(_ data: any ImageDataset, source: String) throws
    /// Runs the stage on a trained run, writing its outputs into the run directory; returns the
    /// log line that says what it found.
    func run(_ trained: TrainedRun, settings: StageSettings, log: (String) -> Void) throws -> String
    /// The scalars it contributes to `summarize`, read from its outputs (empty when it has not run).
    func scalars(_ run: RunDirectory) throws -> [String: Double]
    /// Its section of the run report, HTML (empty when it has nothing to show).
    func reportSection(_ trained: TrainedRun) throws -> String
}

extension RunStage {
    public func check(_ data: any ImageDataset, source: String) throws {}
    public func scalars(_ run: RunDirectory) throws -> [String: Double] { [:] }
    public func reportSection(_ trained: TrainedRun) throws -> String { "" }
}

/// Every stage after training, in the order a run executes them.
public enum RunStages {
    public static let all: [any RunStage] = [EvaluateStage(), ProbeStage(), ClassifyStage(), CompareStage()]
}

/// The disentanglement metrics (`evaluation.metrics`) → `evaluation.json`.
public struct EvaluateStage: RunStage {
    public var name: String { "evaluate" }
    public func isEnabled(_ settings: StageSettings) -> Bool { !settings.metrics.isEmpty }
    public func check(_ data: any ImageDataset, source: String) throws {
        let annotated = (data as? ImageFolder).map { !$0.annotations.factors.isEmpty } ?? false
        if !(data is any GroundTruthDataset) && !annotated {
            throw ConfigError(source, "evaluation.metrics need ground-truth factors (dsprites, lesions, or an image folder's CSV annotation columns); remove them for this data set")
        }
    }
    public func run(_ trained: TrainedRun, settings: StageSettings, log: (String) -> Void) throws -> String {
        let (values, seconds) = try trained.evaluate(settings.metrics, trainCount: settings.trainPoints, evalCount: settings.evalPoints,
                                                     seed: 0) { log("evaluate: " + $0) }
        let points = trained.evaluationPoints(train: settings.trainPoints, eval: settings.evalPoints)
        _ = try trained.writeEvaluation(values: values, seconds: seconds,
                                        settings: ["train_points": points.train, "eval_points": points.eval, "batch_size": 64, "seed": 0])
        return values.map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")
    }
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for (k, v) in try run.jsonObject("evaluation.json") ?? [:] where !["train_points", "eval_points", "batch_size", "seed"].contains(k) {
            if let x = v as? Double { out[k] = x }
        }
        return out
    }
}

/// Latent names (`evaluation.probe`) → `factors.json`, `mi_matrix.csv`.
public struct ProbeStage: RunStage {
    public var name: String { "probe" }
    public func isEnabled(_ settings: StageSettings) -> Bool { settings.probe }
    public func run(_ trained: TrainedRun, settings: StageSettings, log: (String) -> Void) throws -> String {
        try trained.probe().map { "z\($0.latent)=\($0.name)" }.joined(separator: " ")
    }
}

/// Interpretable classifiers and the pixel CNN (`explanation.classify`) → `classifiers.json`.
public struct ClassifyStage: RunStage {
    public var name: String { "classify" }
    public func isEnabled(_ settings: StageSettings) -> Bool { settings.classify }
    public func check(_ data: any ImageDataset, source: String) throws {
        if (data as? any LabeledDataset)?.labelNames.count != 2 {
            throw ConfigError(source, "explanation.classify needs a labelled data set with two classes (lesions, images:DIR?labels=…)")
        }
    }
    public func run(_ trained: TrainedRun, settings: StageSettings, log: (String) -> Void) throws -> String {
        let bundle = try trained.classify(trainCount: settings.classifyTrain, testCount: settings.classifyTest,
                                          cnnSteps: settings.cnnSteps, seed: 0) { _ in }
        return bundle.scores.keys.sorted().map { String(format: "%@ accuracy %.3f", $0, bundle.scores[$0]!.accuracy) }.joined(separator: ", ")
    }
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        guard let bundle = try run.decode(ClassifierBundle.self, from: "classifiers.json") else { return [:] }
        var out: [String: Double] = [:]
        for (model, scores) in bundle.scores {
            for (score, x) in scores.named { out["classify.\(model).\(score)"] = x }
        }
        for (model, x) in bundle.counterfactualValidity { out["classify.\(model).counterfactual_validity"] = x }
        for (model, folds) in bundle.crossValidation ?? [:] {
            out["classify.\(model).cv_balanced_accuracy"] = ClassifierBundle.meanAndSpread(folds.map(\.balancedAccuracy)).mean
        }
        return out
    }
}

/// Pixel saliency vs factor explanations (`explanation.compare`) → `compare/`, `explanations/`.
public struct CompareStage: RunStage {
    public var name: String { "compare" }
    public func isEnabled(_ settings: StageSettings) -> Bool { settings.compare }
    public func check(_ data: any ImageDataset, source: String) throws {
        if data.maskedView == nil {
            throw ConfigError(source, "explanation.compare needs ground-truth masks (lesions, or an image folder whose labels CSV has a mask column)")
        }
    }
    public func run(_ trained: TrainedRun, settings: StageSettings, log: (String) -> Void) throws -> String {
        _ = try trained.compare(count: settings.compareCount, seed: 0)
        return "wrote compare/scores.csv"
    }
    /// `compare.<model>.<method>.<score>` from `compare/scores.csv` (timings left out) and the
    /// factor-level checks of `compare/factors.json` (``FactorRuleCheck/scalars``).
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        var out: [String: Double] = [:]
        if let text = try? String(contentsOfFile: run.file("compare/scores.csv"), encoding: .utf8) {
            let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            if let header = lines.first, header.count > 2 {
                for line in lines.dropFirst() where line.count == header.count {
                    for (c, name) in header.enumerated().dropFirst(2) where name != "seconds" {
                        if let x = Double(line[c]) { out["compare.\(line[0]).\(line[1]).\(name)"] = x }
                    }
                }
            }
        }
        if let check = try run.decode(FactorRuleCheck.self, from: "compare/" + FactorRuleCheck.fileName) {
            out.merge(check.scalars) { $1 }
        }
        return out
    }
    public func reportSection(_ trained: TrainedRun) throws -> String { trained.compareSection() }
}
