import Foundation
import TensorCore

/// A CART classification tree (Breiman et al. 1984) over `Float` features.
///
/// Splits are `x_f ≤ t` with `t` the midpoint between adjacent distinct values (exact
/// when a feature has at most `maximumBins` distinct values at the root; quantile
/// candidates otherwise). Impurity: Gini `1 − Σ p_k²` or entropy `−Σ p_k log p_k`. A
/// split is taken when it decreases impurity, leaves `minimumSamplesLeaf` samples
/// (by weight) on each side and the depth is below `maximumDepth`. Impurity-decrease
/// importances: `Σ_nodes w_node·impurity − w_left·imp_left − w_right·imp_right`,
/// normalised to sum 1 (scikit-learn's `feature_importances_`).
public struct DecisionTree: Sendable, Codable {
    /// Split criterion.
    public enum Criterion: String, Sendable, Codable { case gini, entropy }

    /// A node; leaves have `feature == -1`.
    public struct Node: Sendable, Codable, Equatable {
        public var feature: Int, threshold: Float
        public var left: Int, right: Int
        /// Class weights reaching the node, and its impurity.
        public var classWeights: [Double], impurity: Double
        public var isLeaf: Bool { feature < 0 }
        /// Class fractions at the node (the leaf's probabilities).
        public var probabilities: [Double] {
            let s = classWeights.reduce(0, +)
            return classWeights.map { s > 0 ? $0 / s : 0 }
        }
    }

    public private(set) var nodes: [Node] = []
    public let featureCount: Int, classCount: Int
    public let criterion: Criterion

