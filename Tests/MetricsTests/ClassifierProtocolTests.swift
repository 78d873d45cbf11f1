import Foundation
import Metrics
import TensorCore
import Testing

/// Every probabilistic learner answers through one protocol: `N × K` probabilities whose rows sum
/// to 1 and whose argmax is `predict`, and the positive-class column.
@Suite struct ClassifierProtocolTests {
    /// Three classes by the first feature's thirds; the second feature is noise.
    static let data: (x: [Float], y: [Int]) = {
        var rng = RandomGenerator(seed: 9)
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<300 {
            let a = Float(rng.uniformDouble()), b = Float(rng.uniformDouble())
            x += [a, b]
            y.append(a < 1.0 / 3 ? 0 : a < 2.0 / 3 ? 1 : 2)
        }
        return (x, y)
    }()

    static func check(_ model: some Classifier, accuracyAbove threshold: Double) {
        let (x, y) = data
        let p = model.classProbabilities(x), predicted = model.predict(x)
        #expect(p.count == y.count && p.allSatisfy { $0.count == model.classCount })
        #expect(p.allSatisfy { Swift.abs($0.reduce(0, +) - 1) < 1e-5 && $0.allSatisfy { $0 >= 0 } })
        for (row, c) in zip(p, predicted) { #expect(row[c] == row.max()!, "\(row) vs predicted \(c)") }
        #expect(model.probability(of: 2, x) == p.map { $0[2] })
        let accuracy = Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(y.count)
        #expect(accuracy > threshold, "\(type(of: model)): accuracy \(accuracy)")
    }

    @Test func treeForestAndLogisticRegressionShareTheInterface() {
        let (x, y) = Self.data
        Self.check(DecisionTree(x: x, featureCount: 2, y: y, classCount: 3, maximumDepth: 3), accuracyAbove: 0.95)
        Self.check(RandomForest(x: x, featureCount: 2, y: y, classCount: 3, treeCount: 5, maximumDepth: 3, seed: 1), accuracyAbove: 0.9)
        Self.check(LogisticRegression(x: x, featureCount: 2, y: y, classCount: 3, inverseRegularization: 100), accuracyAbove: 0.85)
    }
}
