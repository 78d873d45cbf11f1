import Foundation
import TensorCore

/// LIME (Ribeiro, Singh & Guestrin 2016, "Why Should I Trust You?": Explaining the Predictions of
/// Any Classifier) over square superpixels, as Captum's `Lime` (`captum/attr/_core/lime.py`) with
/// its defaults:
///
/// - **Features**: the image is cut into K = ⌈H/`cell`⌉·⌈W/`cell`⌉ squares of `cell`×`cell`
///   pixels (all channels together) — Captum's `feature_mask`, here a regular grid rather than a
///   segmentation, so the explanation does not depend on a segmenter's settings.
/// - **Samples**: `samples` binary vectors z ∈ {0, 1}^K, each feature kept with probability ½
///   (Captum's `default_perturb_func`); the perturbed image x′ keeps the pixels of kept features
///   and sets the others to the baseline 0 (`default_from_interp_rep_transform`).
/// - **Weights**: π(x, x′) = exp(−d² / (2w²)) with the cosine distance d = 1 − ⟨x, x′⟩ / (‖x‖‖x′‖)
///   (0 similarity when either norm is 0, as torch's `CosineSimilarity` with its ε) and kernel
///   width w = `kernelWidth` = 1 (`get_exp_kernel_similarity_function("cosine", 1.0)`).
/// - **Surrogate**: a weighted Lasso, scikit-learn's objective (Captum's `SkLearnLasso(alpha=0.01)`)
///   min_{b, β} (1 / (2Σπ)) Σᵢ πᵢ (yᵢ − b − zᵢᵀβ)² + α‖β‖₁, intercept b free, yᵢ = s(x′ᵢ) the
///   model's one score (``ExplainedModel/values``), solved by cyclic coordinate descent on the
///   weighted-centred problem.
/// - **Output** `[B, C, H, W]`: every pixel (every channel) of feature k carries β_k (Captum's
///   `return_input_shape=True`), signed: positive where keeping the square raises the score.
///
/// Needs only scores (no gradients), so it explains trees too. Cost: `samples` model evaluations
/// per image, in one batch per image.
public struct LimeAttribution: Attribution {
    /// Perturbed samples per image, the superpixel side in pixels, the Lasso's α and the kernel width.
    public var samples: Int, cell: Int, alpha: Double, kernelWidth: Double
    public var name: String { "lime" }

    /// 200 samples (three per feature on 64×64 images; Captum's example default is 25, the `lime`
    /// package's 1,000) of 8×8 squares; α 0.01 and width 1 as Captum.
    public init(samples: Int = 200, cell: Int = 8, alpha: Double = 0.01, kernelWidth: Double = 1) {
        self.samples = samples; self.cell = cell; self.alpha = alpha; self.kernelWidth = kernelWidth
    }

    public func applies(to model: ExplainedModel) -> Bool { model.values != nil }