    /// Grows a tree on rows `x` (`N × D`, row-major) with labels `y` and optional sample weights.
    /// `featuresPerSplit` < D draws that many candidate features per node from `rng` (random forests).
    public init(x: [Float], featureCount d: Int, y: [Int], classCount k: Int, weights: [Double]? = nil,
                criterion: Criterion = .gini, maximumDepth: Int = .max, minimumSamplesLeaf: Double = 1,
                featuresPerSplit: Int? = nil, maximumBins: Int = 256, rng: RandomGenerator? = nil) {
        precondition(d > 0 && k > 0 && x.count == y.count * d, "DecisionTree: \(x.count) values for \(y.count) rows of \(d) features")
        featureCount = d
        classCount = k
        self.criterion = criterion
        let n = y.count
        let w = weights ?? [Double](repeating: 1, count: n)
        // Candidate thresholds per feature: midpoints of distinct values (or of quantiles).
        let candidates: [[Float]] = (0..<d).map { j in
            var values = Array(Set(stride(from: j, to: x.count, by: d).map { x[$0] })).sorted()
            if values.count > maximumBins {
                values = (0...maximumBins).map { values[min(values.count - 1, $0 * (values.count - 1) / maximumBins)] }
                values = Array(Set(values)).sorted()
            }
            return values.count < 2 ? [] : (1..<values.count).map { (values[$0 - 1] + values[$0]) / 2 }
        }
        var generator = rng ?? RandomGenerator(seed: 0)
        var stack: [(rows: [Int], depth: Int, slot: Int?, isLeft: Bool)] = [(Array(0..<n).filter { w[$0] > 0 }, 0, nil, false)]
        while let (rows, depth, parent, isLeft) = stack.popLast() {
            var counts = [Double](repeating: 0, count: k)
            for r in rows { counts[y[r]] += w[r] }
            let impurity = DecisionTree.impurity(counts, criterion)
            let index = nodes.count
            nodes.append(Node(feature: -1, threshold: 0, left: -1, right: -1, classWeights: counts, impurity: impurity))
            if let parent { if isLeft { nodes[parent].left = index } else { nodes[parent].right = index } }
            let total = counts.reduce(0, +)
            guard depth < maximumDepth, impurity > 1e-12, total >= 2 * minimumSamplesLeaf else { continue }
            var features = Array(0..<d)
            if let m = featuresPerSplit, m < d { generator.shuffle(&features); features = Array(features.prefix(m)) }
            var best: (gain: Double, feature: Int, threshold: Float) = (1e-12, -1, 0)
            for f in features where !candidates[f].isEmpty {
                let thresholds = candidates[f]
                // Class weights per candidate bin (values in (t_{b-1}, t_b]), then a sweep.
                var bins = [Double](repeating: 0, count: (thresholds.count + 1) * k)
                for r in rows {
                    let v = x[r * d + f]
                    var lo = 0, hi = thresholds.count
                    while lo < hi { let mid = (lo + hi) / 2; if v <= thresholds[mid] { hi = mid } else { lo = mid + 1 } }
                    bins[lo * k + y[r]] += w[r]
                }
                var left = [Double](repeating: 0, count: k)
                // Gini sweep in O(1) per threshold: with L_c the left class weights and N_c the
                // node's, Σ L² and Σ N·L are updated as bins move left, and Σ R² = Σ N² − 2Σ N·L + Σ L².
                let squaredCounts = counts.reduce(0) { $0 + $1 * $1 }
                var wl = 0.0, leftSquares = 0.0, crossed = 0.0
                for b in 0..<thresholds.count {
                    var moved = false
                    for c in 0..<k where bins[b * k + c] != 0 {
                        let a = bins[b * k + c]
                        leftSquares += 2 * left[c] * a + a * a
                        crossed += counts[c] * a
                        left[c] += a
                        wl += a
                        moved = true
                    }
                    guard moved else { continue } // an empty bin splits the node as the previous threshold did
                    let wr = total - wl
                    guard wl >= minimumSamplesLeaf, wr >= minimumSamplesLeaf, wl > 0, wr > 0 else { continue }
                    let children: Double
                    switch criterion {
                    case .gini:
                        let rightSquares = squaredCounts - 2 * crossed + leftSquares
                        children = wl * (1 - leftSquares / (wl * wl)) + wr * (1 - rightSquares / (wr * wr))
                    case .entropy:
                        children = wl * DecisionTree.impurity(left, criterion) + wr * DecisionTree.impurity((0..<k).map { counts[$0] - left[$0] }, criterion)
                    }
                    let gain = impurity - children / total
                    if gain > best.gain { best = (gain, f, thresholds[b]) }
                }
            }
            guard best.feature >= 0 else { continue }
            nodes[index].feature = best.feature
            nodes[index].threshold = best.threshold
            let leftRows = rows.filter { x[$0 * d + best.feature] <= best.threshold }
            let rightRows = rows.filter { x[$0 * d + best.feature] > best.threshold }
            stack.append((rightRows, depth + 1, index, false))
            stack.append((leftRows, depth + 1, index, true))
        }
    }

    static func impurity(_ counts: [Double], _ criterion: Criterion) -> Double {
        let total = counts.reduce(0, +)
        guard total > 0 else { return 0 }
        switch criterion {
        case .gini: return 1 - counts.reduce(0) { $0 + ($1 / total) * ($1 / total) }
        case .entropy: return -counts.reduce(0) { $0 + ($1 > 0 ? ($1 / total) * log($1 / total) : 0) }
        }
    }

    /// The leaf reached by row `x` (D features).
    public func leaf(_ x: ArraySlice<Float>) -> Int {
        var i = 0
        while !nodes[i].isLeaf { i = x[x.startIndex + nodes[i].feature] <= nodes[i].threshold ? nodes[i].left : nodes[i].right }
        return i
    }

    /// The nodes visited by row `x`, root first.
    public func path(_ x: ArraySlice<Float>) -> [Int] {
        var i = 0, out = [0]
        while !nodes[i].isLeaf {
            i = x[x.startIndex + nodes[i].feature] <= nodes[i].threshold ? nodes[i].left : nodes[i].right
            out.append(i)
        }
        return out
    }

    /// Class probabilities (leaf class fractions) for each row of `x` (`N × D`) → `N × K`.
    public func probabilities(_ x: [Float]) -> [Double] {
        stride(from: 0, to: x.count, by: featureCount).flatMap { nodes[leaf(x[$0..<($0 + featureCount)])].probabilities }
    }

