import Foundation
import Metrics
import Plotting
import TensorCore

extension TrainedRun {
    /// The saliency-vs-factors section (from `compare/`), empty when `compare` has not run.
    func compareSection() -> String {
        let directory = (run.path as NSString).appendingPathComponent("compare")
        guard let scores = BoundedFile.optionalText(directory + "/scores.csv") else { return "" }
        func table(_ csv: String) -> String {
            let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            return "<table>" + rows.enumerated().map { k, r in "<tr>" + r.map { k == 0 ? "<th>\($0)</th>" : "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n") + "</table>"
        }
        let sanity = BoundedFile.optionalText(directory + "/sanity.csv").map(table) ?? ""
        let panels = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("panel-") && $0.hasSuffix(".png") }.sorted()
        let check = (try? run.decode(FactorRuleCheck.self, from: "compare/" + FactorRuleCheck.fileName)).flatMap { $0 }
        let pages = ((try? FileManager.default.contentsOfDirectory(atPath: run.file("explanations"))) ?? [])
            .filter { $0.hasPrefix("image-") && FileManager.default.fileExists(atPath: run.file("explanations/\($0)/index.html")) }
            .sorted { (Int($0.dropFirst(6)) ?? 0) < (Int($1.dropFirst(6)) ?? 0) }
        return "<h2>Pixel saliency vs factor explanations (compare/)</h2>\n" + table(scores)
            + (check.map { "\n<h3>Factor level (compare/factors.json)</h3>\n<pre>" + $0.text.replacingOccurrences(of: "<", with: "&lt;") + "</pre>" } ?? "")
            + (pages.isEmpty ? "" : "\n<h3>One page per case</h3>\n<ul>" + pages.map {
                "<li><a href=\"explanations/\($0)/index.html\">\($0.replacingOccurrences(of: "-", with: " "))</a>: rule path with true factor values, counterfactuals, every saliency map</li>"
            }.joined() + "</ul>")
            + "\n<h3>Sanity check: cascading randomisation of the CNN</h3>\n" + sanity + "\n"
            + panels.map { "<figure><img src=\"compare/\($0)\" alt=\"\($0)\"><figcaption>\($0)</figcaption></figure>" }.joined(separator: "\n")
    }

