import Foundation

/// The smallest single-factor change that flips a classifier's decision.
public struct Counterfactual: Sendable, Codable, Equatable {
    /// The feature (latent) changed, its original and new value, and the change.
    public var feature: Int, original: Double, value: Double
    public var delta: Double { value - original }
    /// The change in units of the feature's standard deviation (used to compare features).
    public var normalisedDelta: Double
    /// The decision before and after.
    public var fromClass: Int, toClass: Int
}

/// Counterfactual search over one feature at a time.
public enum CounterfactualSearch {
    /// For each feature in `features`, scans `value ± k·step·scale_j` outwards (k = 1 … `steps`) for
    /// the first value whose predicted class differs, then refines the boundary by bisection to
    /// `tolerance·scale_j`, landing just past it — and then `margin·scale_j` further on (halved
    /// until the decision is still flipped there), so that the counterfactual lies inside the other
    /// class rather than on its edge, where a decoded and re-encoded image falls either way.
    /// Returns the flip with the smallest boundary distance in units of `scales`, or `nil` when no
    /// single feature flips the decision within the range.
    ///
    /// `classify` maps a feature vector to a class; `scales` are the features' standard deviations.
    public static func smallestFlip(_ row: [Double], features: [Int], scales: [Double], classify: ([Double]) -> Int,
                                    step: Double = 0.02, steps: Int = 250, tolerance: Double = 1e-4,
                                    margin: Double = 0) -> Counterfactual? {
        let original = classify(row)
        var best: Counterfactual?, bestBoundary = Double.infinity
        for j in features {
            let scale = max(scales[j], 1e-9)
            search: for k in 1...steps {
                for direction in [1.0, -1.0] {
                    var moved = row
                    moved[j] = row[j] + direction * Double(k) * step * scale
                    guard classify(moved) != original else { continue }
                    // Bisection between the last unflipped and the first flipped value.
                    var inside = row[j] + direction * Double(k - 1) * step * scale, outside = moved[j]
                    while abs(outside - inside) > tolerance * scale {
                        var mid = row
                        mid[j] = (inside + outside) / 2
                        if classify(mid) != original { outside = mid[j] } else { inside = mid[j] }
                    }
                    let boundary = abs(outside - row[j]) / scale
                    var extra = margin
                    while extra > tolerance {
                        moved[j] = outside + direction * extra * scale
                        if classify(moved) != original { break }
                        extra /= 2
                    }
                    moved[j] = extra > tolerance ? outside + direction * extra * scale : outside
                    let candidate = Counterfactual(feature: j, original: row[j], value: moved[j],
                                                   normalisedDelta: abs(moved[j] - row[j]) / scale,
                                                   fromClass: original, toClass: classify(moved))
                    if best == nil || boundary < bestBoundary { best = candidate; bestBoundary = boundary }
                    break search
                }
            }
        }
        return best
    }
}

/// Test-set scores of a binary classifier.
public struct ClassifierScores: Sendable, Codable, Equatable {
    public var accuracy: Double, balancedAccuracy: Double, rocAUC: Double

    /// The scores under the names tables and summaries use: `accuracy`, `balanced_accuracy`, `roc_auc`.
    public var named: [(name: String, value: Double)] {
        [("accuracy", accuracy), ("balanced_accuracy", balancedAccuracy), ("roc_auc", rocAUC)]
    }

    /// Scores of predicted probabilities `p` (of class 1) against labels `y`; threshold 0.5.
    public init(probabilities p: [Double], labels y: [Int]) {
        let predicted = p.map { $0 >= 0.5 ? 1 : 0 }
        accuracy = Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(max(y.count, 1))
        var recall = [Double]()
        for c in 0...1 {
            let members = y.indices.filter { y[$0] == c }
            if !members.isEmpty { recall.append(Double(members.filter { predicted[$0] == c }.count) / Double(members.count)) }
        }
        balancedAccuracy = recall.reduce(0, +) / Double(max(recall.count, 1))
        rocAUC = Metrics.rocAUC(scores: p.map(Float.init), labels: y)
    }
}

import Metrics
