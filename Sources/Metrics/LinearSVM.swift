import Foundation

/// A one-feature linear support vector classifier as scikit-learn's
/// `LinearSVC(C=…, class_weight="balanced")` (liblinear's L2-regularised squared-hinge loss),
/// the classifier disentanglement_lib's SAP fits on every single latent.
///
/// Concretely, for a binary problem with targets t_i = ±1 and per-sample costs C_i, liblinear
/// minimises over θ = (w, b) — the intercept is a feature of constant value 1
/// (`intercept_scaling = 1`) and is penalised like the weight:
/// `f(θ) = ½(w² + b²) + Σ_i C_i · max(0, 1 − t_i(w·x_i + b))²`.
/// f is convex with a Lipschitz gradient; it is minimised here by generalised Newton steps
/// (Hessian `I + 2 Σ_{active} C_i u_i u_iᵀ`, u_i = (x_i, 1)) with Armijo backtracking, to
/// `‖∇f‖ ≤ 1e-10·(1 + Σ C_i)` — the exact optimum liblinear's dual solver approaches.
///
/// Multiclass: one-vs-rest, K problems; the predicted class is the one with the largest
/// decision value `w_c·x + b_c`; two classes use one problem (class 1 positive). Costs as
/// liblinear's `train` with scikit-learn's balanced weights `ω_k = N/(K·n_k)`: in the binary
/// problem C_i = C·ω_{y_i}; in the one-vs-rest problem of class c, positives cost C·ω_c and
/// all others C (liblinear weights only the positive side there).
public struct LinearSVM: Sendable {
    /// `(w, b)` per one-vs-rest problem (one problem for two classes).
    public let coefficients: [(weight: Double, bias: Double)]
    /// Number of classes K.
    public let classCount: Int

    /// Fits on values `x` with labels `y` in `0..<classCount`, penalty `C` (0.01 in dlib's SAP).
    public init(x: [Float], y: [Int], classCount k: Int, inverseRegularization c: Double = 0.01) {
        precondition(x.count == y.count && !y.isEmpty && k >= 2, "LinearSVM: \(x.count) values, \(y.count) labels, \(k) classes")
        precondition(y.allSatisfy { $0 >= 0 && $0 < k }, "LinearSVM: labels must lie in 0..<\(k)")
        classCount = k
        var counts = [Double](repeating: 0, count: k)
        for label in y { counts[label] += 1 }
        let n = Double(y.count)
        let omega = counts.map { $0 > 0 ? n / (Double(k) * $0) : 0 }
        let values = x.map(Double.init)
        if k == 2 {
            coefficients = [LinearSVM.solve(values, targets: y.map { $0 == 1 ? 1 : -1 }, costs: y.map { c * omega[$0] })]
        } else {
            coefficients = (0..<k).map { positive in
                LinearSVM.solve(values, targets: y.map { $0 == positive ? 1 : -1 }, costs: y.map { $0 == positive ? c * omega[positive] : c })
            }
        }
    }

    /// The minimiser of `½(w² + b²) + Σ C_i·max(0, 1 − t_i(w·x_i + b))²`.
    static func solve(_ x: [Double], targets t: [Double], costs: [Double]) -> (weight: Double, bias: Double) {
        func objective(_ w: Double, _ b: Double) -> Double {
            var f = 0.5 * (w * w + b * b)
            for i in x.indices {
                let margin = 1 - t[i] * (w * x[i] + b)
                if margin > 0 { f += costs[i] * margin * margin }
            }
            return f
        }
        let tolerance = 1e-10 * (1 + costs.reduce(0, +))
        var (w, b) = (0.0, 0.0)
        for _ in 0..<100 {
            // Gradient and generalised Hessian over the samples inside the margin.
            var gw = w, gb = b, hww = 1.0, hwb = 0.0, hbb = 1.0
            for i in x.indices {
                let margin = 1 - t[i] * (w * x[i] + b)
                guard margin > 0 else { continue }
                let s = 2 * costs[i]
                gw -= s * margin * t[i] * x[i]
                gb -= s * margin * t[i]
                hww += s * x[i] * x[i]; hwb += s * x[i]; hbb += s
            }
            if (gw * gw + gb * gb).squareRoot() <= tolerance { break }
            let det = hww * hbb - hwb * hwb
            let (dw, db) = ((hbb * gw - hwb * gb) / det, (hww * gb - hwb * gw) / det)
            // Armijo backtracking along the Newton direction −(dw, db).
            let f0 = objective(w, b), slope = gw * dw + gb * db
            var step = 1.0
            while step > 1e-12 && objective(w - step * dw, b - step * db) > f0 - 1e-4 * step * slope { step *= 0.5 }
            (w, b) = (w - step * dw, b - step * db)
        }
        return (w, b)
    }

    /// The predicted class of each value.
    public func predict(_ x: [Float]) -> [Int] {
        x.map { v in
            let value = Double(v)
            if classCount == 2 { return coefficients[0].weight * value + coefficients[0].bias > 0 ? 1 : 0 }
            return (0..<classCount).max { a, b in
                coefficients[a].weight * value + coefficients[a].bias < coefficients[b].weight * value + coefficients[b].bias
            }!
        }
    }
}