    /// Writes the figures a report needs into `RUN/figures/` (training curves, KL bars,
    /// MI heat map when `mi_matrix.csv` exists, traversals, reconstructions) and
    /// `RUN/index.html`, a self-contained page with relative links only (no network).
    /// Returns the HTML path. `meter` counts the report's six parts (and the traversals' own).
    @discardableResult
    public func writeReport(meter: WorkMeter? = nil) throws -> String {
        meter?.begin("writing the report", total: 6, unit: "parts")
        defer { meter?.end() }
        let figures = (run.path as NSString).appendingPathComponent("figures")
        let names = try latentNames()
        let kl = klPerLatent()
        try Figures.trainingCurves(logCSV: run.logPath, output: figures + "/training_curves.png", latentLabels: names)
        meter?.advance()
        try Figures.bars(kl, labels: names.enumerated().map { "z\($0.offset) \($0.element)" }, title: "KL per latent (held-out)",
                         ylabel: "nats", output: figures + "/kl_bars.png")
        meter?.advance()
        let miPath = (run.path as NSString).appendingPathComponent("mi_matrix.csv")
        var hasHeatMap = false
        if let text = BoundedFile.optionalText(miPath) {
            let lines = text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
            let matrix = lines.dropFirst().map { $0.dropFirst().compactMap(Double.init) }
            guard let header = lines.first, lines.count == config.latentCount + 1,
                  zip(lines.dropFirst(), matrix).allSatisfy({ $0.count == header.count && $1.count == header.count - 1 }) else {
                throw ConfigError(miPath, "is not a \(config.latentCount)-row latent × factor table of numbers (damaged? rerun `untangle probe`)")
            }
            try Figures.heatMap(matrix, rowLabels: lines.dropFirst().enumerated().map { "z\($0.offset) \(names[$0.offset])" },
                                columnLabels: Array(lines[0].dropFirst()), title: "Mutual information (nats): latent × factor",
                                output: figures + "/mi_heatmap.png")
            hasHeatMap = true
        }
        meter?.advance()
        try writeTraversals(kl: kl, meter: meter?.scoped("report"))
        meter?.advance()
        let traversalFrames = try run.decode(TraversalFrames.self, from: "figures/traversal/" + TraversalFrames.fileName)
        try writeReconstructions(count: 10, output: figures + "/reconstructions.png")
        meter?.advance()

        func read(_ name: String) -> String? { BoundedFile.optionalText((run.path as NSString).appendingPathComponent(name)) }
        let escape = HTML.escape
        /// A two-column HTML table of (name, value) rows.
        func table(_ rows: [(String, String)]) -> String {
            "<table>\n" + rows.map { "<tr><td>\(escape($0.0))</td><td>\(escape($0.1))</td></tr>\n" }.joined() + "</table>"
        }
        func table(json name: String) throws -> String {
            guard let object = try run.jsonObject(name) else { return "<p>(no \(name))</p>" }
            return table(object.keys.sorted().map { key in
                let value = object[key]!
                if let d = value as? Double { return (key, String(format: "%.4f", d)) }
                if let a = value as? [Double] { return (key, a.map { String(format: "%.3f", $0) }.joined(separator: ", ")) }
                if let o = value as? [String: Any] { return (key, o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: "; ")) }
                return (key, "\(value)")
            })
        }
        var factorRows = ""
        if let probed = try run.decode([LatentName].self, from: "factors.json") {
            for n in probed.sorted(by: { $0.kl > $1.kl }) {
                factorRows += String(format: "<tr><td>z%d</td><td>%@</td><td>%.3f</td><td>%@</td><td>%.2f</td><td>%.2f</td><td>%@</td></tr>\n",
                                     n.latent, escape(n.name), n.kl, escape(n.bestFactor ?? "-"), n.share, n.gap, n.source)
            }
        }
        let figure = { (file: String, caption: String) in
            "<figure><img src=\"figures/\(file)\" alt=\"\(caption)\"><figcaption>\(caption)</figcaption></figure>"
        }
        let metricsTable = try table(json: "metrics.json")
        let stageSections = try RunStages.all.map { try $0.reportSection(self) }.filter { !$0.isEmpty }.joined(separator: "\n")
        let evaluationTable = try EvaluationRecord.read(from: run).map { record in
            let rows = record.scores.keys.sorted().map { ($0, String(format: "%.4f", record.scores[$0]!)) }
                + [("points (train / eval)", "\(record.trainPoints) / \(record.evalPoints)"), ("batch size", "\(record.batchSize)"),
                   ("seed", "\(record.seed)"),
                   ("seconds", record.seconds.keys.sorted().map { String(format: "%@ %.1f", $0, record.seconds[$0]!) }.joined(separator: "; "))]
            return table(rows)
        } ?? "<p>Not evaluated yet: <code>untangle evaluate \(escape(run.path))</code></p>"
        let html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>Untangle run \(escape(config.name))/\(config.runID)</title>
        <style>
        body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
        pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; } figure { display: inline-block; margin: 0.5em; vertical-align: top; }
        img { max-width: 100%; border: 1px solid #ddd; } figcaption { font-size: 0.9em; color: #555; }
        </style></head><body>
        <h1>\(escape(config.name)) <small>run \(config.runID)</small></h1>
        <p>\(escape(config.description)) — model \(config.objective.kind.rawValue), data \(escape(config.dataset)), \(config.steps) steps, seed \(config.seed).</p>
        <h2>ELBO on a fresh draw of the data (metrics.json; drawn apart from training, not a disjoint test set)</h2>
        \(metricsTable)
        <h2>Disentanglement (evaluation.json)</h2>
        \(evaluationTable)
        <h2>Factor names (factors.json)</h2>
        \(factorRows.isEmpty ? "<p>Not probed yet: <code>untangle probe \(escape(run.path))</code></p>" : "<table><tr><th>latent</th><th>name</th><th>KL (nats)</th><th>best factor</th><th>share</th><th>gap</th><th>source</th></tr>\n\(factorRows)</table>")
        <h2>Figures</h2>
        \(figure("training_curves.png", "Training curves: reconstruction and KL per latent"))
        \(figure("kl_bars.png", "KL per latent on held-out data"))
        \(hasHeatMap ? figure("mi_heatmap.png", "Latent × factor mutual information") : "")
        <h2>Reconstructions</h2>
        \(figure("reconstructions.png", "Held-out inputs (top) and reconstructions from the posterior mean (bottom)"))
        <h2>Traversals</h2>
        \(figure("traversals.png", "One row per active latent, sorted by KL"))
        \(figure("traversals.gif", "All active latents moving together"))
        \(traversalFrames.map { $0.html() } ?? "")
        \(stageSections)
        <h2>Config (config.toml)</h2>
        <pre>\(escape(read("config.toml") ?? ""))</pre>
        <p><a href="log.csv">log.csv</a> · <a href="config.toml">config.toml</a> · <a href="run.json">run.json</a> · <a href="model.safetensors">model.safetensors</a></p>
        </body></html>

        """
        let path = (run.path as NSString).appendingPathComponent("index.html")
        try AtomicFile.write(html, to: path)
        meter?.advance()
        return path
    }
}
