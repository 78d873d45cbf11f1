import Foundation

/// The learning curve (`training.eval_every` > 0, ``LearningCurve``): scored during training, so
/// after training this stage checks that `curve.csv` holds a row at step 0, every `eval_every`
/// steps and the last step — nothing missing, nothing repeated, so a curve a resume or a damaged
/// file left with a gap is an error, not a silently shorter line — and reports first, final and
/// best scores. It contributes `curve.final.<metric>` and `curve.best.<metric>` to `summarize`
/// and the curve figures to the report.
public struct CurveStage: RunStage {
    public init() {}
    public var name: String { "curve" }
    public var output: String { "curve.csv" }
    public func options(_ r: ConfigReader) throws -> AlwaysOn { AlwaysOn() }

    /// The steps a complete curve of `config` has rows for.
    public static func expectedSteps(_ config: ExperimentConfig) -> [Int] {
        guard config.evalEvery > 0 else { return [] }
        let steps = Array(stride(from: 0, through: config.steps, by: config.evalEvery))
        return steps.last == config.steps ? steps : steps + [config.steps]
    }

    public func run(_ context: StageContext, options: AlwaysOn, log: @escaping (String) -> Void) throws -> String {
        let expected = CurveStage.expectedSteps(context.config)
        guard !expected.isEmpty else { return "" }
        let path = context.run.file(output)
        let points = try LearningCurve.read(path)
        let steps = points.map(\.step)
        if steps != expected {
            let missing = Set(expected).subtracting(steps).sorted(), extra = steps.count - Set(steps).count
            throw ConfigError(path, "incomplete learning curve: expected rows at steps \(expected.first!)…\(expected.last!) every \(context.config.evalEvery)"
                              + (missing.isEmpty ? "" : "; missing \(missing.prefix(5).map(String.init).joined(separator: ", "))\(missing.count > 5 ? ", …" : "")")
                              + (extra > 0 ? "; \(extra) repeated" : "")
                              + (missing.isEmpty && extra == 0 ? "; rows out of order" : "")
                              + " (retrain with `untangle train --overwrite`)")
        }
        let mig = points.map { $0.value("mig")! }
        let best = mig.indices.max { mig[$0] < mig[$1] }!
        return String(format: "%d points, MIG %.3f → %.3f (best %.3f at step %d), %d factors named at the end",
                      points.count, mig.first!, mig.last!, mig[best], points[best].step, Int(points.last!.value("named_factors")!))
    }

    /// `curve.final.<metric>` (the last row) and `curve.best.<metric>` (the highest over the
    /// curve) for every score column of `curve.csv`; empty without a curve.
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        let path = run.file(output)
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let points = try LearningCurve.read(path)
        guard let last = points.last else { return [:] }
        var out: [String: Double] = [:]
        for (c, metric) in LearningCurve.metricColumns.enumerated() {
            out["curve.final.\(metric)"] = last.values[c]
            out["curve.best.\(metric)"] = points.map { $0.values[c] }.max()
        }
        return out
    }

    /// The curve against steps and against training minutes (``TrainedRun/writeCurveFigures(into:)``).
    public func reportSection(_ trained: TrainedRun) throws -> String {
        guard let files = try trained.writeCurveFigures(into: trained.run.file("figures")) else { return "" }
        let captions = ["Scores against the training step", "Scores against training minutes (CPU time ÷ threads, evaluations excluded)"]
        return "<h2>Learning curve (curve.csv)</h2>\n" + zip(files, captions).map {
            "<figure><img src=\"figures/\($0.0)\" alt=\"\($0.1)\"><figcaption>\($0.1)</figcaption></figure>"
        }.joined(separator: "\n")
    }
}
