import Foundation
import TensorCore

/// Multinomial logistic regression with L2 regularisation (scikit-learn's
/// `LogisticRegression(C=…)` objective), fitted by Nesterov-accelerated gradient
/// descent on standardised features.
///
/// Concretely: minimise `(1/Σw) Σ_i w_i·CE(softmax(x_i W + b), y_i) + (λ/2)‖W‖²`
/// with `λ = 1/(C·N)` (the bias is not penalised). Features are standardised with
/// the training mean and standard deviation inside the model unless `standardized` is false
/// (then the penalty acts on the raw features' weights, as scikit-learn on unscaled data). Shapes: `X [N, D]`,
/// labels `y [N]` in `0..<K`, weights `W [D, K]`.
public struct LogisticRegression: Sendable {
    /// Inverse regularisation strength C (1 by default, as scikit-learn).
    public let inverseRegularization: Double
    /// Number of classes K.
    public let classCount: Int
    var mean: [Float] = [], scale: [Float] = []
    var weights: [Float] = [], bias: [Float] = []

    /// Fits on rows `x` (`N × D`, row-major) with labels `y`. `balanced` weights each class by
    /// `N / (K·n_k)` (scikit-learn's `class_weight="balanced"`).
    public init(x: [Float], featureCount d: Int, y: [Int], classCount k: Int, inverseRegularization c: Double = 1,
                balanced: Bool = false, iterations: Int = 300, standardized: Bool = true) {
        precondition(d > 0 && k > 1 && x.count == y.count * d, "LogisticRegression: \(x.count) values for \(y.count) rows of \(d) features")
        precondition(y.allSatisfy { $0 >= 0 && $0 < k }, "LogisticRegression: labels must lie in 0..<\(k)")
        inverseRegularization = c
        classCount = k
        let n = y.count
        // Standardise (constant features get scale 1), or leave the features as they are.
        mean = !standardized ? [Float](repeating: 0, count: d) : (0..<d).map { j in Float(stride(from: j, to: x.count, by: d).reduce(0.0) { $0 + Double(x[$1]) } / Double(n)) }
        scale = !standardized ? [Float](repeating: 1, count: d) : (0..<d).map { j in
            let v = stride(from: j, to: x.count, by: d).reduce(0.0) { $0 + pow(Double(x[$1] - mean[j]), 2) } / Double(n)
            return v > 1e-12 ? Float(v.squareRoot()) : 1
        }
        let z = standardize(x, d)
        var sampleWeight = [Float](repeating: 1, count: n)
        if balanced {
            var counts = [Int](repeating: 0, count: k)
            for label in y { counts[label] += 1 }
            for i in 0..<n { sampleWeight[i] = Float(n) / Float(k * max(counts[y[i]], 1)) }
        }
        let totalWeight = sampleWeight.reduce(0, +)
        let lambda = Float(1 / (c * Double(n)))
        // Lipschitz bound of the gradient: ½·λmax(XᵀX/N) ≤ ½·(trace(XᵀX)/N + 1) with the bias column,
        // + λ; the trace is D for standardised X.
        let power = standardized ? Float(d) : Float(z.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n))
        let step = 1 / (0.5 * (power + 1) * Float(n) / totalWeight * (sampleWeight.max() ?? 1) + lambda)
        var w = [Float](repeating: 0, count: d * k), b = [Float](repeating: 0, count: k)
        var wPrev = w, bPrev = b
        var probabilities = [Float](repeating: 0, count: n * k)
        for t in 1...max(1, iterations) {
            // Look-ahead point (Nesterov): v = w + (t−1)/(t+2)·(w − w_prev).
            let momentum = Float(t - 1) / Float(t + 2)
            let vw = zip(w, wPrev).map { $0 + momentum * ($0 - $1) }, vb = zip(b, bPrev).map { $0 + momentum * ($0 - $1) }
            LogisticRegression.softmax(z, n: n, d: d, k: k, weights: vw, bias: vb, into: &probabilities)
            // Residual (P − Y)·w_i / Σw.
            for i in 0..<n {
                probabilities[i * k + y[i]] -= 1
                let s = sampleWeight[i] / totalWeight
                for c in 0..<k { probabilities[i * k + c] *= s }
            }
            var gradW = [Float](repeating: 0, count: d * k)
            z.withUnsafeBufferPointer { pz in probabilities.withUnsafeBufferPointer { pr in gradW.withUnsafeMutableBufferPointer { pg in
                BLAS.gemm(transposeA: true, transposeB: false, m: d, n: k, k: n, a: pz.baseAddress!, lda: d,
                          b: pr.baseAddress!, ldb: k, c: pg.baseAddress!, ldc: k)
            } } }
            var gradB = [Float](repeating: 0, count: k)
            for i in 0..<n { for c in 0..<k { gradB[c] += probabilities[i * k + c] } }
            wPrev = w; bPrev = b
            for j in 0..<(d * k) { w[j] = vw[j] - step * (gradW[j] + lambda * vw[j]) }
            for c in 0..<k { b[c] = vb[c] - step * gradB[c] }
        }
        weights = w
        bias = b
    }

    func standardize(_ x: [Float], _ d: Int) -> [Float] {
        var z = x
        for i in 0..<(x.count / d) { for j in 0..<d { z[i * d + j] = (x[i * d + j] - mean[j]) / scale[j] } }
        return z
    }

    static func softmax(_ z: [Float], n: Int, d: Int, k: Int, weights: [Float], bias: [Float], into p: inout [Float]) {
        z.withUnsafeBufferPointer { pz in weights.withUnsafeBufferPointer { pw in p.withUnsafeMutableBufferPointer { pp in
            BLAS.gemm(transposeA: false, transposeB: false, m: n, n: k, k: d, a: pz.baseAddress!, lda: d,
                      b: pw.baseAddress!, ldb: k, c: pp.baseAddress!, ldc: k)
        } } }
        for i in 0..<n {
            var m = -Float.infinity
            for c in 0..<k { p[i * k + c] += bias[c]; m = max(m, p[i * k + c]) }
            var s: Float = 0
            for c in 0..<k { p[i * k + c] = exp(p[i * k + c] - m); s += p[i * k + c] }
            for c in 0..<k { p[i * k + c] /= s }
        }
    }

    /// Class probabilities `[N × K]` for rows `x` (`N × D`).
    public func probabilities(_ x: [Float]) -> [Float] {
        let d = mean.count, n = x.count / d
        var p = [Float](repeating: 0, count: n * classCount)
        LogisticRegression.softmax(standardize(x, d), n: n, d: d, k: classCount, weights: weights, bias: bias, into: &p)
        return p
    }

    /// Most probable class of each row.
    public func predict(_ x: [Float]) -> [Int] {
        let p = probabilities(x), k = classCount
        return (0..<(p.count / k)).map { i in (0..<k).max { p[i * k + $0] < p[i * k + $1] }! }
    }

    /// Fraction of rows whose predicted class equals `y`.
    public func accuracy(_ x: [Float], _ y: [Int]) -> Double {
        let predicted = predict(x)
        return Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(max(y.count, 1))
    }
}

/// Area under the ROC curve of `scores` for binary `labels` (1 positive), by the
/// Mann–Whitney statistic with ties counted one half. 0.5 when a class is absent.
public func rocAUC(scores: [Float], labels: [Int]) -> Double {
    let ranks = averageRanks(scores).map { $0 + 1 }
    let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
    guard positives > 0 && negatives > 0 else { return 0.5 }
    let rankSum = zip(ranks, labels).reduce(0.0) { $0 + ($1.1 == 1 ? $1.0 : 0) }
    return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
}
