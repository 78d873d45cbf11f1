import Explain
import Foundation
import Metrics
import TensorCore
import Testing

@Suite struct PruningTests {
    /// Four points on a line: x = 0, 1, 2, 3 with labels 0, 0, 1, 0.
    /// Full tree: root (gini 0.375) splits at 1.5 → left {0,0} pure, right {1,0} (gini 0.5) splits at 2.5.
    /// R(root) = 0.375; R(right) = 2/4·0.5 = 0.25; leaves all pure.
    /// α(right) = (0.25 − 0)/(2 − 1) = 0.25; α(root) = (0.375 − 0)/(3 − 1) = 0.1875 → the root is the
    /// weakest link: the path is α = 0 (impurity 0), then 0.1875 (root pruned, impurity 0.375).
    @Test func pruningPathMatchesAHandComputedCase() {
        let tree = DecisionTree(x: [0, 1, 2, 3], featureCount: 1, y: [0, 0, 1, 0], classCount: 2)
        #expect(tree.leafCount == 3)
        let path = tree.pruningPath()
        #expect(path.alphas.count == 2)
        #expect(Swift.abs(path.alphas[1] - 0.1875) < 1e-12)
        #expect(path.impurities[0] == 0 && Swift.abs(path.impurities[1] - 0.375) < 1e-12)
        #expect(tree.pruned(alpha: 0.1).leafCount == 3)
        #expect(tree.pruned(alpha: 0.2).leafCount == 1)
        let text = tree.text(featureNames: ["size"], classNames: ["benign", "malignant"])
        #expect(text.hasPrefix("|--- size <= 1.50\n|   |--- class: benign"))
        #expect(text.contains("|--- size >  1.50\n|   |--- size <= 2.50\n|   |   |--- class: malignant"))
    }
}

@Suite struct SparseLogisticTests {
    @Test func l1PathZeroesIrrelevantFeatures() {
        // y depends on x0 only; x1, x2 are noise.
        var rng = RandomGenerator(seed: 1)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<400 {
            let a = rng.normal()
            x += [a, rng.normal(), rng.normal()]
            y.append(a + 0.3 * rng.normal() > 0 ? 1 : 0)
        }
        let path = SparseLogisticRegression.path(x: x, featureCount: 3, y: y, count: 10)
        #expect(path.first!.weights.allSatisfy { $0 == 0 }, "at λ_max every coefficient is zero")
        // Somewhere along the path x0 enters while both noise features are still exactly zero.
        #expect(path.contains { $0.weights[0] > 0.5 && $0.weights[1] == 0 && $0.weights[2] == 0 })
        #expect(path.last!.weights[0] > path[path.count / 2].weights[0] - 1e-9)
        let model = path[path.count / 2]
        let accuracy = zip(model.probabilities(x), y).filter { ($0.0 >= 0.5 ? 1 : 0) == $0.1 }.count
        #expect(accuracy > 360)
        let c = model.contributions([1, 0, 0])
        #expect(c[1] == 0 && c[2] == 0 && c[0] > 0)
    }
}

@Suite struct SparseLogisticAsClassifierTests {
    /// The sparse logistic model answers through the shared `Classifier` protocol: `[1 − p, p]` rows.
    @Test func binaryRowsAndPredictions() {
        var rng = RandomGenerator(seed: 2)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<200 { let a = Float(rng.uniformDouble()); x += [a, Float(rng.uniformDouble())]; y.append(a > 0.5 ? 1 : 0) }
        let model = SparseLogisticRegression(x: x, featureCount: 2, y: y, lambda: 0.01)
        let rows = model.classProbabilities(x), p = model.probabilities(x)
        #expect(model.classCount == 2 && rows.count == 200)
        for (row, q) in zip(rows, p) { #expect(row == [1 - q, q]) }
        #expect(model.probability(of: 1, x) == p && model.predict(x) == p.map { $0 >= 0.5 ? 1 : 0 })
        #expect(Double(zip(model.predict(x), y).filter { $0 == $1 }.count) / 200 > 0.9)
    }
}

@Suite struct CounterfactualTests {
    @Test func findsTheKnownThresholdOfASyntheticModel() {
        // class = 1 ⇔ z0 > 0.7 (z1 also matters, but needs a larger change: z1 > 3).
        let classify = { (z: [Double]) in z[0] > 0.7 || z[1] > 3 ? 1 : 0 }
        let cf = CounterfactualSearch.smallestFlip([0.2, 0], features: [0, 1], scales: [1, 1], classify: classify)!
        #expect(cf.feature == 0 && cf.fromClass == 0 && cf.toClass == 1)
        #expect(Swift.abs(cf.value - 0.7) < 1e-3 && cf.value > 0.7)
        // In units of scale: with z0's scale 10 the same change is cheap … and z1 is preferred when z0's is tiny.
        let other = CounterfactualSearch.smallestFlip([0.2, 2.9], features: [0, 1], scales: [0.01, 1], classify: classify)!
        #expect(other.feature == 1 && Swift.abs(other.value - 3) < 1e-3)
        #expect(CounterfactualSearch.smallestFlip([0, 0], features: [0], scales: [1], classify: { _ in 0 }) == nil)
        // A margin lands inside the other class: 0.5 σ past the boundary …
        let inside = CounterfactualSearch.smallestFlip([0.2, 0], features: [0, 1], scales: [1, 1], classify: classify, margin: 0.5)!
        #expect(inside.feature == 0 && Swift.abs(inside.value - 1.2) < 1e-3 && inside.toClass == 1)
        // … or as far as the other class reaches when it is narrower (class 1 on (0.7, 0.9] only: halved to 0.125).
        let band = { (z: [Double]) in z[0] > 0.7 && z[0] <= 0.9 ? 1 : 0 }
        let narrow = CounterfactualSearch.smallestFlip([0.2], features: [0], scales: [1], classify: band, margin: 0.5)!
        #expect(Swift.abs(narrow.value - 0.825) < 1e-3 && narrow.toClass == 1)
    }

    @Test func classifierScores() {
        let s = ClassifierScores(probabilities: [0.9, 0.8, 0.3, 0.6], labels: [1, 1, 0, 0])
        #expect(s.accuracy == 0.75 && s.balancedAccuracy == 0.75 && s.rocAUC == 1)
    }
}
