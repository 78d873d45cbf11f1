import Autodiff
import Foundation
import TensorCore

/// A differentiable model `images [B, C, H, W] → scores [B]` recorded on the images' tape.
public typealias ScoreFunction = (Variable) -> Variable

/// Pixel attribution methods over Untangle's autodiff (Captum's definitions and defaults:
/// `captum/attr/_core/*.py`). ``Attribution`` wraps each for ``AttributionRegistry``. Every method takes a batch `[B, C, H, W]` and returns
/// attributions of the same shape; batches of perturbed inputs run as one pass.
public enum Saliency {
    /// ∂F/∂x for each image (one backward pass for the batch: the scores are independent).
    /// Parameters are constants on this tape: no weight gradients are computed or accumulated.
    public static func gradient(_ f: ScoreFunction, _ x: Tensor) -> Tensor {
        let tape = Tape(parameterGradients: false)
        let input = tape.input(x)
        return tape.backward(from: f(input).sum())[input] ?? .zeros(x.shape)
    }

    /// Saliency (Simonyan et al. 2014): |∂F/∂x|.
    public static func absoluteGradient(_ f: ScoreFunction, _ x: Tensor) -> Tensor { gradient(f, x).map { Swift.abs($0) } }

    /// Input × gradient (Shrikumar et al. 2016): x ⊙ ∂F/∂x (signed).
    public static func inputTimesGradient(_ f: ScoreFunction, _ x: Tensor) -> Tensor { x * gradient(f, x) }

    /// What SmoothGrad averages.
    public enum SmoothGradKind: String, Sendable, CaseIterable { case mean = "smoothgrad", squared = "smoothgrad-sq", variance = "vargrad" }

    /// SmoothGrad (Smilkov et al. 2017): gradients at `samples` noisy copies x + N(0, σ²),
    /// σ = `noiseFraction`·(max − min) of each image; the mean, the mean of squares, or the variance.
    public static func smoothGrad(_ f: @escaping ScoreFunction, _ x: Tensor, samples: Int = 10, noiseFraction: Float = 0.15,
                                  kind: SmoothGradKind = .mean, rng: inout RandomGenerator) -> Tensor {
        NoiseTunnel(SignedGradientAttribution(), kind: kind, samples: samples, noiseFraction: noiseFraction)
            .attribute(ExplainedModel(name: "", score: f), x, rng: &rng)
    }

    /// Quadrature rules for Integrated Gradients.
    public enum Quadrature: String, Sendable, CaseIterable {
        case gaussLegendre = "gausslegendre", riemannLeft = "riemann-left", riemannRight = "riemann-right"
        case riemannMiddle = "riemann-middle", riemannTrapezoid = "riemann-trapezoid"

        /// Nodes α ∈ [0, 1] and weights (summing to 1) for `n` steps (Captum's `approximation_methods`).
        public func nodes(_ n: Int) -> (alphas: [Double], weights: [Double]) {
            switch self {
            case .gaussLegendre:
                let (x, w) = Saliency.legendreNodes(n)
                return (x.map { ($0 + 1) / 2 }, w.map { $0 / 2 })
            case .riemannLeft: return ((0..<n).map { Double($0) / Double(n) }, Array(repeating: 1 / Double(n), count: n))
            case .riemannRight: return ((1...n).map { Double($0) / Double(n) }, Array(repeating: 1 / Double(n), count: n))
            case .riemannMiddle: return ((0..<n).map { (Double($0) + 0.5) / Double(n) }, Array(repeating: 1 / Double(n), count: n))
            case .riemannTrapezoid:
                let alphas = (0..<n).map { Double($0) / Double(max(n - 1, 1)) }
                var w = Array(repeating: 1 / Double(max(n - 1, 1)), count: n)
                w[0] /= 2; w[n - 1] /= 2
                return (alphas, w)
            }
        }
    }

