import Datasets
import Foundation
import Metrics

/// The factor-level half of `compare` (`RUN/compare/factors.json`): do the interpretable
/// classifiers decide on the factors the label rule uses, and do explanations through the factors
/// put more relevance on the finding than pixel saliency does?
///
/// Factors are matched by the probe's **best factor** of each latent (the factor with the highest
/// mutual information, ``ClassifierBundle/bestFactor(_:)``), not by the name string, so a latent
/// named `mixed(size+blur)` or `size (1 of 2)` counts as size.
public struct FactorRuleCheck: Codable, Sendable, Equatable {
    /// Per interpretable model (`factor-tree`, `factor-logistic`): the factors it uses and how they
    /// compare with the rule's.
    public struct Model: Codable, Sendable, Equatable {
        /// Best factors of the features the model uses (tree: importance > 0; logistic: weight ≠ 0), sorted.
        public var factorsUsed: [String]
        /// `|used ∩ rule| / |used|` (0 when nothing is used) and `|used ∩ rule| / |rule|`.
        public var precision: Double, recall: Double
        /// Share of counterfactuals that flip the classifier after decode → re-encode (classify's check).
        public var counterfactualValidity: Double
    }

    /// The rule's factors (empty: the data set knows no rule; precision and recall are then 0).
    public var rule: [String]
    /// `factor-tree` and `factor-logistic`.
    public var models: [String: Model]
    /// Best factors of the tree's first splits: the root, then the internal nodes right below it.
    public var treeFirstSplits: [String]
    /// The root splits on one rule factor and a node right below it on another, so the first two
    /// decisions on every path that reaches depth 2 through that node read as the rule.
    public var firstSplitsOnRule: Bool
    /// The highest relevance-mass accuracy of any explanation through the factors (factor models
    /// and single latents), and of any method on the pixel CNN, with the methods that reach them.
    public var factorRouteMass: Double, factorRouteMethod: String
    public var bestCNNMass: Double, bestCNNMethod: String

    /// Checks `bundle` against `rule`, with the relevance masses of `compare` (`model method` → mass).
    public init(bundle: ClassifierBundle, rule: [String], relevanceMass: [String: Double]) {
        self.rule = rule
        let ruleSet = Set(rule)
        func model(_ used: Set<String>, validity: Double?) -> Model {
            let hits = Double(used.intersection(ruleSet).count)
            return Model(factorsUsed: used.sorted(), precision: used.isEmpty ? 0 : hits / Double(used.count),
                         recall: ruleSet.isEmpty ? 0 : hits / Double(ruleSet.count), counterfactualValidity: validity ?? 0)
        }
        let treeUsed = Set(bundle.tree.featureImportances.indices.filter { bundle.tree.featureImportances[$0] > 0 }.map(bundle.bestFactor))
        let logisticUsed = Set(bundle.logistic.weights.indices.filter { bundle.logistic.weights[$0] != 0 }.map(bundle.bestFactor))
        models = ["factor-tree": model(treeUsed, validity: bundle.counterfactualValidity["tree"]),
                  "factor-logistic": model(logisticUsed, validity: bundle.counterfactualValidity["logistic"])]
        let nodes = bundle.tree.nodes
        var firstSplits: [String] = [], onRule = false
        if let root = nodes.first, !root.isLeaf {
            let rootFactor = bundle.bestFactor(root.feature)
            firstSplits.append(rootFactor)
            for child in [root.left, root.right] where child >= 0 && !nodes[child].isLeaf {
                let factor = bundle.bestFactor(nodes[child].feature)
                firstSplits.append(factor)
                if ruleSet.count >= 2 && ruleSet.contains(rootFactor) && ruleSet.contains(factor) && factor != rootFactor { onRule = true }
            }
        }
        treeFirstSplits = firstSplits
        firstSplitsOnRule = onRule
        let factorRoute = relevanceMass.filter { !$0.key.hasPrefix("cnn ") }.max { $0.value < $1.value }
        let cnn = relevanceMass.filter { $0.key.hasPrefix("cnn ") }.max { $0.value < $1.value }
        (factorRouteMass, factorRouteMethod) = (factorRoute?.value ?? 0, factorRoute?.key ?? "")
        (bestCNNMass, bestCNNMethod) = (cnn?.value ?? 0, cnn?.key ?? "")
    }

    /// The file name under `RUN/compare/`.
    public static let fileName = "factors.json"

    /// Scalars for `summarize`: `compare.<model>.precision|recall`, `compare.tree.first_splits_on_rule`
    /// (0/1), `compare.factor_route_mass`, `compare.best_cnn_mass` and their difference
    /// `compare.factor_route_mass_margin` (> 0: the factor route puts more relevance on the finding).
    public var scalars: [String: Double] {
        var out: [String: Double] = [:]
        for (name, m) in models where !rule.isEmpty {
            out["compare.\(name).precision"] = m.precision
            out["compare.\(name).recall"] = m.recall
        }
        if !rule.isEmpty { out["compare.tree.first_splits_on_rule"] = firstSplitsOnRule ? 1 : 0 }
        out["compare.factor_route_mass"] = factorRouteMass
        out["compare.best_cnn_mass"] = bestCNNMass
        out["compare.factor_route_mass_margin"] = factorRouteMass - bestCNNMass
        return out
    }

    /// A few lines for the console and the report.
    public var text: String {
        var lines: [String] = []
        for name in models.keys.sorted() {
            let m = models[name]!
            var line = "\(name): factors used \(m.factorsUsed.joined(separator: " "))"
            if !rule.isEmpty { line += String(format: "; precision %.2f, recall %.2f against {%@}", m.precision, m.recall, rule.joined(separator: ", ")) }
            lines.append(line + String(format: "; counterfactual validity %.0f %%", 100 * m.counterfactualValidity))
        }
        lines.append("tree's first splits: \(treeFirstSplits.isEmpty ? "none (a single leaf)" : treeFirstSplits.joined(separator: ", "))"
                     + (rule.isEmpty ? "" : firstSplitsOnRule ? " — the rule's factors" : " — not the rule's factors"))
        lines.append(String(format: "relevance mass on the finding: factor route %.3f (%@) vs best CNN method %.3f (%@)",
                            factorRouteMass, factorRouteMethod, bestCNNMass, bestCNNMethod))
        return lines.joined(separator: "\n") + "\n"
    }
}
