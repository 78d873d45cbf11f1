import Foundation
import Metrics

/// Binary logistic regression with an L1 penalty (the lasso for classification),
/// fitted by FISTA (Beck & Teboulle 2009) on standardised features.
///
/// Concretely: minimise `(1/N) Σ_i [log(1 + e^{s_i}) − y_i s_i] + λ‖w‖₁`, `s_i = x̃_i·w + b`,
/// with `x̃ = (x − mean)/std`; the bias is not penalised. Soft-thresholding
/// `S_λη(v) = sign(v)·max(|v| − λη, 0)` zeroes features that do not help, so the
/// surviving coefficients read as "which factors matter". Shapes: `X [N, D]`, `y ∈ {0,1}ᴺ`.
public struct SparseLogisticRegression: Sendable, Codable, Equatable, Classifier {
    /// Penalty λ.
    public let lambda: Double
    /// Coefficients on standardised features `[D]` and the bias.
    public private(set) var weights: [Double], bias: Double
    /// Standardisation used (training mean and standard deviation per feature).
    public let mean: [Double], scale: [Double]

    /// Fits on rows `x` (`N × D`) with binary labels `y`.
    public init(x: [Float], featureCount d: Int, y: [Int], lambda: Double, iterations: Int = 500) {
        precondition(x.count == y.count * d && d > 0, "SparseLogisticRegression: \(x.count) values for \(y.count) rows of \(d)")
        precondition(y.allSatisfy { $0 == 0 || $0 == 1 }, "SparseLogisticRegression: labels must be 0 or 1")
        let n = y.count
        mean = (0..<d).map { j in stride(from: j, to: x.count, by: d).reduce(0.0) { $0 + Double(x[$1]) } / Double(n) }
        let m = mean
        scale = (0..<d).map { j in
            let v = stride(from: j, to: x.count, by: d).reduce(0.0) { $0 + pow(Double(x[$1]) - m[j], 2) } / Double(n)
            return v > 1e-12 ? v.squareRoot() : 1
        }
        self.lambda = lambda
        let z = SparseLogisticRegression.standardize(x, d, mean, scale)
        let step = 1 / (0.25 * Double(d + 1))
        // Start at w = 0 with the bias at its optimum for w = 0, log(ȳ/(1 − ȳ)).
        let yBar = min(max(Double(y.reduce(0, +)) / Double(max(n, 1)), 1e-6), 1 - 1e-6)
        var w = [Double](repeating: 0, count: d), b = log(yBar / (1 - yBar))
        var vw = w, vb = b, t = 1.0
        for _ in 0..<iterations {
            var gw = [Double](repeating: 0, count: d), gb = 0.0
            for i in 0..<n {
                var s = vb
                for j in 0..<d { s += z[i * d + j] * vw[j] }
                let r = 1 / (1 + exp(-s)) - Double(y[i])
                for j in 0..<d { gw[j] += r * z[i * d + j] / Double(n) }
                gb += r / Double(n)
            }
            let previous = w
            for j in 0..<d {
                let u = vw[j] - step * gw[j]
                w[j] = u > 0 ? max(u - step * lambda, 0) : min(u + step * lambda, 0)
            }
            let bPrevious = b
            b = vb - step * gb
            let tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
            for j in 0..<d { vw[j] = w[j] + (t - 1) / tNext * (w[j] - previous[j]) }
            vb = b + (t - 1) / tNext * (b - bPrevious)
            t = tNext
        }
        weights = w
        bias = b
    }

    static func standardize(_ x: [Float], _ d: Int, _ mean: [Double], _ scale: [Double]) -> [Double] {
        (0..<x.count).map { (Double(x[$0]) - mean[$0 % d]) / scale[$0 % d] }
    }

    /// P(y = 1) per row of `x` (`N × D`).
    public func probabilities(_ x: [Float]) -> [Double] {
        let d = weights.count
        let z = SparseLogisticRegression.standardize(x, d, mean, scale)
        return (0..<(x.count / d)).map { i in
            var s = bias
            for j in 0..<d { s += z[i * d + j] * weights[j] }
            return 1 / (1 + exp(-s))
        }
    }

    /// Binary: K = 2.
    public var classCount: Int { 2 }

    /// `[1 − p, p]` per row (``Classifier``), p = P(y = 1).
    public func classProbabilities(_ x: [Float]) -> [[Double]] { probabilities(x).map { [1 - $0, $0] } }

    /// Class 1 where P(y = 1) ≥ ½.
    public func predict(_ x: [Float]) -> [Int] { probabilities(x).map { $0 >= 0.5 ? 1 : 0 } }

    /// The log-odds `b + Σ_j w_j·x̃_j` of one row (`D` values).
    public func logOdds(_ row: [Float]) -> Double { contributions(row).reduce(bias, +) }

    /// Per-feature contributions `w_j·x̃_j` to the log-odds of one row (the bias is separate).
    public func contributions(_ row: [Float]) -> [Double] {
        (0..<weights.count).map { weights[$0] * (Double(row[$0]) - mean[$0]) / scale[$0] }
    }

    /// The regularisation path: `count` penalties from `λ_max = max_j |X̃ᵀ(y − ȳ)|/N` (where every
    /// coefficient is zero) down to `λ_max·minimumRatio`, geometrically; one fit per λ.
    public static func path(x: [Float], featureCount d: Int, y: [Int], count: Int = 20,
                            minimumRatio: Double = 1e-3) -> [SparseLogisticRegression] {
        let n = y.count
        let probe = SparseLogisticRegression(x: x, featureCount: d, y: y, lambda: .infinity, iterations: 0)
        let z = standardize(x, d, probe.mean, probe.scale)
        let yBar = Double(y.reduce(0, +)) / Double(n)
        var lambdaMax = 0.0
        for j in 0..<d {
            var g = 0.0
            for i in 0..<n { g += z[i * d + j] * (Double(y[i]) - yBar) }
            lambdaMax = max(lambdaMax, abs(g) / Double(n))
        }
        lambdaMax *= 1 + 1e-6 // just above the tie, so rounding cannot leave a coefficient of 1e-17
        return (0..<count).map { k in
            let lambda = lambdaMax * pow(minimumRatio, Double(k) / Double(max(count - 1, 1)))
            return SparseLogisticRegression(x: x, featureCount: d, y: y, lambda: lambda)
        }
    }
}
