import Explain
import Metrics
import TensorCore
import Testing
@testable import Experiments

/// Known answers for the factor-level half of `compare`: matching on the probe's best factor,
/// precision/recall against the rule, the tree's first splits, and the relevance-mass margin.
@Suite struct FactorCheckTests {
    /// A bundle over three features (size, blur, texture) whose labels follow size ≥ 0.5 ∧ blur ≥ 0.5.
    func bundle(names: [String], factors: [String?]?) -> ClassifierBundle {
        var rng = RandomGenerator(seed: 3)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<600 {
            let row = (0..<3).map { _ in Float(rng.uniformDouble()) }
            x += row
            y.append(row[0] >= 0.5 && row[1] >= 0.5 ? 1 : 0)
        }
        let tree = DecisionTree(x: x, featureCount: 3, y: y, classCount: 2, maximumDepth: 2, minimumSamplesLeaf: 20)
        let logistic = SparseLogisticRegression(x: x, featureCount: 3, y: y, lambda: 0.05)
        var b = ClassifierBundle(featureLatents: [0, 1, 2], featureNames: names, classNames: ["benign", "malignant"], labelColumn: nil,
                                 seed: 0, trainCount: 600, testCount: 0, splitRule: "sampled", featureScales: [1, 1, 1],
                                 tree: tree, treeAlpha: 0, pruningAlphas: [], pruningImpurities: [], logistic: logistic,
                                 pathLambdas: [], pathNonZero: [], scores: [:], counterfactualValidity: ["tree": 0.9, "logistic": 0.5])
        b.featureFactors = factors
        return b
    }

    @Test func matchesOnTheBestFactorNotTheNameString() {
        // The latents' names hide their factors; the probe's best factors do not.
        let b = bundle(names: ["mixed(size+posX)", "unnamed", "z2"], factors: ["size", "blur", "texture"])
        let check = FactorRuleCheck(bundle: b, rule: ["size", "blur"], relevanceMass: ["cnn gradient": 0.4, "cnn grad-cam": 0.55,
                                                                                          "factor-logistic ig-gausslegendre": 0.7])
        let tree = check.models["factor-tree"]!
        #expect(tree.factorsUsed == ["blur", "size"] && tree.precision == 1 && tree.recall == 1)
        #expect(tree.counterfactualValidity == 0.9)
        #expect(Set(check.treeFirstSplits.prefix(2)) == ["size", "blur"] && check.firstSplitsOnRule)
        #expect(check.factorRouteMass == 0.7 && check.bestCNNMass == 0.55 && check.bestCNNMethod == "cnn grad-cam")
        #expect(Swift.abs(check.scalars["compare.factor_route_mass_margin"]! - 0.15) < 1e-12)
        #expect(check.scalars["compare.tree.first_splits_on_rule"] == 1)
        // By name strings alone (a bundle from before 0.4.0) the same tree uses "mixed(size+posX)" and "unnamed": recall 0.
        let byName = FactorRuleCheck(bundle: bundle(names: ["mixed(size+posX)", "unnamed", "z2"], factors: nil), rule: ["size", "blur"],
                                     relevanceMass: [:])
        #expect(byName.models["factor-tree"]!.recall == 0 && !byName.firstSplitsOnRule)
    }

    @Test func precisionDropsWithANuisanceFactorAndNoRuleMeansNoScores() {
        // Texture stands in for blur: the tree splits on size and texture, the rule is half met.
        let b = bundle(names: ["size", "blur", "texture"], factors: ["size", "texture", "posX"])
        let check = FactorRuleCheck(bundle: b, rule: ["size", "blur"], relevanceMass: [:])
        let tree = check.models["factor-tree"]!
        #expect(tree.precision == 0.5 && tree.recall == 0.5 && !check.firstSplitsOnRule)
        let noRule = FactorRuleCheck(bundle: b, rule: [], relevanceMass: [:])
        #expect(noRule.scalars["compare.factor-tree.precision"] == nil && noRule.scalars["compare.tree.first_splits_on_rule"] == nil)
        #expect(noRule.text.contains("factors used") && !noRule.text.contains("precision"))
    }
}
