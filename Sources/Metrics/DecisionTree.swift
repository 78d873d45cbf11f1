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
    /// `bins`, when given, must be ``SplitBins`` of this `x` (a forest computes them once for all
    /// its trees); otherwise they are computed here with `maximumBins`.
    public init(x: [Float], featureCount d: Int, y: [Int], classCount k: Int, weights: [Double]? = nil,
                criterion: Criterion = .gini, maximumDepth: Int = .max, minimumSamplesLeaf: Double = 1,
                featuresPerSplit: Int? = nil, maximumBins: Int = 256, bins: SplitBins? = nil, rng: RandomGenerator? = nil) {
        precondition(d > 0 && k > 0 && x.count == y.count * d, "DecisionTree: \(x.count) values for \(y.count) rows of \(d) features")
        featureCount = d
        classCount = k
        self.criterion = criterion
        let n = y.count
        let w = weights ?? [Double](repeating: 1, count: n)
        let split = bins ?? SplitBins(x: x, featureCount: d, maximumBins: maximumBins)
        precondition(split.featureCount == d && split.rowCount == n, "DecisionTree: split bins of \(split.rowCount) × \(split.featureCount), data \(n) × \(d)")
        var generator = rng ?? RandomGenerator(seed: 0)
        // Scratch reused by every node: dense class weights per bin, one bin's class weights, and
        // (bin, row) keys of a small node.
        var dense: [Double] = [], binSums = [Double](repeating: 0, count: k), keyed: [(bin: Int32, row: Int)] = []
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
            var best: (gain: Double, feature: Int, bin: Int) = (1e-12, -1, 0)
            let squaredCounts = counts.reduce(0) { $0 + $1 * $1 }
            for f in features where !split.thresholds[f].isEmpty {
                let thresholdCount = split.thresholds[f].count
                let binOf = split.bins[f]
                // The sweep over thresholds in order: bin b holds the values in (t_{b-1}, t_b]; moving it
                // left updates the left class weights L_c, Σ L² and Σ N·L in O(1) per class (with N_c the
                // node's), and Σ R² = Σ N² − 2Σ N·L + Σ L². Empty bins split as the previous threshold
                // did and are skipped, so only the bins holding rows are visited, in increasing order.
                var left = [Double](repeating: 0, count: k)
                var wl = 0.0, leftSquares = 0.0, crossed = 0.0
                func moveLeft(_ b: Int, _ sums: UnsafeBufferPointer<Double>) {
                    var moved = false
                    for c in 0..<k where sums[c] != 0 {
                        let a = sums[c]
                        leftSquares += 2 * left[c] * a + a * a
                        crossed += counts[c] * a
                        left[c] += a
                        wl += a
                        moved = true
                    }
                    guard moved else { return }
                    let wr = total - wl
                    guard wl >= minimumSamplesLeaf, wr >= minimumSamplesLeaf, wl > 0, wr > 0 else { return }
                    let children: Double
                    switch criterion {
                    case .gini:
                        let rightSquares = squaredCounts - 2 * crossed + leftSquares
                        children = wl * (1 - leftSquares / (wl * wl)) + wr * (1 - rightSquares / (wr * wr))
                    case .entropy:
                        children = wl * DecisionTree.impurity(left, criterion) + wr * DecisionTree.impurity((0..<k).map { counts[$0] - left[$0] }, criterion)
                    }
                    let gain = impurity - children / total
                    if gain > best.gain { best = (gain, f, b) }
                }
                if rows.count * 4 < thresholdCount {
                    // A node with few rows for the feature's bins: its rows sorted by (bin, row) — each
                    // bin's weights summed in row order, as the dense path sums them.
                    keyed.removeAll(keepingCapacity: true)
                    for r in rows { keyed.append((binOf[r], r)) }
                    keyed.sort { $0.bin != $1.bin ? $0.bin < $1.bin : $0.row < $1.row }
                    var i = 0
                    while i < keyed.count {
                        let b = Int(keyed[i].bin)
                        guard b < thresholdCount else { break } // the last bin lies right of every threshold
                        for c in 0..<k { binSums[c] = 0 }
                        while i < keyed.count && Int(keyed[i].bin) == b { let r = keyed[i].row; binSums[y[r]] += w[r]; i += 1 }
                        binSums.withUnsafeBufferPointer { moveLeft(b, $0) }
                    }
                } else {
                    let size = (thresholdCount + 1) * k
                    if dense.count < size { dense = [Double](repeating: 0, count: size) } else { for i in 0..<size { dense[i] = 0 } }
                    for r in rows { dense[Int(binOf[r]) * k + y[r]] += w[r] }
                    dense.withUnsafeBufferPointer { all in
                        for b in 0..<thresholdCount { moveLeft(b, UnsafeBufferPointer(rebasing: all[(b * k)..<((b + 1) * k)])) }
                    }
                }
            }
            guard best.feature >= 0 else { continue }
            nodes[index].feature = best.feature
            nodes[index].threshold = split.thresholds[best.feature][best.bin]
            // x ≤ t_b exactly when the row's bin is ≤ b (bins are found by that comparison).
            let binOf = split.bins[best.feature]
            let leftRows = rows.filter { Int(binOf[$0]) <= best.bin }
            let rightRows = rows.filter { Int(binOf[$0]) > best.bin }
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

/// A tree's split candidates and every row's bin, computed once per data set: per feature the
/// midpoints between adjacent distinct values (at most `maximumBins` + 1 quantile values when there
/// are more), and for row `r` the bin `b` with `t_{b−1} < x_{r,f} ≤ t_b` (`b` = the threshold count
/// for values above the last). A random forest shares them across its trees, which grow on the
/// same rows with other weights.
public struct SplitBins: Sendable {
    /// Candidate thresholds per feature, increasing (empty for a constant feature).
    public let thresholds: [[Float]]
    /// `bins[f][r]`: row `r`'s bin for feature `f`.
    public let bins: [[Int32]]
    /// Rows and features of the data the bins were computed on.
    public let rowCount: Int, featureCount: Int

    /// The candidates and bins of rows `x` (`N × D`, row-major).
    public init(x: [Float], featureCount d: Int, maximumBins: Int) {
        precondition(d > 0 && x.count % d == 0, "SplitBins: \(x.count) values are not rows of \(d) features")
        let n = x.count / d
        rowCount = n
        featureCount = d
        thresholds = (0..<d).map { j in
            var values = Array(Set(stride(from: j, to: x.count, by: d).map { x[$0] })).sorted()
            if values.count > maximumBins {
                values = (0...maximumBins).map { values[min(values.count - 1, $0 * (values.count - 1) / maximumBins)] }
                values = Array(Set(values)).sorted()
            }
            return values.count < 2 ? [] : (1..<values.count).map { (values[$0 - 1] + values[$0]) / 2 }
        }
        bins = thresholds.enumerated().map { j, t in
            (0..<n).map { r in
                let v = x[r * d + j]
                var lo = 0, hi = t.count
                while lo < hi { let mid = (lo + hi) / 2; if v <= t[mid] { hi = mid } else { lo = mid + 1 } }
                return Int32(lo)
            }
        }
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
    /// Tree `t` draws from its own stream (`seed` forked by `t`), so the trees grow concurrently
    /// (`Parallel.forEach`) into the forest one thread would grow.
    public init(x: [Float], featureCount d: Int, y: [Int], classCount k: Int, treeCount: Int = 50,
                maximumDepth: Int = 8, featuresPerSplit: Int? = nil, maximumBins: Int = 32, seed: UInt64, meter: WorkMeter? = nil) {
        let root = RandomGenerator(seed: seed)
        let n = y.count
        let bins = SplitBins(x: x, featureCount: d, maximumBins: maximumBins)
        var forest = [DecisionTree?](repeating: nil, count: treeCount)
        forest.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            Parallel.forEach(treeCount) { t in
                var rng = root.fork(UInt64(t))
                var weights = [Double](repeating: 0, count: n)
                for _ in 0..<n { weights[rng.int(below: n)] += 1 }
                out[t] = DecisionTree(x: x, featureCount: d, y: y, classCount: k, weights: weights,
                                      maximumDepth: maximumDepth, featuresPerSplit: featuresPerSplit,
                                      maximumBins: maximumBins, bins: bins, rng: rng)
                meter?.advance()
            }
        }
        trees = forest.map { $0! }
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
