import Autodiff
import Datasets
import Explain
import Foundation
import ImageIO
import Metrics
import TensorCore

/// `untangle explain RUN --image K`: one image explained two ways, side by side, on one page.
///
/// `RUN/explanations/image-K/index.html` (self-contained: PNGs next to it, no scripts) shows
/// - the input, its reconstruction and, when the data set has masks, the ground-truth mask;
/// - the decision of the tree, the sparse logistic model and the pixel CNN;
/// - the tree's rule path in named factors, each step with the latent's value, the threshold, and
///   the image's **true** value of the latent's best factor (ground-truth factors, or the folder's
///   annotation columns), so the reader can check the rule against the truth;
/// - the counterfactual strips decoded along the deciding factor ("if blur were lower: benign"),
///   re-encoded and re-classified;
/// - every saliency method on every model as a Captum-style overlay, signed and absolute, blended on
///   the image, each scaled by its own 98th percentile of |a| (Captum's `outlier_perc = 2`) so one
///   colour bar reads all maps, with the map's relevance mass on the mask when there is one; the raw
///   attributions beside them as `<model>-<method>.npy` (float32 `[1, C, H, W]`).
/// One image explained two ways, in memory: what ``TrainedRun/explain(index:seed:)`` writes as a
/// page and what `untangle serve` sends to the browser. Images are `[C, H, W]` tensors in [0, 1]
/// (overlays and grey images as RGB `[3, H, W]`).
public struct Explanation {
    /// The console text: decisions, rule path, contributions, counterfactuals.
    public var text: String
    /// The true label's name (nil for an image that is not in the data set).
    public var trueLabel: String?
    /// Class names; decisions are P(class 1).
    public var classes: [String]
    /// Each model's P(class 1): decision tree, sparse logistic, pixel CNN (when trained).
    public var decisions: [(model: String, probability: Double)]
    /// The tree's rule path in named factors (with true values when known), ending in the leaf.
    public var ruleSteps: [String]
    /// The sparse logistic model's non-zero contributions: factor, contribution, value, weight.
    public var contributions: [(factor: String, contribution: Double, value: Float, weight: Double)]
    /// The logistic model's bias.
    public var bias: Double
    /// Counterfactual strips: the input, then 7 decoded steps along the deciding factor.
    public var strips: [(model: String, caption: String, tile: Tensor)]
    /// Every saliency method on every model: raw attributions `[1, C, H, W]`, signed and absolute
    /// overlays, and the relevance mass on the mask when there is one.
    public var maps: [(model: String, method: String, attribution: Tensor, signed: Tensor, absolute: Tensor, mass: Double?)]
    /// The input (grey, as RGB), its reconstruction `[C, H, W]` and the ground-truth mask (RGB), if any.
    public var input: Tensor, reconstruction: Tensor, mask: Tensor?
    /// The data set's label rule, when it has one.
    public var rule: String?
}

