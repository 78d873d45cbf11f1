import Foundation
import Metrics
import TensorCore
import Testing

/// The CART tree against a brute-force grower on the same split candidates: every node tries
/// every feature and every candidate threshold by recounting its rows. Deep nodes hold far fewer
/// rows than a feature has candidates, so the tree's sweep over only the occupied bins is
/// compared with the exhaustive search, and the root's and shallow nodes' with the dense sweep.
@Suite struct DecisionTreeOracleTests {
    /// Rows of `d` continuous features (all values distinct) and labels from a noisy rule.
    func data(n: Int, d: Int, seed: UInt64) -> (x: [Float], y: [Int], weights: [Double]) {
        var rng = RandomGenerator(seed: seed)
        let x = (0..<(n * d)).map { _ in (rng.uniform() * 2 - 1) }
        let y = (0..<n).map { i -> Int in
            let score = x[i * d] + 0.5 * x[i * d + 1] * x[i * d + 2] + 0.3 * (rng.uniform() * 2 - 1)
            return score > 0.3 ? 2 : (score > -0.2 ? 1 : 0)
        }
        let weights = (0..<n).map { _ in Double(rng.int(below: 3)) } // bootstrap-like, zeros included
        return (x, y, weights)
    }

    /// Grows the tree node by node as CART does, trying every (feature, threshold) pair.
    func bruteForce(x: [Float], d: Int, y: [Int], k: Int, weights w: [Double], thresholds: [[Float]],
                    maximumDepth: Int, minimumSamplesLeaf: Double) -> [(feature: Int, threshold: Float)] {
        var out: [(feature: Int, threshold: Float)] = []
        func gini(_ rows: [Int]) -> (Double, Double) {
            var counts = [Double](repeating: 0, count: k)
            for r in rows { counts[y[r]] += w[r] }
            let total = counts.reduce(0, +)
            return (total, total > 0 ? 1 - counts.reduce(0) { $0 + ($1 / total) * ($1 / total) } : 0)
        }
        var stack = [(Array(0..<y.count).filter { w[$0] > 0 }, 0)]
        while let (rows, depth) = stack.popLast() {
            let (total, impurity) = gini(rows)
            out.append((-1, 0))
            let index = out.count - 1
            guard depth < maximumDepth, impurity > 1e-12, total >= 2 * minimumSamplesLeaf else { continue }
            var best: (gain: Double, feature: Int, threshold: Float) = (1e-12, -1, 0)
            for f in 0..<d {
                for t in thresholds[f] {
                    let (l, r) = (rows.filter { x[$0 * d + f] <= t }, rows.filter { x[$0 * d + f] > t })
                    let ((wl, il), (wr, ir)) = (gini(l), gini(r))
                    guard wl >= minimumSamplesLeaf, wr >= minimumSamplesLeaf, wl > 0, wr > 0 else { continue }
                    let gain = impurity - (wl * il + wr * ir) / total
                    if gain > best.gain { best = (gain, f, t) }
                }
            }
            guard best.feature >= 0 else { continue }
            out[index] = (best.feature, best.threshold)
            stack.append((rows.filter { x[$0 * d + best.feature] > best.threshold }, depth + 1))
            stack.append((rows.filter { x[$0 * d + best.feature] <= best.threshold }, depth + 1))
        }
        return out
    }

    @Test(arguments: [(UInt64(1), 64), (UInt64(2), 256)])
    func treeMatchesTheExhaustiveSearch(seed: UInt64, maximumBins: Int) {
        let (n, d, k) = (400, 3, 3)
        let (x, y, weights) = data(n: n, d: d, seed: seed)
        let bins = SplitBins(x: x, featureCount: d, maximumBins: maximumBins)
        #expect(bins.thresholds.allSatisfy { $0.count <= maximumBins && zip($0, $0.dropFirst()).allSatisfy { $0 < $1 } })
        let tree = DecisionTree(x: x, featureCount: d, y: y, classCount: k, weights: weights, maximumDepth: 7,
                                minimumSamplesLeaf: 2, maximumBins: maximumBins)
        let oracle = bruteForce(x: x, d: d, y: y, k: k, weights: weights, thresholds: bins.thresholds,
                                maximumDepth: 7, minimumSamplesLeaf: 2)
        #expect(tree.nodes.count == oracle.count && tree.nodes.count > 20)
        for (node, expected) in zip(tree.nodes, oracle) {
            #expect(node.feature == expected.feature && node.threshold == expected.threshold)
        }
        // Shared bins (as a forest passes them) grow the same tree.
        let shared = DecisionTree(x: x, featureCount: d, y: y, classCount: k, weights: weights, maximumDepth: 7,
                                  minimumSamplesLeaf: 2, bins: bins)
        #expect(shared.nodes == tree.nodes)
    }
}
