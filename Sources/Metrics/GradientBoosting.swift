import Foundation
import TensorCore

/// Gradient-boosted regression trees for classification with scikit-learn's
/// `GradientBoostingClassifier()` defaults — 100 stages, learning rate 0.1, depth 3,
/// `friedman_mse`, all features, no subsampling — the model disentanglement_lib's DCI
/// (`dci._compute_importance_gbt`) takes its importance matrix from (Friedman 2001).
///
/// Concretely, with raw scores F (one per class; one in total for two classes) started at the
/// log class priors (log-odds for two classes), every stage fits, per class k, a depth-3
/// regression tree to the residuals `r_ik = [y_i = k] − p_ik` (p the softmax, or sigmoid, of F),
/// sets each leaf to the Newton step `(K−1)/K · Σ r / Σ p(1−p)` (without the factor for two
/// classes; 0 when the denominator vanishes) and adds 0.1 × the tree to F_k.
/// Splits maximise Friedman's improvement `w_l w_r (mean_l − mean_r)²` over thresholds halfway
/// between adjacent distinct values (exhaustive, as scikit-learn's best splitter; ties go to the
/// lower feature index and threshold, where scikit-learn draws at random).
/// `featureImportances`: per tree the summed weighted variance decrease of its splits divided by
/// N; the mean over trees that split at all; normalised to sum 1 — `feature_importances_`.
public struct GradientBoostedTrees: Sendable {
    /// One regression tree: internal nodes `(feature, threshold, left, right)`, leaves a value.
    struct Tree: Sendable {
        var feature: [Int] = [], threshold: [Float] = [], left: [Int] = [], right: [Int] = [], value: [Double] = []
        func predict(_ row: UnsafePointer<Float>) -> Double {
            var node = 0
            while feature[node] >= 0 { node = row[feature[node]] <= threshold[node] ? left[node] : right[node] }
            return value[node]
        }
    }

    let classes: [Int]
    let initial: [Double]
    let stages: [[Tree]]
    let featureCount: Int
    /// scikit-learn's `learning_rate`.
    public static let learningRate = 0.1
    /// Impurity-decrease importances, one per feature, summing to 1 (all 0 if no tree split).
    public let featureImportances: [Double]

