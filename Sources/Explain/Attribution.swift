import Autodiff
import Foundation
import TensorCore

/// What a model's one score is. Every attribution method explains that score, and the
/// deletion/insertion curves read it through its link to a probability, so that a map and its
/// evaluation are always about the same function.
public enum ScoreKind: String, Sendable, CaseIterable {
    /// s = log P(c) − log(1 − P(c)) for the class of interest c (the pixel CNN, the factor
    /// logistic model); P = σ(s).
    case logOdds = "log-odds"
    /// s = P(c) itself (models without gradients, e.g. the decision tree: a step function).
    case probability
    /// s = one latent's posterior mean (no class, so no probability and no deletion curve).
    case latentMean = "latent mean"
}

/// What a model offers the attribution methods that explain it (Captum's `forward_func` and
/// layers). Each method uses what it needs and skips a model that lacks it.
///
/// A model has **one** score s (`scored` says which kind): gradient and path methods
/// differentiate `score`, perturbation methods (occlusion) difference `values` — the same s
/// without gradients — and deletion/insertion follow ``probability``, the probability of the
/// class of interest derived from s (σ(s) for log-odds). Captum leaves this choice to the
/// caller; here it is fixed per model and written beside every result.
public struct ExplainedModel {
    /// The model's name in tables (`cnn`, `factor-logistic`, `latent:size`).
    public var name: String
    /// What the score is.
    public var scored: ScoreKind
    /// The differentiable score `[B]` of images `[B, C, H, W]` (nil for models without gradients).
    public var score: ScoreFunction?
    /// The same score without gradients, `[B]` (perturbation methods; also works for trees).
    public var values: ((Tensor) -> [Double])?
    /// The model's own incremental way to score occluded copies of an image (the same score as
    /// `values`), used by occlusion when present.
    public var occluded: Saliency.OccludedScores?
    /// A convolutional layer and the head on top of it (the same score), for Grad-CAM.
    public var layer: (features: (Variable) -> Variable, head: ScoreFunction)?
    /// For a model that decides on an autoencoder's codes: images `[B, C, H, W]` → their decoded
    /// codes D(E(x)) and decoded counterfactual codes D(z′), both `[B, C, H, W]` (``LatentShiftAttribution``).
    public var latentShift: ((Tensor) -> (reconstruction: Tensor, counterfactual: Tensor))?

    /// A model with score kind `scored`; `values` defaults to `score` evaluated without a tape
    /// (in batches of 256).
    public init(name: String, scored: ScoreKind = .logOdds, score: ScoreFunction? = nil, values: ((Tensor) -> [Double])? = nil,
                occluded: Saliency.OccludedScores? = nil, layer: (features: (Variable) -> Variable, head: ScoreFunction)? = nil,
                latentShift: ((Tensor) -> (reconstruction: Tensor, counterfactual: Tensor))? = nil) {
        self.name = name; self.scored = scored; self.score = score; self.occluded = occluded; self.layer = layer
        self.latentShift = latentShift
        self.values = values ?? score.map { f in { x in ExplainedModel.evaluate(f, x) } }
    }

    /// `f` on `x` in no-grad batches of 256, as doubles.
    static func evaluate(_ f: ScoreFunction, _ x: Tensor) -> [Double] {
        stride(from: 0, to: x.shape[0], by: 256).flatMap { start in
            f(Tape(recording: false).constant(x.slice(axis: 0, start..<min(x.shape[0], start + 256)))).value.scalars.map(Double.init)
        }
    }

    /// P(class of interest) of images `[B, C, H, W]` from the score: σ(s) for log-odds, s for a
    /// probability, nil for a latent mean.
    public var probability: ((Tensor) -> [Double])? {
        guard let values else { return nil }
        switch scored {
        case .logOdds: return { x in values(x).map { 1 / (1 + exp(-$0)) } }
        case .probability: return values
        case .latentMean: return nil
        }
    }
}

