import Foundation
import Plotting
import TensorCore

/// Learning curves in `untangle summarize` and in a run's report (runs trained with
/// `training.eval_every`, see ``LearningCurve``).
extension ExperimentSummary {
    /// The wall-clock budgets (minutes of training) of `budgets.csv`.
    public static let budgetMinutes: [Double] = [3, 10, 30]
    /// The curve metrics plotted and tabulated.
    static let curveMetrics = ["mig", "dci_disentanglement", "sap", "modularity", "named_factors"]

    /// Per group of runs that differ only in the seed (as `aggregate.csv`), the curves of its runs.
    func curveGroups() throws -> [(label: String, threads: Int, curves: [[CurvePoint]])] {
        try groups(by: distinguishingKeys).compactMap { g in
            let curves = try g.rows.compactMap { row -> [CurvePoint]? in
                let path = (directory as NSString).appendingPathComponent("\(row.runID)/\(LearningCurve.fileName)")
                guard FileManager.default.fileExists(atPath: path) else { return nil }
                let points = try LearningCurve.read(path)
                return points.isEmpty ? nil : points
            }
            guard !curves.isEmpty else { return nil }
            let label = zip(distinguishingKeys, g.values).map { "\($0.0.split(separator: ".").last!)=\($0.1)" }.joined(separator: " ")
            let threads = Int(g.rows[0].config["training.threads"] ?? "") ?? 1
            return (label.isEmpty ? (g.rows[0].config["model.kind"] ?? "runs") : label, threads, curves)
        }
    }

    /// Training minutes of a curve point: CPU seconds ÷ the run's threads ÷ 60, the wall clock the
    /// work takes on `threads` idle cores (``LearningCurve``), robust to other load on the machine.
    static func minutes(_ point: CurvePoint, threads: Int) -> Double { point.trainCPUSeconds / Double(max(threads, 1)) / 60 }

    /// The point a run had reached after `budget` minutes of training (``minutes(_:threads:)``):
    /// its last curve point within the budget (the final point of a run that ended earlier).
    static func point(_ curve: [CurvePoint], threads: Int, atMinutes budget: Double) -> CurvePoint {
        curve.last { minutes($0, threads: threads) <= budget } ?? curve[0]
    }

    /// The median of the finite values (mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// `budgets.csv`: per group and budget (3, 10, 30 minutes of training, ``minutes(_:threads:)``), the
    /// mean training minutes and images seen of the points used, then median, mean and std over seeds
    /// of each curve metric. A group whose runs ended before a budget shows its final point there
    /// (its `minutes` column says so).
    func budgetCSV(_ groups: [(label: String, threads: Int, curves: [[CurvePoint]])]) -> String {
        var out = (["group", "budget_minutes", "n", "minutes", "images_seen"]
                   + ExperimentSummary.curveMetrics.flatMap { ["\($0).median", "\($0).mean", "\($0).std"] }).joined(separator: ",") + "\n"
        for g in groups {
            for budget in ExperimentSummary.budgetMinutes {
                let points = g.curves.map { ExperimentSummary.point($0, threads: g.threads, atMinutes: budget) }
                var fields = [ExperimentSummary.field(g.label), ExperimentSummary.number(budget), String(points.count),
                              ExperimentSummary.number(ExperimentSummary.meanStd(points.map { ExperimentSummary.minutes($0, threads: g.threads) })?.mean),
                              ExperimentSummary.number(ExperimentSummary.meanStd(points.map { Double($0.imagesSeen) })?.mean)]
                for metric in ExperimentSummary.curveMetrics {
                    let values = points.compactMap { $0.value(metric) }
                    let s = ExperimentSummary.meanStd(values)
                    fields += [ExperimentSummary.number(ExperimentSummary.median(values)), ExperimentSummary.number(s?.mean),
                               ExperimentSummary.number(s?.std)]
                }
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// Mean ± std over the seeds of `metric` at each evaluated step, against the mean training
    /// minutes (or images seen) of that step.
    static func curveSeries(_ curves: [[CurvePoint]], threads: Int, metric: String, byMinutes: Bool) -> [(x: Double, mean: Double, std: Double)] {
        let steps = Set(curves.flatMap { $0.map(\.step) }).sorted()
        return steps.compactMap { step in
            let points = curves.compactMap { $0.first { $0.step == step } }
            guard let s = meanStd(points.compactMap { $0.value(metric) }) else { return nil }
            let x = byMinutes ? meanStd(points.map { minutes($0, threads: threads) })!.mean : Double(points[0].imagesSeen)
            return (x, s.mean, s.std)
        }
    }

    /// Writes `budgets.csv` and, with `figures`, `curve-<metric>-vs-minutes.png` and
    /// `curve-<metric>-vs-images.png` (one line per group, mean ± std over seeds) into `out`;
    /// nothing when no run has a learning curve. Returns the files written.
    func writeCurves(to out: String, figures: Bool) throws -> [String] {
        let groups = try curveGroups()
        guard !groups.isEmpty else { return [] }
        let table = (out as NSString).appendingPathComponent("budgets.csv")
        try AtomicFile.write(budgetCSV(groups), to: table)
        var written = [table]
        guard figures else { return written }
        for metric in ExperimentSummary.curveMetrics {
            for byMinutes in [true, false] {
                let series = groups.map { (name: $0.label, points: ExperimentSummary.curveSeries($0.curves, threads: $0.threads, metric: metric, byMinutes: byMinutes)) }
                let path = (out as NSString).appendingPathComponent("curve-\(metric)-vs-\(byMinutes ? "minutes" : "images").png")
                try Figures.errorBarLines(series, xlabel: byMinutes ? "training minutes (CPU time ÷ threads)" : "images seen",
                                          ylabel: metric, title: "\(metric) during training (mean ± std over seeds)",
                                          output: path)
                written.append(path)
            }
        }
        return written
    }
}

extension TrainedRun {
    /// The report's learning-curve figures (`figures/curve_vs_step.png`, `curve_vs_minutes.png`:
    /// MIG, DCI disentanglement, SAP and modularity of this run), or `nil` without `curve.csv`.
    func writeCurveFigures(into figures: String) throws -> [String]? {
        let path = (run.path as NSString).appendingPathComponent(LearningCurve.fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let curve = try LearningCurve.read(path)
        guard !curve.isEmpty else { return nil }
        var files: [String] = []
        for (file, byMinutes) in [("curve_vs_step.png", false), ("curve_vs_minutes.png", true)] {
            let series = ["mig", "dci_disentanglement", "sap", "modularity"].map { metric in
                (name: metric, points: curve.map { (x: byMinutes ? ExperimentSummary.minutes($0, threads: config.threads) : Double($0.step), mean: $0.value(metric)!, std: 0.0) })
            }
            try Figures.errorBarLines(series, xlabel: byMinutes ? "training minutes (CPU time ÷ threads)" : "step", ylabel: "score",
                                      title: "Learning curve (\(curve.count) evaluations on \(config.evalPoints) points)",
                                      output: (figures as NSString).appendingPathComponent(file))
            files.append(file)
        }
        return files
    }
}