extension TrainedRun {
    /// Explains dataset image `index`: returns the console text (rule path, contributions,
    /// counterfactuals), the page and the figures written under `explanations/image-<index>/`.
    public func explain(index: Int, seed: UInt64 = 0) throws -> (text: String, page: String, figures: [String]) {
        let data = dataset
        guard index >= 0 && index < data.count else { throw ConfigError("--image \(index)", "out of range 0..<\(data.count)") }
        let e = try explanation(of: data.images([index]), index: index, seed: seed)
        let directory = run.file("explanations/image-\(index)")
        try AtomicFile.createDirectory(directory)
        var figures: [String] = []
        func png(_ tensor: Tensor, _ name: String) throws -> String {
            try PNGFile.write(RasterImage(tensor: tensor), to: directory + "/" + name)
            figures.append(directory + "/" + name)
            return name
        }
        let strips = try e.strips.map { ($0.model, $0.caption, try png($0.tile, "counterfactual-\($0.model).png")) }
        var maps: [(model: String, method: String, signed: String, absolute: String, mass: Double?)] = []
        for m in e.maps {
            let stem = "\(m.model)-\(m.method)".replacingOccurrences(of: ":", with: "-")
            try NPYArray(float32: m.attribution.scalars, shape: m.attribution.shape).write(to: directory + "/\(stem).npy")
            maps.append((m.model, m.method, try png(m.signed, "\(stem)-signed.png"), try png(m.absolute, "\(stem)-absolute.png"), m.mass))
        }
        let input = try png(e.input, "input.png")
        let reconstruction = try png(e.reconstruction, "reconstruction.png")
        let maskFile = try e.mask.map { try png($0, "mask.png") }
        let page = directory + "/index.html"
        try AtomicFile.write(explainHTML(index: index, trueLabel: e.trueLabel ?? "?", classes: e.classes, decisions: e.decisions.map { ($0.model, $0.probability) },
                                         images: [("input", input), ("reconstruction", reconstruction)] + (maskFile.map { [("ground-truth mask", $0)] } ?? []),
                                         rule: e.rule, ruleSteps: e.ruleSteps, contributions: e.contributions.map { ($0.factor, $0.contribution, $0.value, $0.weight) },
                                         bias: e.bias, strips: strips, maps: maps), to: page)
        return (e.text, page, figures)
    }

