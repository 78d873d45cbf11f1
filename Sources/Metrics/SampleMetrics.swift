import Foundation
import TensorCore

/// The metrics computed on a fixed `CodeSample`, each as disentanglement_lib defines it.
extension CodeSample {
    /// MIG (Chen et al. 2018): per factor, the gap between the largest and second-largest
    /// MI with any latent, divided by the factor's entropy; mean over factors.
    public func mig(mutualInformation mi: [[Double]]? = nil) -> Double {
        let m = mi ?? mutualInformationMatrix()
        let entropies = factorEntropies()
        var total = 0.0
        for f in 0..<factorCount {
            let column = m.map { $0[f] }.sorted(by: >)
            guard entropies[f] > 0 else { continue }
            total += (column[0] - (column.count > 1 ? column[1] : 0)) / entropies[f]
        }
        return total / Double(factorCount)
    }

    /// The one-latent classifier of SAP.
    public enum SAPClassifier: String, Sendable {
        /// disentanglement_lib's `LinearSVC(C=0.01, class_weight="balanced")` (``LinearSVM``): the default,
        /// comparable with published SAP.
        case linearSVM = "svm"
        /// A threshold classifier: a CART tree on the single latent of depth ⌈log₂ K⌉ + 3 with
        /// balanced class weights and leaves of ≥ 1 % of the points. Unlike the heavily
        /// regularised linear model it can give each class its interval of the latent, so it
        /// scores higher (reported as `sap_tree`).
        case tree
    }