    /// The superpixel of each pixel of an `height`×`width` plane (row-major cells), and K.
    public func featureMask(height: Int, width: Int) -> (mask: [Int], count: Int) {
        let columns = (width + cell - 1) / cell, rows = (height + cell - 1) / cell
        return ((0..<(height * width)).map { p in (p / width / cell) * columns + (p % width) / cell }, rows * columns)
    }

    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        precondition(x.shape.count == 4, "LIME explains images [B, C, H, W]")
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let size = c * h * w, plane = h * w
        let (mask, k) = featureMask(height: h, width: w)
        var out = [Float](repeating: 0, count: x.count)
        guard samples > 0 else { return Tensor(shape: x.shape, scalars: out) }
        for i in 0..<b {
            let image = Array(x.scalars[(i * size)..<((i + 1) * size)])
            let norm = sqrt(image.reduce(0.0) { $0 + Double($1) * Double($1) })
            var z = [Double](repeating: 0, count: samples * k)
            var perturbed = [Float](repeating: 0, count: samples * size)
            var weights = [Double](repeating: 0, count: samples)
            for s in 0..<samples {
                for f in 0..<k { z[s * k + f] = rng.uniformDouble() < 0.5 ? 1 : 0 }
                var dot = 0.0 // ⟨x, x′⟩ = ‖x′‖²: x′ is x on the kept squares, 0 elsewhere
                for p in 0..<size where z[s * k + mask[p % plane]] == 1 {
                    perturbed[s * size + p] = image[p]
                    dot += Double(image[p]) * Double(image[p])
                }
                let kept = dot.squareRoot()
                let cosine = norm > 0 && kept > 0 ? dot / (norm * kept) : 0
                let distance = 1 - cosine
                weights[s] = exp(-distance * distance / (2 * kernelWidth * kernelWidth))
            }
            let y = model.values!(Tensor(shape: [samples, c, h, w], scalars: perturbed))
            let beta = LimeAttribution.weightedLasso(z, rows: samples, columns: k, y: y, weights: weights, alpha: alpha)
            for p in 0..<size { out[i * size + p] = Float(beta[mask[p % plane]]) }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// The coefficients β of scikit-learn's weighted Lasso with an intercept,
    /// min (1 / (2Σπ)) Σᵢ πᵢ (yᵢ − b − Xᵢβ)² + α‖β‖₁, for X `[rows, columns]` row-major: the
    /// weighted means are removed from X and y (which fits b), rows are scaled by √(πᵢ / Σπ), and
    /// cyclic coordinate descent updates β_j = S(⟨X̃_j, r + X̃_j β_j⟩, α) / ‖X̃_j‖² (S the soft
    /// threshold) until no coefficient moves by more than `tolerance` · max|β| (at most `maxSweeps`
    /// sweeps; scikit-learn's defaults 1e-4 and 1,000).
    public static func weightedLasso(_ x: [Double], rows: Int, columns: Int, y: [Double], weights: [Double], alpha: Double,
                                     tolerance: Double = 1e-4, maxSweeps: Int = 1000) -> [Double] {
        let total = weights.reduce(0, +)
        guard rows > 0, columns > 0, total > 0 else { return [Double](repeating: 0, count: columns) }
        let scale = weights.map { ($0 / total).squareRoot() }
        let yMean = zip(y, weights).reduce(0.0) { $0 + $1.0 * $1.1 } / total
        var means = [Double](repeating: 0, count: columns)
        for r in 0..<rows { for j in 0..<columns { means[j] += weights[r] * x[r * columns + j] / total } }
        // Column-major scaled, centred design, and the residual r = ỹ − X̃β (β = 0 at the start).
        var design = [Double](repeating: 0, count: rows * columns)
        for j in 0..<columns { for r in 0..<rows { design[j * rows + r] = scale[r] * (x[r * columns + j] - means[j]) } }
        var residual = (0..<rows).map { scale[$0] * (y[$0] - yMean) }
        let squaredNorms = (0..<columns).map { j in (0..<rows).reduce(0.0) { $0 + design[j * rows + $1] * design[j * rows + $1] } }
        var beta = [Double](repeating: 0, count: columns)
        for _ in 0..<maxSweeps {
            var largestMove = 0.0, largest = 0.0
            for j in 0..<columns where squaredNorms[j] > 0 {
                let old = beta[j]
                var rho = 0.0
                for r in 0..<rows { rho += design[j * rows + r] * (residual[r] + design[j * rows + r] * old) }
                let new = (rho > alpha ? rho - alpha : rho < -alpha ? rho + alpha : 0) / squaredNorms[j]
                if new != old {
                    for r in 0..<rows { residual[r] -= design[j * rows + r] * (new - old) }
                    beta[j] = new
                }
                largestMove = max(largestMove, abs(new - old))
                largest = max(largest, abs(new))
            }
            if largestMove <= tolerance * max(largest, 1e-12) { break }
        }
        return beta
    }
}