    /// The majority class of each row's leaf.
    public func predict(_ x: [Float]) -> [Int] {
        stride(from: 0, to: x.count, by: featureCount).map { start in
            let c = nodes[leaf(x[start..<(start + featureCount)])].classWeights
            return c.indices.max { c[$0] < c[$1] }!
        }
    }

    /// Normalised impurity-decrease importance of each feature.
    public var featureImportances: [Double] {
        var importance = [Double](repeating: 0, count: featureCount)
        for node in nodes where !node.isLeaf {
            let (l, r) = (nodes[node.left], nodes[node.right])
            let weight = { (n: Node) in n.classWeights.reduce(0, +) }
            importance[node.feature] += weight(node) * node.impurity - weight(l) * l.impurity - weight(r) * r.impurity
        }
        let total = importance.reduce(0, +)
        return total > 0 ? importance.map { $0 / total } : importance
    }
}

/// A random forest of CART trees on bootstrap samples; importances are the trees' mean.
public struct RandomForest: Sendable {
    public let trees: [DecisionTree]
    /// `maximumBins` close to scikit-learn's exhaustive thresholds: 4,096 quantile candidates per
    /// feature (every distinct value below that), within 0.01 of scikit-learn's DCI forest on 10,000 points.
    public static let exhaustive = 4096

    /// `treeCount` trees of depth ≤ `maximumDepth`, each on a bootstrap sample (as multiplicity weights),
    /// with split candidates at `maximumBins` quantiles per feature; `meter` is advanced by one per tree.
    public init(x: [Float], featureCount d: Int, y: [Int], classCount k: Int, treeCount: Int = 50,
                maximumDepth: Int = 8, featuresPerSplit: Int? = nil, maximumBins: Int = 32, seed: UInt64, meter: WorkMeter? = nil) {
        let root = RandomGenerator(seed: seed)
        let n = y.count
        var forest: [DecisionTree] = []
        for t in 0..<treeCount {
            var rng = root.fork(UInt64(t))
            var weights = [Double](repeating: 0, count: n)
            for _ in 0..<n { weights[rng.int(below: n)] += 1 }
            forest.append(DecisionTree(x: x, featureCount: d, y: y, classCount: k, weights: weights,
                                       maximumDepth: maximumDepth, featuresPerSplit: featuresPerSplit,
                                       maximumBins: maximumBins, rng: rng))
            meter?.advance()
        }
        trees = forest
    }

    /// Mean class probabilities → majority class per row.
    public func predict(_ x: [Float]) -> [Int] {
        guard let first = trees.first else { return [] }
        var sum = [Double](repeating: 0, count: x.count / first.featureCount * first.classCount)
        for tree in trees { for (i, p) in tree.probabilities(x).enumerated() { sum[i] += p } }
        let k = first.classCount
        return (0..<(sum.count / k)).map { i in (0..<k).max { sum[i * k + $0] < sum[i * k + $1] }! }
    }

    /// Mean of the trees' normalised importances.
    public var featureImportances: [Double] {
        guard let first = trees.first else { return [] }
        var sum = [Double](repeating: 0, count: first.featureCount)
        for tree in trees { for (j, v) in tree.featureImportances.enumerated() { sum[j] += v } }
        return sum.map { $0 / Double(trees.count) }
    }
}

extension DecisionTree {
    /// Total sample weight at the root.
    var rootWeight: Double { nodes[0].classWeights.reduce(0, +) }

    /// Leaves of the subtree under `node` (ignoring already-collapsed descendants).
    func subtreeLeaves(_ node: Int) -> [Int] {
        var out: [Int] = [], stack = [node]
        while let i = stack.popLast() {
            if nodes[i].isLeaf { out.append(i) } else { stack += [nodes[i].left, nodes[i].right] }
        }
        return out
    }