    /// Fits on rows `x` (`N × D`, row-major) with labels `y`; `stageCount` 100 and `maximumDepth` 3 as scikit-learn.
    /// `meter` is advanced by one per finished stage.
    public init(x: [Float], featureCount d: Int, y: [Int], stageCount: Int = 100, maximumDepth: Int = 3, meter: WorkMeter? = nil) {
        let n = y.count
        precondition(d > 0 && n > 0 && x.count == n * d, "GradientBoostedTrees: \(x.count) values for \(n) rows of \(d) features")
        featureCount = d
        classes = Array(Set(y)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0.element, $0.offset) })
        let labels = y.map { index[$0]! }
        let k = classes.count, outputs = k == 2 ? 1 : k
        var counts = [Double](repeating: 0, count: k)
        for label in labels { counts[label] += 1 }
        let priors = counts.map { $0 / Double(n) }
        initial = k == 2 ? [log(priors[1] / priors[0])] : (k == 1 ? [0] : priors.map { log($0) })
        // Each feature's rows in ascending order, computed once: every tree walks these.
        let sorted: [[Int]] = (0..<d).map { j in (0..<n).sorted { x[$0 * d + j] < x[$1 * d + j] || (x[$0 * d + j] == x[$1 * d + j] && $0 < $1) } }
        let sortedValues: [[Float]] = (0..<d).map { j in sorted[j].map { x[$0 * d + j] } }
        var raw = [Double](repeating: 0, count: n * outputs)
        for i in 0..<n { for o in 0..<outputs { raw[i * outputs + o] = initial[o] } }
        var stages: [[Tree]] = [], importanceSum = [Double](repeating: 0, count: d), splittingTrees = 0
        guard k > 1 else { self.stages = []; featureImportances = importanceSum; return }
        var probabilities = [Double](repeating: 0, count: n * outputs)
        for _ in 0..<stageCount {
            GradientBoostedTrees.probabilities(raw, outputs: outputs, into: &probabilities)
            // The stage's trees, one per class, are independent given the probabilities: grown
            // concurrently (each writes its own column of `raw`), their importances then added in
            // class order, so the fit is the same on any thread count.
            var grown = [(tree: Tree, importance: [Double])?](repeating: nil, count: outputs)
            probabilities.withUnsafeBufferPointer { p in raw.withUnsafeMutableBufferPointer { r in grown.withUnsafeMutableBufferPointer { g in
                nonisolated(unsafe) let (p, r, g) = (p, r, g)
                Parallel.forEach(outputs) { o in
                    let target = k == 2 ? 1 : o
                    let residual = (0..<n).map { (labels[$0] == target ? 1 : 0) - p[$0 * outputs + o] }
                    var importance = [Double](repeating: 0, count: d)
                    var (tree, leafOf) = GradientBoostedTrees.grow(x, d: d, residual: residual, sorted: sorted, sortedValues: sortedValues, depth: maximumDepth,
                                                                   importance: &importance)
                    // Newton step per leaf.
                    var numerator = [Double](repeating: 0, count: tree.value.count), denominator = numerator
                    for i in 0..<n {
                        let q = p[i * outputs + o]
                        numerator[leafOf[i]] += residual[i]
                        denominator[leafOf[i]] += q * (1 - q)
                    }
                    let factor = k == 2 ? 1 : Double(k - 1) / Double(k)
                    for leaf in tree.value.indices where tree.feature[leaf] < 0 {
                        tree.value[leaf] = abs(denominator[leaf]) < 1e-150 ? 0 : factor * numerator[leaf] / denominator[leaf]
                    }
                    for i in 0..<n { r[i * outputs + o] += GradientBoostedTrees.learningRate * tree.value[leafOf[i]] }
                    g[o] = (tree, importance)
                }
            } } }
            var stage: [Tree] = []
            for case let (tree, importance)? in grown {
                if tree.feature.count > 1 {
                    splittingTrees += 1
                    for j in 0..<d { importanceSum[j] += importance[j] / Double(n) }
                }
                stage.append(tree)
            }
            stages.append(stage)
            meter?.advance()
        }
        self.stages = stages
        let mean = importanceSum.map { splittingTrees > 0 ? $0 / Double(splittingTrees) : 0 }
        let total = mean.reduce(0, +)
        featureImportances = mean.map { total > 0 ? $0 / total : 0 }
    }

    /// Softmax (or, for one output, the sigmoid) of raw scores `[N × outputs]`.
    static func probabilities(_ raw: [Double], outputs: Int, into p: inout [Double]) {
        let n = raw.count / outputs
        for i in 0..<n {
            if outputs == 1 { p[i] = 1 / (1 + exp(-raw[i])); continue }
            var m = -Double.infinity
            for o in 0..<outputs { m = max(m, raw[i * outputs + o]) }
            var s = 0.0
            for o in 0..<outputs { p[i * outputs + o] = exp(raw[i * outputs + o] - m); s += p[i * outputs + o] }
            for o in 0..<outputs { p[i * outputs + o] /= s }
        }
    }

    /// Grows a least-squares regression tree on `residual` level by level: at each level every
    /// open node finds its best split in one pass over each feature's presorted rows (`sorted[j]`,
    /// with their values `sortedValues[j]`, read in order). Returns the tree (leaf values = node
    /// means, replaced by the caller) and the leaf of every row; adds each split's weighted
    /// variance decrease `w_l w_r (mean_l − mean_r)² / w` to `importance`.
    static func grow(_ x: [Float], d: Int, residual: [Double], sorted: [[Int]], sortedValues: [[Float]], depth maximumDepth: Int,
                     importance: inout [Double]) -> (Tree, [Int]) {
        let n = residual.count
        var tree = Tree()
        func addNode() -> Int {
            tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1); tree.value.append(0)
            return tree.feature.count - 1
        }
        var nodeOf = [Int](repeating: addNode(), count: n) // every row starts at the root
        var rowSlot = [Int32](repeating: -1, count: n)
        var open = [0]
        for _ in 0..<maximumDepth where !open.isEmpty {
            // Each open node's slot (its position in `open`), and every row's slot (-1: its node is closed).
            var slotOf = [Int](repeating: -1, count: tree.feature.count)
            for (s, node) in open.enumerated() { slotOf[node] = s }
            for i in 0..<n { rowSlot[i] = Int32(slotOf[nodeOf[i]]) }
            var weight = [Double](repeating: 0, count: open.count), sum = weight
            for i in 0..<n where rowSlot[i] >= 0 { let s = Int(rowSlot[i]); weight[s] += 1; sum[s] += residual[i] }
            var best = [(proxy: Double, feature: Int, threshold: Float)](repeating: (0, -1, 0), count: open.count)
            residual.withUnsafeBufferPointer { residual in rowSlot.withUnsafeBufferPointer { rowSlot in
                for j in 0..<d {
                    var leftWeight = [Double](repeating: 0, count: open.count), leftSum = leftWeight
                    var last = [Float](repeating: .nan, count: open.count)
                    sorted[j].withUnsafeBufferPointer { rows in sortedValues[j].withUnsafeBufferPointer { values in
                        for position in 0..<n {
                            let i = rows[position]
                            let slot = rowSlot[i]
                            guard slot >= 0 else { continue }
                            let s = Int(slot), v = values[position]
                            if leftWeight[s] > 0 && v > last[s] {
                                let (wl, wr) = (leftWeight[s], weight[s] - leftWeight[s])
                                let diff = leftSum[s] * wr - (sum[s] - leftSum[s]) * wl
                                let proxy = diff * diff / (wl * wr)
                                if proxy > best[s].proxy { best[s] = (proxy, j, (last[s] + v) / 2) }
                            }
                            leftWeight[s] += 1; leftSum[s] += residual[i]; last[s] = v
                        }
                    } }
                }
            } }
            var next: [Int] = []
            for (s, node) in open.enumerated() where best[s].feature >= 0 {
                tree.feature[node] = best[s].feature
                tree.threshold[node] = best[s].threshold
                let (l, r) = (addNode(), addNode())
                tree.left[node] = l; tree.right[node] = r
                importance[best[s].feature] += best[s].proxy / weight[s]
                next += [l, r]
            }
            for i in 0..<n where rowSlot[i] >= 0 {
                let node = nodeOf[i]
                if tree.feature[node] >= 0 { // split at this level
                    nodeOf[i] = x[i * d + tree.feature[node]] <= tree.threshold[node] ? tree.left[node] : tree.right[node]
                }
            }
            open = next
        }
        return (tree, nodeOf)
    }

    /// The predicted class of each row of `x` (`N × D`).
    public func predict(_ x: [Float]) -> [Int] {
        let n = x.count / featureCount, outputs = initial.count
        guard classes.count > 1 else { return [Int](repeating: classes.first ?? 0, count: n) }
        var predicted = [Int](repeating: 0, count: n)
        x.withUnsafeBufferPointer { p in predicted.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            Parallel.forEach(n, minimumPerThread: 256) { i in
                var raw = initial
                for stage in stages { for (o, tree) in stage.enumerated() { raw[o] += GradientBoostedTrees.learningRate * tree.predict(p.baseAddress! + i * featureCount) } }
                out[i] = outputs == 1 ? classes[raw[0] > 0 ? 1 : 0] : classes[raw.indices.max { raw[$0] < raw[$1] }!]
            }
        } }
        return predicted
    }
}