    /// Explains `image` `[1, C, H, W]` in memory (nothing is written): decisions, the tree's rule
    /// path, contributions, counterfactual strips and every saliency map. `index` is the image's
    /// place in the run's data set, for its true label, factors and mask; nil for an image from
    /// elsewhere (an upload).
    public func explanation(of image: Tensor, index: Int?, seed: UInt64 = 0) throws -> Explanation {
        let bundle = try loadClassifiers()
        let data = dataset
        let (_, labelOf) = try labels(column: bundle.labelColumn)
        let shape = data.imageShape, plane = shape[1] * shape[2]
        precondition(image.shape == [1] + shape, "explanation: image \(image.shape), want \([1] + shape)")
        let grey = (0..<plane).map { p in (0..<shape[0]).reduce(Float(0)) { $0 + image.scalars[$1 * plane + p] } / Float(shape[0]) }
        let masked = data.maskedView
        let mask = index.flatMap { i in masked.map { Array($0.mask(i).scalars) } }
        let code = Array(encodeMeans(image).scalars)
        let row = bundle.featureLatents.map { code[$0] }
        let names = bundle.featureNames, classes = bundle.classNames
        func colour(_ plane: [Float]) -> Tensor { Tensor(shape: [3, shape[1], shape[2]], scalars: plane + plane + plane) }

        // What the image is, and what each model decides.
        let trueLabel = index.map { classes[labelOf($0)] }
        var text = index.map { "image \($0): true label \(trueLabel!)" } ?? "uploaded image"
        if let index, let grid = data as? any GroundTruthDataset {
            text += " — factors " + zip(grid.factors, grid.classes(of: index)).map { "\($0.name)=\($0.describe($1))" }.joined(separator: ", ")
        }
        let treeP = bundle.tree.probability(of: 1, row)[0], logisticP = bundle.logistic.probability(of: 1, row)[0]
        let cnn = try? loadPixelCNN(classCount: 2)
        let cnnP = cnn.map { PixelClassifier.probabilities($0, image)[0] }
        var decisions = [("decision tree", treeP), ("sparse logistic", logisticP)]
        if let cnnP { decisions.append(("pixel CNN", cnnP)) }
        text += "\n" + decisions.map { String(format: "%@: %@ (P(%@) = %.2f)", $0.0, classes[$0.1 >= 0.5 ? 1 : 0], classes[1], $0.1) }
            .joined(separator: "; ") + "\n"

        // The rule path in named factors, with the true values beside the measured ones.
        text += "\nDecision tree (α = \(String(format: "%.4f", bundle.treeAlpha)), depth \(bundle.tree.depth), \(bundle.tree.leafCount) leaves):\n"
        var ruleSteps: [String] = []
        let path = bundle.tree.path(row[...])
        for (k, node) in path.enumerated() {
            let n = bundle.tree.nodes[node]
            if n.isLeaf {
                let p = n.probabilities
                let c = p.indices.max { p[$0] < p[$1] }!
                ruleSteps.append("→ \(classes[c]) (p = \(String(format: "%.2f", p[c])), \(Int(n.classWeights.reduce(0, +))) training images)")
            } else {
                let goesLeft = k + 1 < path.count && path[k + 1] == n.left
                let factor = bundle.bestFactor(n.feature), latent = bundle.featureLatents[n.feature]
                let falls = (factorDirection(latent: latent, factor: factor) ?? 1) < 0
                var step = "\(names[n.feature]) (z\(latent)\(falls ? ", falls as \(factor) grows" : "")) = \(String(format: "%.2f", row[n.feature])) "
                    + "\(goesLeft ? "≤" : ">") \(String(format: "%.2f", n.threshold))"
                if let index, let truth = trueValue(of: factor, index: index) { step += " — true \(factor) \(truth)" }
                ruleSteps.append(step)
            }
        }
        text += ruleSteps.map { "  " + $0 + "\n" }.joined()
        text += "\nSparse logistic regression (λ = \(String(format: "%.4f", bundle.logistic.lambda))): P(\(classes[1])) = \(String(format: "%.3f", logisticP))\n"
        let contributions = bundle.logistic.contributions(row)
        var contributionRows: [(factor: String, contribution: Double, value: Float, weight: Double)] = []
        for j in contributions.indices.sorted(by: { abs(contributions[$0]) > abs(contributions[$1]) }) where bundle.logistic.weights[j] != 0 {
            contributionRows.append((names[j], contributions[j], row[j], bundle.logistic.weights[j]))
            text += String(format: "  %@ %+.3f (value %.2f, weight %+.3f)\n", names[j].padding(toLength: 24, withPad: " ", startingAt: 0),
                           contributions[j], row[j], bundle.logistic.weights[j])
        }
        text += String(format: "  %@ %+.3f\n", "bias".padding(toLength: 24, withPad: " ", startingAt: 0), bundle.logistic.bias)

        // Counterfactual strips along the deciding factor.
        var strips: [(model: String, caption: String, tile: Tensor)] = []
        for model in ["tree", "logistic"] {
            guard let (cf, original, flipped, roundTrip) = counterfactual(bundle, model: model, code: code) else {
                text += "\nCounterfactual (\(model)): no single factor flips the decision within ±5 standard deviations.\n"
                continue
            }
            let latent = bundle.featureLatents[cf.feature], factor = bundle.bestFactor(cf.feature)
            let rising = cf.value > cf.original
            let direction = factorDirection(latent: latent, factor: factor).map { rising == ($0 > 0) ? "higher" : "lower" }
            let phrase = direction.map { "if \(factor) were \($0)" } ?? "if \(names[cf.feature]) were \(rising ? "higher" : "lower")"
            let caption = phrase + String(format: " (%@ %.2f → %.2f, %.2f σ): %@; decoded, re-encoded and classified again: %@ (%@)",
                                          names[cf.feature], cf.original, cf.value, cf.normalisedDelta, classes[cf.toClass],
                                          classes[roundTrip], roundTrip == cf.toClass ? "valid" : "not valid")
            text += "\nCounterfactual (\(model)): \(caption)\n"
            let strip = Tensor.concatenate([image, counterfactualStrip(from: original, to: flipped, latent: latent, steps: 7)], axis: 0)
            strips.append((model, caption, ImageGrid.tile(strip, columns: 8)))
        }

        // Every saliency method on every model, signed and absolute, on one colour scale.
        var maps: [(model: String, method: String, attribution: Tensor, signed: Tensor, absolute: Tensor, mass: Double?)] = []
        if let cnn {
            var rng = RandomStream.saliency.generator(seed: seed)
            for (model, candidates) in explainedModels(bundle, cnn: cnn, latentsFor: masked?.ruleFactors ?? []) {
                for method in candidates where method.applies(to: model) {
                    let a = method.attribute(model, image, rng: &rng)
                    let map = SaliencyScores.collapse(a.scalars[...], channels: a.shape[1])
                    maps.append((model.name, method.name, a,
                                 SaliencyScores.heatMap(map, over: grey, height: shape[1], width: shape[2]),
                                 SaliencyScores.absoluteHeatMap(map, over: grey, height: shape[1], width: shape[2]),
                                 mask.map { SaliencyScores.relevanceMass(map, mask: $0) }))
                }
            }
        }
        return Explanation(text: text, trueLabel: trueLabel, classes: classes, decisions: decisions.map { ($0.0, $0.1) }, ruleSteps: ruleSteps,
                           contributions: contributionRows, bias: bundle.logistic.bias, strips: strips, maps: maps, input: colour(grey),
                           reconstruction: decode(Tensor(shape: [1, code.count], scalars: code)).reshaped(shape),
                           mask: mask.map(colour), rule: masked?.ruleDescription)
    }

