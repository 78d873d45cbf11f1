import Datasets
import Foundation

/// Interpretable classifiers and the pixel CNN (`explanation.classify`) → `classifiers.json`.
///
/// ```toml
/// [explanation]                        # labelled data only (lesions, images:DIR?labels=…)
/// classify = true                      # tree, sparse logistic and pixel CNN
/// train = 4000                         # split sizes and the CNN's steps
/// test = 1000
/// cnn_steps = 1500
/// ```
public struct ClassifyStage: RunStage {
    /// `explanation.classify`, its split sizes and the pixel CNN's steps.
    public struct Options: StageOptions {
        public var classify = false, train = 4000, test = 1000, cnnSteps = 1500
        public var isEnabled: Bool { classify }
        public var fingerprint: [String: ConfigValue] {
            classify ? ["classify": .array([.integer(train), .integer(test), .integer(cnnSteps)])] : [:]
        }
    }

    public init() {}
    public var name: String { "classify" }
    public var output: String { "classifiers.json" }
    public var keys: [String: Set<String>] { ["explanation": ["classify", "train", "test", "cnn_steps"]] }

    public func options(_ r: ConfigReader) throws -> Options {
        var o = Options()
        o.classify = try r.boolean("explanation.classify") ?? o.classify
        o.train = try r.integer("explanation.train", atLeast: 50) ?? o.train
        o.test = try r.integer("explanation.test", atLeast: 10) ?? o.test
        o.cnnSteps = try r.integer("explanation.cnn_steps", atLeast: 1) ?? o.cnnSteps
        return o
    }

    public func check(_ data: any ImageDataset, source: String) throws {
        if (data as? any LabeledDataset)?.labelNames.count != 2 {
            throw ConfigError(source, "explanation.classify needs a labelled data set with two classes (lesions, images:DIR?labels=…)")
        }
    }

    public func run(_ context: StageContext, options o: Options, log: @escaping (String) -> Void) throws -> String {
        let bundle = try context.trained().classify(trainCount: o.train, testCount: o.test, cnnSteps: o.cnnSteps, seed: 0,
                                                    meter: logMeter(log)) { _ in }
        return bundle.scores.keys.sorted().map { String(format: "%@ accuracy %.3f", $0, bundle.scores[$0]!.accuracy) }.joined(separator: ", ")
    }

    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        guard let bundle = try run.decode(ClassifierBundle.self, from: output) else { return [:] }
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