/// One pixel attribution method (Captum's `Attribution`): images `[B, C, H, W]` → attributions
/// of the same shape (Grad-CAM: `[B, 1, H, W]`). Adding a method is one type conforming to this
/// protocol and one line in ``AttributionRegistry/all``.
public protocol Attribution: Sendable {
    /// The method's name in tables and on the command line.
    var name: String { get }
    /// Whether the method can explain `model` (it has what the method needs).
    func applies(to model: ExplainedModel) -> Bool
    /// The attributions of `model`'s decision on `x`; `rng` for methods that sample.
    func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor
    /// Completeness error per image, `Σ attr − (F(x) − F(baseline))`, for path methods; nil otherwise.
    func convergenceDelta(_ model: ExplainedModel, _ x: Tensor) -> [Double]?
}

extension Attribution {
    public func convergenceDelta(_ model: ExplainedModel, _ x: Tensor) -> [Double]? { nil }
}

/// Saliency (Simonyan et al. 2014): |∂F/∂x| (Captum `Saliency`, `abs=True`).
public struct GradientAttribution: Attribution {
    public var name: String { "gradient" }
    public init() {}
    public func applies(to model: ExplainedModel) -> Bool { model.score != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.absoluteGradient(model.score!, x)
    }
}

/// The signed gradient ∂F/∂x (Captum `Saliency`, `abs=False`): the base of SmoothGrad.
public struct SignedGradientAttribution: Attribution {
    public var name: String { "signed-gradient" }
    public init() {}
    public func applies(to model: ExplainedModel) -> Bool { model.score != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.gradient(model.score!, x)
    }
}

/// Input × gradient (Shrikumar et al. 2016): x ⊙ ∂F/∂x, signed (Captum `InputXGradient`).
public struct InputTimesGradientAttribution: Attribution {
    public var name: String { "input-x-gradient" }
    public init() {}
    public func applies(to model: ExplainedModel) -> Bool { model.score != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.inputTimesGradient(model.score!, x)
    }
}

/// Integrated Gradients (Sundararajan et al. 2017) with baseline 0 and `steps` nodes of `rule`
/// (Captum `IntegratedGradients`, `method="gausslegendre"` by default).
public struct IntegratedGradientsAttribution: Attribution {
    public var rule: Saliency.Quadrature, steps: Int
    public var name: String { "ig-\(rule.rawValue)" }
    public init(rule: Saliency.Quadrature = .gaussLegendre, steps: Int = 50) { self.rule = rule; self.steps = steps }
    public func applies(to model: ExplainedModel) -> Bool { model.score != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.integratedGradients(model.score!, x, steps: steps, rule: rule).attributions
    }
    public func convergenceDelta(_ model: ExplainedModel, _ x: Tensor) -> [Double]? {
        Saliency.integratedGradients(model.score!, x, steps: steps, rule: rule).delta
    }
}

/// Occlusion (Zeiler & Fergus 2014) of the model's score (``ExplainedModel/values``: the same s
/// the gradient methods differentiate): an 8×8 zero patch at stride 4 (Captum `Occlusion`);
/// needs no gradients.
public struct OcclusionAttribution: Attribution {
    public var window: Int, stride: Int
    public var name: String { "occlusion" }
    public init(window: Int = 8, stride: Int = 4) { self.window = window; self.stride = stride }
    public func applies(to model: ExplainedModel) -> Bool { model.values != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.occlusion(model.values!, x, window: window, stride: stride, occluded: model.occluded)
    }
}

/// Grad-CAM (Selvaraju et al. 2017) on the model's convolutional layer (Captum `LayerGradCam`
/// with nearest upsampling).
public struct GradCAMAttribution: Attribution {
    public var name: String { "grad-cam" }
    public init() {}
    public func applies(to model: ExplainedModel) -> Bool { model.layer != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.gradCAM(features: model.layer!.features, head: model.layer!.head, x)
    }
}