    /// SAP (Kumar et al. 2018): for each (latent, factor) a classifier on that one latent
    /// predicts the factor; the matrix holds its evaluation accuracy; per factor the gap
    /// between the two best latents, mean over factors. Returns (score, matrix [Z][F]).
    /// The classifier is dlib's linear SVM unless `classifier` says otherwise.
    ///
    /// With `continuousFactors` the matrix instead holds dlib's R² of a one-latent linear
    /// regression, `cov(z_i, y_j)² / (var z_i · var y_j)` on the training points (dlib's
    /// `continuous_factors=True`, used by its identity oracle).
    public func sap(continuousFactors: Bool = false, classifier: SAPClassifier = .linearSVM) -> (score: Double, matrix: [[Double]]) {
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: factorCount), count: latentCount)
        for l in 0..<latentCount where continuousFactors {
            let z = latent(l, trainCodes).map(Double.init)
            for f in 0..<factorCount {
                let y = factor(f, trainFactors).map(Double.init)
                let n = Double(z.count), mz = z.reduce(0, +) / n, my = y.reduce(0, +) / n
                var czy = 0.0, czz = 0.0, cyy = 0.0
                for (a, b) in zip(z, y) { czy += (a - mz) * (b - my); czz += (a - mz) * (a - mz); cyy += (b - my) * (b - my) }
                matrix[l][f] = czz > 1e-12 && cyy > 0 ? czy * czy / (czz * cyy) : 0
            }
        }
        for l in 0..<latentCount where !continuousFactors {
            let xTrain = latent(l, trainCodes), xEval = latent(l, evalCodes)
            for f in 0..<factorCount {
                let y = factor(f, trainFactors), k = classCounts[f]
                guard Set(y).count > 1 else { continue }
                let yEval = factor(f, evalFactors)
                let predicted: [Int]
                switch classifier {
                case .linearSVM:
                    predicted = LinearSVM(x: xTrain, y: y, classCount: k, inverseRegularization: 0.01).predict(xEval)
                case .tree:
                    var counts = [Double](repeating: 0, count: k)
                    for label in y { counts[label] += 1 }
                    let weights = y.map { Double(y.count) / (Double(k) * counts[$0]) }
                    let depth = Int(ceil(log2(Double(k)))) + 3
                    predicted = DecisionTree(x: xTrain, featureCount: 1, y: y, classCount: k, weights: weights,
                                             maximumDepth: depth, minimumSamplesLeaf: 0.01 * Double(y.count)).predict(xEval)
                }
                matrix[l][f] = Double(zip(predicted, yEval).filter { $0 == $1 }.count) / Double(yEval.count)
            }
        }
        var total = 0.0
        for f in 0..<factorCount {
            let column = matrix.map { $0[f] }.sorted(by: >)
            total += column[0] - (column.count > 1 ? column[1] : 0)
        }
        return (total / Double(factorCount), matrix)
    }

    /// DCI (Eastwood & Williams 2018) from an importance matrix `R [Z][F]` (non-negative):
    /// disentanglement `Σ_i ρ_i (1 − H_F(R_i·/ΣR_i·))`, ρ_i = row share of the total;
    /// completeness `Σ_j ρ_j (1 − H_Z(R_·j/ΣR_·j))`, entropies in base F and Z.
    public static func dci(importance r: [[Double]]) -> (disentanglement: Double, completeness: Double) {
        let z = r.count, f = r.first?.count ?? 0
        let total = r.joined().reduce(0, +)
        guard total > 0, z > 0, f > 0 else { return (0, 0) }
        func normalizedEntropy(_ v: [Double], base: Int) -> Double {
            let s = v.reduce(0, +)
            guard s > 0, base > 1 else { return 0 }
            return -v.reduce(0) { $0 + ($1 > 0 ? ($1 / s) * log($1 / s) : 0) } / log(Double(base))
        }
        var d = 0.0, c = 0.0
        for i in 0..<z { d += r[i].reduce(0, +) / total * (1 - normalizedEntropy(r[i], base: f)) }
        for j in 0..<f {
            let column = r.map { $0[j] }
            c += column.reduce(0, +) / total * (1 - normalizedEntropy(column, base: z))
        }
        return (d, c)
    }

    /// Where DCI's importance matrix comes from.
    public enum DCIImportance: String, Sendable {
        /// Gradient-boosted trees with scikit-learn's defaults (``GradientBoostedTrees``), as
        /// disentanglement_lib: the default, comparable with published DCI.
        case gradientBoosting = "gbt"
        /// One random forest per factor (50 trees, depth ≤ 8, all latents at every split, 4,096
        /// quantile split candidates per latent, bootstrap samples), close to scikit-learn's
        /// `RandomForestClassifier(50, max_depth=8, max_features=None)`, reported as `dci_forest.*`.
        case randomForest = "forest"
    }

    /// DCI with importances from one model per factor predicting it from all latents (see
    /// ``DCIImportance``); informativeness = mean train and eval accuracy of those models.
    /// `meter` counts the boosting stages or trees of all factors' models (one phase).
    public func dci(seed: UInt64, importance method: DCIImportance = .gradientBoosting, meter: WorkMeter? = nil)
        -> (disentanglement: Double, completeness: Double, trainAccuracy: Double, evalAccuracy: Double, importance: [[Double]]) {
        var importance = [[Double]](repeating: [Double](repeating: 0, count: factorCount), count: latentCount)
        var trainAccuracy = 0.0, evalAccuracy = 0.0
        let xTrain = trainCodes.flatMap { $0 }, xEval = evalCodes.flatMap { $0 }
        // Both model kinds parallelise inside each fit: a forest's trees, a boosting stage's class trees.
        let (models, unit) = method == .randomForest ? ("random forests of 50 trees", "trees") : ("gradient-boosted models of 100 stages", "stages")
        meter?.begin("fitting \(factorCount) \(models), one per factor", total: factorCount * (method == .randomForest ? 50 : 100), unit: unit)
        defer { meter?.end() }
        for f in 0..<factorCount {
            let y = factor(f, trainFactors), yEval = factor(f, evalFactors)
            let predict: ([Float]) -> [Int]
            let importances: [Double]
            switch method {
            case .gradientBoosting:
                let model = GradientBoostedTrees(x: xTrain, featureCount: latentCount, y: y, meter: meter)
                (predict, importances) = (model.predict, model.featureImportances)
            case .randomForest:
                let forest = RandomForest(x: xTrain, featureCount: latentCount, y: y, classCount: classCounts[f], treeCount: 50,
                                          maximumDepth: 8, maximumBins: RandomForest.exhaustive, seed: seed &+ UInt64(f), meter: meter)
                (predict, importances) = (forest.predict, forest.featureImportances)
            }
            for (l, v) in importances.enumerated() { importance[l][f] = abs(v) }
            let accuracy = { (x: [Float], y: [Int]) in Double(zip(predict(x), y).filter { $0 == $1 }.count) / Double(y.count) }
            trainAccuracy += accuracy(xTrain, y)
            evalAccuracy += accuracy(xEval, yEval)
        }
        let (d, c) = CodeSample.dci(importance: importance)
        return (d, c, trainAccuracy / Double(factorCount), evalAccuracy / Double(factorCount), importance)
    }

    /// Modularity (Ridgeway & Mozer 2018) of an MI matrix `[Z][F]`: per latent
    /// `1 − (Σ_k m_k² − max m²)/(max m²·(F − 1))`, and 0 for a latent with no information
    /// (max m = 0), as disentanglement_lib's `modularity_explicitness.modularity`; mean over latents.
    public static func modularity(mutualInformation m: [[Double]]) -> Double {
        let f = m.first?.count ?? 0
        guard f > 1 else { return 1 }
        var total = 0.0
        for row in m {
            let squares = row.map { $0 * $0 }
            let peak = squares.max() ?? 0
            total += peak > 0 ? 1 - (squares.reduce(0, +) - peak) / (peak * Double(f - 1)) : 0
        }
        return total / Double(m.count)
    }

    /// Explicitness (Ridgeway & Mozer 2018): per factor, a multinomial logistic regression
    /// (L2, C = 1) on the codes as they are — disentanglement_lib's
    /// `modularity_explicitness.explicitness_per_factor`; `standardized` fits on standardised
    /// codes instead, the variant reported as `explicitness_standardized` — then the mean
    /// one-vs-rest ROC-AUC over the classes on the evaluation points; mean over factors.
    public func explicitness(standardized: Bool = false) -> Double { explicitness(variants: [standardized])[0] }

    /// ``explicitness(standardized:)`` for each of `variants` (`false`: raw codes, `true`:
    /// standardised): all variants' per-factor fits run concurrently (`Parallel.forEach`, each fit on
    /// one thread), and each variant's mean is summed in factor order, so the values are those of
    /// one call per variant.
    public func explicitness(variants: [Bool]) -> [Double] {
        let xTrain = trainCodes.flatMap { $0 }, xEval = evalCodes.flatMap { $0 }
        let fits = variants.count * factorCount
        var perFactor = [Double](repeating: 0, count: fits)
        perFactor.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            Parallel.forEach(fits) { t in
                out[t] = factorExplicitness(t % factorCount, standardized: variants[t / factorCount], xTrain: xTrain, xEval: xEval)
            }
        }
        return variants.indices.map { v in
            (0..<factorCount).reduce(0.0) { $0 + perFactor[v * factorCount + $1] } / Double(factorCount)
        }
    }

    /// Factor `f`'s explicitness: the mean one-vs-rest ROC-AUC of a logistic regression fitted on
    /// `xTrain` (flattened training codes), scored on `xEval`; 0.5 for a factor constant in training.
    private func factorExplicitness(_ f: Int, standardized: Bool, xTrain: [Float], xEval: [Float]) -> Double {
        let y = factor(f, trainFactors), yEval = factor(f, evalFactors), k = classCounts[f]
        guard Set(y).count > 1 else { return 0.5 }
        let model = LogisticRegression(x: xTrain, featureCount: latentCount, y: y, classCount: k, standardized: standardized)
        let p = model.probabilities(xEval)
        var auc = 0.0
        for c in 0..<k {
            auc += rocAUC(scores: (0..<yEval.count).map { p[$0 * k + c] }, labels: yEval.map { $0 == c ? 1 : 0 })
        }
        return auc / Double(k)
    }

    /// Gaussian total correlation of the codes, `½(Σ log Σ_ii − log det Σ)` for their
    /// covariance Σ (ddof 0), and the mutual-information score, the mean off-diagonal MI
    /// between discretised latents (20 bins).
    public func unsupervised() -> (gaussianTotalCorrelation: Double, mutualInformationScore: Double) {
        let n = Double(trainCodes.count), z = latentCount
        let means = (0..<z).map { l in trainCodes.reduce(0.0) { $0 + Double($1[l]) } / n }
        var cov = [[Double]](repeating: [Double](repeating: 0, count: z), count: z)
        for row in trainCodes { for a in 0..<z { for b in 0..<z { cov[a][b] += (Double(row[a]) - means[a]) * (Double(row[b]) - means[b]) / n } } }
        let logDiagonal = (0..<z).reduce(0.0) { $0 + log(max(cov[$1][$1], 1e-300)) }
        let tc = 0.5 * (logDiagonal - logDeterminant(cov))
        let discrete = (0..<z).map { Information.discretize(latent($0, trainCodes)) }
        var mi = 0.0
        for a in 0..<z { for b in 0..<z where a != b { mi += Information.mutualInformation(discrete[a], discrete[b]) } }
        return (tc, z > 1 ? mi / Double(z * z - z) : 0)
    }
}

/// `log det A` of a symmetric positive semi-definite matrix by Cholesky (pivots clamped at 1e-300).
func logDeterminant(_ a: [[Double]]) -> Double {
    let n = a.count
    var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    var result = 0.0
    for j in 0..<n {
        var d = a[j][j]
        for k in 0..<j { d -= l[j][k] * l[j][k] }
        d = max(d, 1e-300)
        l[j][j] = d.squareRoot()
        result += log(d)
        for i in (j + 1)..<max(j + 1, n) {
            var s = a[i][j]
            for k in 0..<j { s -= l[i][k] * l[j][k] }
            l[i][j] = s / l[j][j]
        }
    }
    return result
}