    /// Decoded images `[steps, C, H, W]` from `original` to `flipped`, moving only `latent` in equal steps.
    func counterfactualStrip(from original: [Float], to flipped: [Float], latent: Int, steps: Int) -> Tensor {
        var codes: [Float] = []
        for s in 0..<steps {
            var c = original
            c[latent] = original[latent] + (flipped[latent] - original[latent]) * Float(s) / Float(max(steps - 1, 1))
            codes += c
        }
        return decode(Tensor(shape: [steps, original.count], scalars: codes))
    }

    /// The image's true value of `factor`: a ground-truth factor (`10 px` style values) or an
    /// annotation column of an image folder; nil when the data set does not know it.
    func trueValue(of factor: String, index: Int) -> String? {
        if let grid = dataset as? any GroundTruthDataset, let j = grid.factors.firstIndex(where: { $0.name == factor }) {
            return grid.factors[j].describe(grid.classes(of: index)[j])
        }
        if let folder = dataset as? ImageFolder, let value = folder.attributes[factor]?[index], !value.isEmpty { return value }
        return nil
    }

    /// Sign of the Spearman correlation between `latent` and the values of ground-truth `factor`
    /// on 512 held-out samples (nil without a factor grid, or when the correlation is below 0.1):
    /// tells whether raising the latent raises the factor.
    func factorDirection(latent: Int, factor: String) -> Double? {
        guard let grid = dataset as? any GroundTruthDataset, let j = grid.factors.firstIndex(where: { $0.name == factor }),
              grid.factors[j].classCount > 1 else { return nil }
        var rng = RandomStream.heldOut.generator(seed: config.seed &+ 17)
        let classes = grid.sampleClasses(512, rng: &rng)
        let codes = encodeMeans(grid.images(classes: classes)), z = config.latentCount
        let rho = SaliencyScores.rankCorrelation(classes.indices.map { codes.scalars[$0 * z + latent] },
                                                 classes.map { Float(grid.factors[j].values[$0[j]]) })
        return Swift.abs(rho) < 0.1 ? nil : rho
    }

