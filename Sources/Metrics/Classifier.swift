import Foundation

/// One interface for the probabilistic learners (scikit-learn's `predict` / `predict_proba`):
/// rows `x` are `N × D` row-major; classes are `0..<classCount`.
///
/// Conforming: ``DecisionTree``, ``RandomForest``, ``LogisticRegression`` and the sparse logistic
/// model of `Explain`. (The linear SVM and the gradient-boosted trees are not probabilistic
/// classifiers in this sense: dlib uses only their decisions and importances.)
public protocol Classifier {
    /// Number of classes K.
    var classCount: Int { get }
    /// P(class k | row i): `N` rows of `K` probabilities, each row summing to 1.
    func classProbabilities(_ x: [Float]) -> [[Double]]
    /// The predicted class of each row (the most probable one).
    func predict(_ x: [Float]) -> [Int]
}

extension Classifier {
    /// P(class `k` | row) for each row: column `k` of ``classProbabilities(_:)`` (`k = 1` is the
    /// positive class of a binary problem, what ROC-AUC and the explanations score).
    public func probability(of k: Int, _ x: [Float]) -> [Double] { classProbabilities(x).map { $0[k] } }
}

extension DecisionTree: Classifier {
    /// The leaf's class fractions for each row.
    public func classProbabilities(_ x: [Float]) -> [[Double]] {
        stride(from: 0, to: x.count, by: featureCount).map { nodes[leaf(x[$0..<($0 + featureCount)])].probabilities }
    }
}

extension RandomForest: Classifier {
    public var classCount: Int { trees.first?.classCount ?? 0 }
    /// The trees' mean class fractions for each row.
    public func classProbabilities(_ x: [Float]) -> [[Double]] {
        guard let first = trees.first else { return [] }
        var sum = [[Double]](repeating: [Double](repeating: 0, count: first.classCount), count: x.count / first.featureCount)
        for tree in trees {
            for (i, row) in tree.classProbabilities(x).enumerated() { for k in row.indices { sum[i][k] += row[k] / Double(trees.count) } }
        }
        return sum
    }
}

extension LogisticRegression: Classifier {
    /// The softmax probabilities of each row.
    public func classProbabilities(_ x: [Float]) -> [[Double]] {
        let p = probabilities(x), k = classCount
        return (0..<(p.count / k)).map { i in (0..<k).map { Double(p[i * k + $0]) } }
    }
}