/// Captum's `NoiseTunnel` around any attribution method: the base attributions at `samples`
/// noisy copies x + N(0, σ²), σ = `noiseFraction` · (max − min) of each image, reduced as
/// their mean (SmoothGrad, Smilkov et al. 2017), mean of squares (SmoothGrad²) or variance
/// (VarGrad, Adebayo et al. 2018).
public struct NoiseTunnel: Attribution {
    public var base: any Attribution, kind: Saliency.SmoothGradKind, samples: Int, noiseFraction: Float
    /// `smoothgrad`, `smoothgrad-sq`, `vargrad` over the signed gradient; `<kind>(<base>)` otherwise.
    public var name: String { base is SignedGradientAttribution ? kind.rawValue : "\(kind.rawValue)(\(base.name))" }

    public init(_ base: any Attribution = SignedGradientAttribution(), kind: Saliency.SmoothGradKind = .mean, samples: Int = 10,
                noiseFraction: Float = 0.15) {
        self.base = base; self.kind = kind; self.samples = samples; self.noiseFraction = noiseFraction
    }

    public func applies(to model: ExplainedModel) -> Bool { base.applies(to: model) }

    /// All `samples` noisy copies of the batch go through the base method as one batch of
    /// `samples · B` images (Captum's `nt_samples_batch_size=None`): one forward and backward.
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        let b = x.shape[0], size = x.count / max(b, 1)
        guard samples > 0, b > 0 else { return .zeros(x.shape) }
        let sigmas = (0..<b).map { i -> Float in
            let slice = x.scalars[(i * size)..<((i + 1) * size)]
            return noiseFraction * ((slice.max() ?? 0) - (slice.min() ?? 0))
        }
        // Sample t's noise is one N(0, 1) tensor [B, C, H, W] (Box–Muller pairs) from the t-th
        // fork of one stream drawn from `rng`: the samples are generated in parallel and the
        // maps do not depend on the thread count.
        let stream = rng.split()
        var noisy = [Float](repeating: 0, count: samples * b * size)
        noisy.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer.baseAddress!
            Parallel.forEach(samples) { t in
                var g = stream.fork(UInt64(t))
                let draws = g.normal([b * size]).scalars
                for i in 0..<b {
                    for k in 0..<size { out[(t * b + i) * size + k] = x.scalars[i * size + k] + sigmas[i] * draws[i * size + k] }
                }
            }
        }
        let a = base.attribute(model, Tensor(shape: [samples * b] + Array(x.shape.dropFirst()), scalars: noisy), rng: &rng)
        let outSize = a.count / (samples * b)
        var sum = [Double](repeating: 0, count: b * outSize), sumSquares = sum
        for t in 0..<samples {
            for j in 0..<(b * outSize) {
                let v = Double(a.scalars[t * b * outSize + j])
                sum[j] += v
                sumSquares[j] += v * v
            }
        }
        let n = Double(samples), outShape = [b] + Array(a.shape.dropFirst())
        switch kind {
        case .mean: return Tensor(shape: outShape, scalars: sum.map { Float($0 / n) })
        case .squared: return Tensor(shape: outShape, scalars: sumSquares.map { Float($0 / n) })
        case .variance: return Tensor(shape: outShape, scalars: zip(sum, sumSquares).map { Float($1 / n - ($0 / n) * ($0 / n)) })
        }
    }
}

/// Every attribution method `compare` runs, in table order; each is tried on every model it
/// applies to (``Attribution/applies(to:)``).
public enum AttributionRegistry {
    /// The methods.
    public static let all: [any Attribution] = [
        GradientAttribution(),
        InputTimesGradientAttribution(),
        NoiseTunnel(kind: .mean),
        NoiseTunnel(kind: .squared),
        NoiseTunnel(kind: .variance),
        IntegratedGradientsAttribution(rule: .gaussLegendre),
        IntegratedGradientsAttribution(rule: .riemannMiddle),
        OcclusionAttribution(),
        LimeAttribution(),
        GradCAMAttribution(),
        LatentShiftAttribution(),
    ]

    /// The methods with these names, in registry order (unknown names are ignored).
    public static func named(_ names: Set<String>) -> [any Attribution] { all.filter { names.contains($0.name) } }

    /// "gradient, input-x-gradient, …" for help texts.
    public static var helpText: String { all.map(\.name).joined(separator: ", ") }
}