    /// The page of ``explain(index:seed:)``.
    func explainHTML(index: Int, trueLabel: String, classes: [String], decisions: [(String, Double)], images: [(String, String)],
                     rule: String?, ruleSteps: [String], contributions: [(String, Double, Float, Double)], bias: Double,
                     strips: [(model: String, caption: String, file: String)],
                     maps: [(model: String, method: String, signed: String, absolute: String, mass: Double?)]) -> String {
        let escape = HTML.escape
        func figure(_ caption: String, _ file: String) -> String {
            "<figure><img src=\"\(escape(file))\" alt=\"\(escape(caption))\"><figcaption>\(escape(caption))</figcaption></figure>"
        }
        var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Image \(index) — \(escape(run.path))</title>
        <style>
        body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
        img { image-rendering: pixelated; width: 192px; }
        img.strip { width: 768px; }
        figure { display: inline-block; margin: 0 1em 1em 0; text-align: center; }
        figcaption { font-size: 0.85em; max-width: 200px; }
        table { border-collapse: collapse; } td, th { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; vertical-align: middle; }
        td img { width: 128px; } .bar { width: 256px; height: 14px; display: inline-block; vertical-align: middle; border: 1px solid #999; }
        .signed { background: linear-gradient(to right, rgb(0,0,255), rgb(0,0,0), rgb(255,0,0)); }
        .absolute { background: linear-gradient(to right, rgb(0,0,0), rgb(128,0,0), rgb(230,140,0), rgb(255,255,204)); }
        code { background: #f4f4f4; padding: 0 0.2em; }
        </style></head><body>
        <h1>Image \(index): true label <em>\(escape(trueLabel))</em></h1>
        <p>Run <code>\(escape(run.path))</code>\(rule.map { " · label rule: " + escape($0) } ?? "").</p>
        \(images.map { figure($0.0, $0.1) }.joined(separator: "\n"))
        <h2>Decisions</h2><ul>
        \(decisions.map { "<li>\(escape($0.0)): <strong>\(escape(classes[$0.1 >= 0.5 ? 1 : 0]))</strong> (P(\(escape(classes[1]))) = \(String(format: "%.2f", $0.1)))</li>" }.joined(separator: "\n"))
        </ul>
        <h2>Why, in factors: the tree's rule path</h2>
        <p>Each step: the latent's name, its value on this image, the threshold, and the image's true value of the latent's best factor.</p>
        <ol>\(ruleSteps.map { "<li>\(escape($0))</li>" }.joined())</ol>
        <h3>Sparse logistic regression: per-factor contributions (weight × standardised value)</h3>
        <table><tr><th>factor</th><th>contribution</th><th>value</th><th>weight</th></tr>
        \(contributions.map { String(format: "<tr><td>%@</td><td>%+.3f</td><td>%.2f</td><td>%+.3f</td></tr>", escape($0.0), $0.1, $0.2, $0.3) }.joined(separator: "\n"))
        <tr><td>bias</td><td>\(String(format: "%+.3f", bias))</td><td></td><td></td></tr></table>
        <h2>Counterfactuals: the image decoded along the deciding factor</h2>
        """
        html += strips.isEmpty ? "<p>No single factor flips either model's decision within ±5 standard deviations.</p>\n" : strips.map {
            "<figure><img class=\"strip\" src=\"\(escape($0.file))\" alt=\"counterfactual \($0.model)\"><figcaption style=\"max-width: 768px\">"
                + "<strong>\($0.model == "tree" ? "decision tree" : "sparse logistic")</strong> (input, then 7 decoded steps): \(escape($0.caption))</figcaption></figure>"
        }.joined(separator: "\n") + "\n"
        html += """
        <h2>Where, in pixels: saliency maps</h2>
        <p>Each map a/p98(|a|), clipped: signed <span class="bar signed"></span> −1 … 0 … +1 (red raises the model's score — the log-odds of
        \(escape(classes[1])), or for a rule latent its factor — blue lowers it);
        absolute <span class="bar absolute"></span> 0 … 1. Blended on the image (60 % grey).\(maps.contains { $0.mass != nil } ? " Relevance mass: share of the positive relevance inside the mask." : "")</p>
        <table><tr><th>model</th><th>method</th><th>signed</th><th>absolute</th>\(maps.contains { $0.mass != nil } ? "<th>relevance mass</th>" : "")</tr>

        """
        html += maps.map { m in
            "<tr><td>\(escape(m.model))</td><td>\(escape(m.method))</td><td><img src=\"\(escape(m.signed))\" alt=\"signed\"></td>"
                + "<td><img src=\"\(escape(m.absolute))\" alt=\"absolute\"></td>" + (m.mass.map { String(format: "<td>%.3f</td>", $0) } ?? "") + "</tr>"
        }.joined(separator: "\n")
        html += "\n</table>\n</body></html>\n"
        return html
    }
}
