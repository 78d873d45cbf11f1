import Foundation
import Plotting
import TensorCore

/// `untangle summarize Results/<experiment>`: every run of an experiment in one table, the
/// seeds aggregated, and each metric plotted against each swept hyperparameter.
///
/// Reads only run directories (those with `config.toml` and `metrics.json`), so it works the
/// same for local and Slurm sweeps, and for runs trained one by one. Writes into
/// `<experiment>/summary/`:
/// - `runs.csv`: one row per run: `run_id`, `status` (done / unfinished), every resolved config
///   key (`model.beta`, …), then every metric: `heldout.*` (metrics.json), the disentanglement
///   metrics (evaluation.json), `classify.<model>.<score>` (classifiers.json) and
///   `compare.<model>.<method>.<score>` (compare/scores.csv) with the factor-level checks of
///   `compare/factors.json` (``FactorRuleCheck/scalars``), and `curve.final.*`/`curve.best.*`
///   (curve.csv) — each stage's ``RunStage/scalars(_:)``. Timings are left out, so the same
///   runs always give the same bytes.
/// - `aggregate.csv`: grouped by every varying config key except `experiment.seed`: `n`, then
///   mean, standard deviation (n − 1) and median of each metric.
/// - `budgets.csv`, `curve-<metric>-vs-minutes.png`, `curve-<metric>-vs-images.png` when runs have
///   learning curves (`training.eval_every`): each group's scores after 3, 10 and 30 minutes of
///   training, and its curves, mean ± std over seeds (see `CurveSummary.swift`).
/// - `<metric>-vs-<key>.png` (+ .gp/.dat): mean ± std over seeds against each varying numeric
///   key, one line per model (and other varying key); `<metric>.png` error bars per group when
///   no numeric key varies (e.g. a model comparison).
public struct ExperimentSummary {
    /// One run: its id, status, config values and metrics.
    public struct Row: Sendable {
        /// Run id and `done` (stages.json) or `unfinished`.
        public var runID: String, status: String
        /// `section.key` → value as written in the resolved config.
        public var config: [String: String]
        /// Metric name → value.
        public var metrics: [String: Double]
    }

    /// The experiment directory.
    public let directory: String
    /// The runs, sorted by their varying config values (seed last).
    public private(set) var rows: [Row] = []