    /// `R(t) = (w_t / W)·impurity(t)`: the node's weighted impurity as if it were a leaf.
    func risk(_ node: Int) -> Double { nodes[node].classWeights.reduce(0, +) / rootWeight * nodes[node].impurity }

    /// The minimal cost-complexity pruning path (Breiman et al. 1984, ch. 3; scikit-learn's
    /// `cost_complexity_pruning_path`): repeatedly collapse the internal node(s) with the smallest
    /// effective α = (R(t) − R(T_t)) / (|leaves(T_t)| − 1); returns each α (starting at 0) with the
    /// total leaf impurity Σ R(leaf) of the tree pruned at that α.
    public func pruningPath() -> (alphas: [Double], impurities: [Double]) {
        var tree = self
        var alphas = [0.0], impurities = [tree.leafRisk()]
        while !tree.nodes[0].isLeaf {
            var best = Double.infinity
            var weakest: [Int] = []
            for i in tree.reachableInternalNodes() {
                let leaves = tree.subtreeLeaves(i)
                let alpha = (tree.risk(i) - leaves.reduce(0) { $0 + tree.risk($1) }) / Double(leaves.count - 1)
                if alpha < best - 1e-15 { best = alpha; weakest = [i] } else if abs(alpha - best) <= 1e-15 { weakest.append(i) }
            }
            for i in weakest { tree.nodes[i].feature = -1 }
            alphas.append(max(best, 0))
            impurities.append(tree.leafRisk())
        }
        return (alphas, impurities)
    }

    /// The tree pruned at complexity `alpha`: the weakest links are collapsed while their effective α ≤ `alpha`.
    public func pruned(alpha: Double) -> DecisionTree {
        var tree = self
        while !tree.nodes[0].isLeaf {
            var best = Double.infinity, weakest = -1
            for i in tree.reachableInternalNodes() {
                let leaves = tree.subtreeLeaves(i)
                let a = (tree.risk(i) - leaves.reduce(0) { $0 + tree.risk($1) }) / Double(leaves.count - 1)
                if a < best { best = a; weakest = i }
            }
            guard best <= alpha + 1e-15 else { break }
            tree.nodes[weakest].feature = -1
        }
        return tree
    }

    func reachableInternalNodes() -> [Int] {
        var out: [Int] = [], stack = [0]
        while let i = stack.popLast() {
            guard !nodes[i].isLeaf else { continue }
            out.append(i)
            stack += [nodes[i].left, nodes[i].right]
        }
        return out
    }

    func leafRisk() -> Double { subtreeLeaves(0).reduce(0) { $0 + risk($1) } }

    /// Number of leaves reachable from the root.
    public var leafCount: Int { subtreeLeaves(0).count }
    /// Depth of the deepest reachable leaf (root alone: 0).
    public var depth: Int {
        var best = 0, stack = [(0, 0)]
        while let (i, d) = stack.popLast() {
            if nodes[i].isLeaf { best = max(best, d) } else { stack += [(nodes[i].left, d + 1), (nodes[i].right, d + 1)] }
        }
        return best
    }

    /// scikit-learn's `export_text` form with `featureNames` and `classNames`:
    /// `|--- size <= 0.80` / `|   |--- class: benign`.
    public func text(featureNames: [String], classNames: [String]) -> String {
        var out = ""
        func walk(_ i: Int, _ indent: String) {
            let node = nodes[i]
            if node.isLeaf {
                let p = node.probabilities
                let c = p.indices.max { p[$0] < p[$1] }!
                out += "\(indent)|--- class: \(classNames[c]) (\(String(format: "%.2f", p[c])), n=\(Int(node.classWeights.reduce(0, +).rounded())))\n"
                return
            }
            let name = featureNames[node.feature], t = String(format: "%.2f", node.threshold)
            out += "\(indent)|--- \(name) <= \(t)\n"
            walk(node.left, indent + "|   ")
            out += "\(indent)|--- \(name) >  \(t)\n"
            walk(node.right, indent + "|   ")
        }
        walk(0, "")
        return out
    }
}