    /// Gauss–Legendre nodes and weights on [−1, 1] (Newton iteration on the Legendre polynomial Pₙ,
    /// from the recurrence k·P_k = (2k − 1)·z·P_{k−1} − (k − 1)·P_{k−2}).
    public static func legendreNodes(_ n: Int) -> ([Double], [Double]) {
        precondition(n >= 1, "legendreNodes: need at least one node")
        var x = [Double](repeating: 0, count: n), w = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var z = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 1.0
            for _ in 0..<100 {
                var current = 1.0, previous = 0.0
                for k in 1...n {
                    let next = ((2 * Double(k) - 1) * z * current - (Double(k) - 1) * previous) / Double(k)
                    previous = current
                    current = next
                }
                derivative = Double(n) * (z * current - previous) / (z * z - 1)
                let step = current / derivative
                z -= step
                if Swift.abs(step) < 1e-15 { break }
            }
            x[n - 1 - i] = z
            w[n - 1 - i] = 2 / ((1 - z * z) * derivative * derivative)
        }
        return (x, w)
    }

    /// Integrated Gradients (Sundararajan et al. 2017): `(x − x′) ⊙ Σ_i w_i ∇F(x′ + α_i(x − x′))`,
    /// baseline x′ = 0, `steps` nodes of `rule`; all steps of one image run as one batch. Returns the
    /// attributions and the convergence delta `δ = Σ attr − (F(x) − F(x′))` per image.
    public static func integratedGradients(_ f: ScoreFunction, _ x: Tensor, steps: Int = 50,
                                           rule: Quadrature = .gaussLegendre) -> (attributions: Tensor, delta: [Double]) {
        let b = x.shape[0], size = x.count / max(b, 1), imageShape = Array(x.shape.dropFirst())
        let (alphas, weights) = rule.nodes(steps)
        var attributions = Tensor.zeros(x.shape)
        var deltas: [Double] = []
        for i in 0..<b {
            let image = Array(x.scalars[(i * size)..<((i + 1) * size)])
            let path = Tensor(shape: [steps] + imageShape, scalars: alphas.flatMap { a in image.map { Float(a) * $0 } })
            let g = gradient(f, path)
            var total = 0.0
            for k in 0..<size {
                var s = 0.0
                for t in 0..<steps { s += weights[t] * Double(g.scalars[t * size + k]) }
                let a = Double(image[k]) * s
                attributions.scalars[i * size + k] = Float(a)
                total += a
            }
            let tape = Tape(recording: false)
            let ends = f(tape.constant(Tensor(shape: [2] + imageShape, scalars: image + [Float](repeating: 0, count: size)))).value
            deltas.append(total - (Double(ends.scalars[0]) - Double(ends.scalars[1])))
        }
        return (attributions, deltas)
    }

    /// The scores of one image `[1, C, H, W]` (first) and of its copies with a `window × window`
    /// square at each of `positions` (row, column) set to `baseline` — a model's own fast way
    /// to occlude (``PixelCNN/occludedLogits(_:window:positions:baseline:)``).
    public typealias OccludedScores = (_ image: Tensor, _ window: Int, _ positions: [(Int, Int)], _ baseline: Float) -> [Double]

    /// Occlusion (Zeiler & Fergus 2014): slide a `window × window` patch (stride `stride`, set to
    /// `baseline`) over each image; a pixel's score is the mean over the windows covering it of
    /// F(x) − F(x with the window occluded). `score` needs no gradients (works for trees); all
    /// windows of an image are scored as one batch, or by `occluded` when the model has it.
    public static func occlusion(_ score: (Tensor) -> [Double], _ x: Tensor, window: Int = 8, stride: Int = 4,
                                 baseline: Float = 0, occluded: OccludedScores? = nil) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let size = c * h * w
        let starts = { (n: Int) in Array(Swift.stride(from: 0, through: n - window, by: stride)) }
        let positions = starts(h).flatMap { y in starts(w).map { (y, $0) } }
        var out = Tensor.zeros(x.shape)
        for i in 0..<b {
            let image = Array(x.scalars[(i * size)..<((i + 1) * size)])
            let scores: [Double]
            if let occluded {
                scores = occluded(Tensor(shape: [1, c, h, w], scalars: image), window, positions, baseline)
            } else {
                var batch = image
                for (y0, x0) in positions {
                    var copy = image
                    for ch in 0..<c { for y in y0..<(y0 + window) { for xx in x0..<(x0 + window) { copy[(ch * h + y) * w + xx] = baseline } } }
                    batch += copy
                }
                scores = score(Tensor(shape: [positions.count + 1, c, h, w], scalars: batch))
            }
            var sum = [Double](repeating: 0, count: h * w), count = [Double](repeating: 0, count: h * w)
            for (k, (y0, x0)) in positions.enumerated() {
                let drop = scores[0] - scores[k + 1]
                for y in y0..<(y0 + window) { for xx in x0..<(x0 + window) { sum[y * w + xx] += drop; count[y * w + xx] += 1 } }
            }
            for ch in 0..<c { for p in 0..<(h * w) { out.scalars[i * size + ch * h * w + p] = count[p] > 0 ? Float(sum[p] / count[p]) : 0 } }
        }
        return out
    }

    /// Grad-CAM (Selvaraju et al. 2017) on a convolutional layer: with activations A `[B, K, h, w]`
    /// from `features(x)` and the score from `head(A)`, channel weights are the spatial means of
    /// ∂F/∂A; the map ReLU(Σ_k w_k A_k) is upsampled (nearest) to the image size. Shape `[B, 1, H, W]`.
    public static func gradCAM(features: (Variable) -> Variable, head: ScoreFunction, _ x: Tensor) -> Tensor {
        let activations = features(Tape(recording: false).constant(x)).value
        let tape = Tape(parameterGradients: false)
        let a = tape.input(activations)
        let g = tape.backward(from: head(a).sum())[a] ?? .zeros(activations.shape)
        let (b, k, h, w) = (activations.shape[0], activations.shape[1], activations.shape[2], activations.shape[3])
        let (bigH, bigW) = (x.shape[2], x.shape[3])
        var out = Tensor.zeros([b, 1, bigH, bigW])
        for i in 0..<b {
            var cam = [Float](repeating: 0, count: h * w)
            for c in 0..<k {
                let base = (i * k + c) * h * w
                var weight: Float = 0
                for p in 0..<(h * w) { weight += g.scalars[base + p] }
                weight /= Float(h * w)
                for p in 0..<(h * w) { cam[p] += weight * activations.scalars[base + p] }
            }
            for y in 0..<bigH { for xx in 0..<bigW {
                out.scalars[(i * bigH + y) * bigW + xx] = max(0, cam[(y * h / bigH) * w + xx * w / bigW])
            } }
        }
        return out
    }
}