    /// Reads every run under `directory` (`Results/<experiment>`).
    public init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigError(directory, "no such experiment directory")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let run = try? RunDirectory(existing: path), run.isComplete else { continue }
            rows.append(try ExperimentSummary.read(run: run, id: name))
        }
        guard !rows.isEmpty else {
            throw ConfigError(directory, "holds no finished training runs (no <run-id>/metrics.json); run `untangle sweep` first")
        }
        let first = distinguishingKeys
        let keys = first + varyingKeys.filter { $0 != "experiment.seed" && !first.contains($0) } + ["experiment.seed"] // seeds last
        rows.sort { a, b in
            for k in keys where a.config[k] != b.config[k] {
                let (x, y) = (a.config[k] ?? "", b.config[k] ?? "")
                if let u = Double(x), let v = Double(y) { return u < v }
                return x < y
            }
            return a.runID < b.runID
        }
    }

    static func read(run directory: RunDirectory, id: String) throws -> Row {
        let config = try directory.loadConfig()
        var values: [String: String] = [:]
        for (section, value) in config.resolved {
            guard case .table(let table) = value else { continue }
            for (key, v) in table where !(section == "experiment" && (key == "name" || key == "description")) {
                if case .string(let s) = v { values["\(section).\(key)"] = s } else { values["\(section).\(key)"] = v.description }
            }
        }
        var metrics: [String: Double] = [:]
        for step in RunStages.all { metrics.merge(try step.scalars(directory)) { $1 } }
        let done = FileManager.default.fileExists(atPath: directory.file(StagesRecord.fileName))
        return Row(runID: id, status: done ? "done" : "unfinished", config: values, metrics: metrics)
    }

    /// Config keys, sorted.
    public var configKeys: [String] { Array(Set(rows.flatMap { $0.config.keys })).sorted() }
    /// Metric names, sorted.
    public var metricNames: [String] { Array(Set(rows.flatMap { $0.metrics.keys })).sorted() }
    /// Config keys whose value differs between runs.
    public var varyingKeys: [String] { configKeys.filter { k in Set(rows.map { $0.config[k] ?? "" }).count > 1 } }

    /// Varying keys whose every value is a number, without the seed.
    var numericVaryingKeys: [String] {
        varyingKeys.filter { k in k != "experiment.seed" && rows.allSatisfy { $0.config[k].map { Double($0) != nil } ?? true } }
    }

    /// The fewest varying keys (without the seed) that tell the groups apart, `model.kind` first:
    /// a key joins only if it splits a group further, so hyperparameters that come with the model
    /// (FactorVAE's γ, DIP-VAE's λ) are not repeated in tables and legends.
    var distinguishingKeys: [String] {
        let candidates = varyingKeys.filter { $0 != "experiment.seed" }.sorted { a, b in (a == "model.kind") != (b == "model.kind") ? a == "model.kind" : a < b }
        var chosen: [String] = []
        var count = 1
        for k in candidates {
            let n = groups(by: chosen + [k]).count
            if n > count { chosen.append(k); count = n }
        }
        return chosen
    }

    /// Varying keys with non-numeric values (model.kind, …), without the seed.
    var labelKeys: [String] { varyingKeys.filter { $0 != "experiment.seed" && !numericVaryingKeys.contains($0) } }

    /// The hyperparameters to plot against: numeric keys that take two or more values for one
    /// setting of the non-numeric keys (so β is one when swept, but not when it only comes with
    /// the model kind, as in a model comparison where β-VAE has β 4 and β-TCVAE β 6).
    public var numericKeys: [String] {
        let byLabel = groups(by: labelKeys)
        return numericVaryingKeys.filter { k in byLabel.contains { Set($0.rows.compactMap { $0.config[k] }).count > 1 } }
    }

    static func field(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
    static func number(_ x: Double?) -> String { x.map { $0.isFinite ? String(format: "%.6g", $0) : "\($0)" } ?? "" }

    /// `runs.csv` text.
    public var runsCSV: String {
        let keys = configKeys, metrics = metricNames
        var out = (["run_id", "status"] + keys + metrics).joined(separator: ",") + "\n"
        for r in rows {
            out += ([r.runID, r.status] + keys.map { ExperimentSummary.field(r.config[$0] ?? "") }
                    + metrics.map { ExperimentSummary.number(r.metrics[$0]) }).joined(separator: ",") + "\n"
        }
        return out
    }

    /// Groups of runs differing only in the seed: (values of the grouping keys, rows).
    func groups(by keys: [String]) -> [(values: [String], rows: [Row])] {
        var order: [[String]] = [], members: [[String]: [Row]] = [:]
        for r in rows {
            let v = keys.map { r.config[$0] ?? "" }
            if members[v] == nil { order.append(v) }
            members[v, default: []].append(r)
        }
        return order.map { ($0, members[$0]!) }
    }

    /// Mean and sample standard deviation (0 for one value) of the finite values.
    static func meanStd(_ values: [Double]) -> (mean: Double, std: Double, n: Int)? {
        let v = values.filter(\.isFinite)
        guard !v.isEmpty else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.count > 1 ? v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1) : 0
        return (mean, variance.squareRoot(), v.count)
    }

    /// `aggregate.csv` text.
    public var aggregateCSV: String {
        let keys = varyingKeys.filter { $0 != "experiment.seed" }, metrics = metricNames
        var out = (keys + ["n"] + metrics.flatMap { ["\($0).mean", "\($0).std", "\($0).median"] }).joined(separator: ",") + "\n"
        for g in groups(by: keys) {
            var fields = g.values.map(ExperimentSummary.field) + [String(g.rows.count)]
            for m in metrics {
                let values = g.rows.compactMap { $0.metrics[m] }
                let s = ExperimentSummary.meanStd(values)
                fields += [ExperimentSummary.number(s?.mean), ExperimentSummary.number(s?.std), ExperimentSummary.number(ExperimentSummary.median(values))]
            }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Metrics worth a figure. By default all but the per-method saliency table, of which
    /// relevance mass and the pointing game are plotted; `patterns` (exact names, or prefixes
    /// ending in `*`, e.g. `mig`, `classify.tree.*`) choose instead. Unknown patterns are errors.
    func plottedMetrics(_ patterns: [String]?) throws -> [String] {
        guard let patterns else {
            // curve.* are plotted as curves (budgets.csv's figures), not against each key
            return metricNames.filter { !$0.hasPrefix("curve.") && (!$0.hasPrefix("compare.") || $0.hasSuffix(".relevance_mass") || $0.hasSuffix(".pointing_game")) }
        }
        func matches(_ name: String, _ p: String) -> Bool { p.hasSuffix("*") ? name.hasPrefix(p.dropLast()) : name == p }
        if let unknown = patterns.first(where: { p in !metricNames.contains { matches($0, p) } }) {
            throw ConfigError("--metrics \(unknown)", "matches no metric of \(directory) (metrics: \(metricNames.prefix(12).joined(separator: ", "))\(metricNames.count > 12 ? ", …" : ""))")
        }
        return metricNames.filter { name in patterns.contains { matches(name, $0) } }
    }

    /// Writes `summary/` (CSVs and figures; gnuplot needed for the figures); `metrics` selects the
    /// plotted metrics (see ``plottedMetrics(_:)``; the CSVs always hold all). Returns the files written.
    @discardableResult
    public func write(output: String? = nil, figures: Bool = true, metrics patterns: [String]? = nil) throws -> [String] {
        let plotted = try plottedMetrics(patterns)
        let out = output ?? (directory as NSString).appendingPathComponent("summary")
        try AtomicFile.createDirectory(out)
        var written: [String] = []
        for (name, text) in [("runs.csv", runsCSV), ("aggregate.csv", aggregateCSV)] {
            let path = (out as NSString).appendingPathComponent(name)
            try AtomicFile.write(text, to: path)
            written.append(path)
        }
        written += try writeCurves(to: out, figures: figures)
        guard figures else { return written }
        let others = varyingKeys.filter { $0 != "experiment.seed" }, distinguishing = distinguishingKeys
        for key in numericKeys {
            let seriesKeys = distinguishing.filter { $0 != key }
            for metric in plotted {
                var series: [(name: String, points: [(x: Double, mean: Double, std: Double)])] = []
                for g in groups(by: seriesKeys) {
                    var points: [(x: Double, mean: Double, std: Double)] = []
                    for (x, rows) in Dictionary(grouping: g.rows, by: { $0.config[key].flatMap(Double.init) }) {
                        guard let x, let s = ExperimentSummary.meanStd(rows.compactMap { $0.metrics[metric] }) else { continue }
                        points.append((x, s.mean, s.std))
                    }
                    guard !points.isEmpty else { continue }
                    let name = seriesKeys.isEmpty ? (g.rows[0].config["model.kind"] ?? "runs")
                        : zip(seriesKeys, g.values).map { "\($0.0.split(separator: ".").last!)=\($0.1)" }.joined(separator: " ")
                    series.append((name, points.sorted { $0.x < $1.x }))
                }
                guard !series.isEmpty else { continue }
                let xs = series.flatMap { $0.points.map(\.x) }
                let logX = xs.allSatisfy { $0 > 0 } && (xs.max()! / xs.min()! >= 8)
                let short = String(key.split(separator: ".").last!)
                let path = (out as NSString).appendingPathComponent("\(ExperimentSummary.fileStem(metric))-vs-\(short).png")
                try Figures.errorBarLines(series, xlabel: key, ylabel: metric, title: "\(metric) vs \(short) (mean ± std over seeds)",
                                          logX: logX, output: path)
                written.append(path)
            }
        }
        if numericKeys.isEmpty && !others.isEmpty {
            let groups = groups(by: distinguishing)
            for metric in plotted {
                let stats = groups.map { ExperimentSummary.meanStd($0.rows.compactMap { $0.metrics[metric] }) }
                guard stats.contains(where: { $0 != nil }) else { continue }
                let labels = groups.map { $0.values.joined(separator: " ") }
                let path = (out as NSString).appendingPathComponent("\(ExperimentSummary.fileStem(metric)).png")
                try Figures.errorBars(means: stats.map { $0?.mean ?? .nan }, stds: stats.map { $0?.std ?? 0 }, labels: labels,
                                      title: "\(metric) (mean ± std over seeds)", ylabel: metric, output: path)
                written.append(path)
            }
        }
        return written
    }

    static func fileStem(_ metric: String) -> String {
        metric.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? String($0) : "_" }.joined()
    }

    /// A short table of the headline metrics per group (mean ± std), for the terminal.
    public var overview: String {
        let keys = distinguishingKeys
        let headline = ["heldout.elbo", "mig", "dci.disentanglement", "sap", "modularity", "active_units",
                        "classify.tree.accuracy", "classify.cnn.accuracy"].filter { metricNames.contains($0) }
        var table = [keys + ["n"] + headline]
        for g in groups(by: keys) {
            table.append(g.values + [String(g.rows.count)] + headline.map { m in
                ExperimentSummary.meanStd(g.rows.compactMap { $0.metrics[m] }).map { String(format: "%.3f ± %.3f", $0.mean, $0.std) } ?? "-"
            })
        }
        let widths = table[0].indices.map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            zip(row, widths).map { $0.0 + String(repeating: " ", count: $0.1 - $0.0.count) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
