import Autodiff
import Foundation
import TensorCore

/// What a model offers the attribution methods that explain it (Captum's `forward_func` and
/// layers). Each method uses what it needs and skips a model that lacks it.
public struct ExplainedModel {
    /// The model's name in tables (`cnn`, `factor-logistic`, `latent:size`).
    public var name: String
    /// Differentiable score `[B]` (the log-odds of the class of interest, or a latent's mean):
    /// what gradient and path methods differentiate.
    public var score: ScoreFunction?
    /// P(class of interest) for images `[B, C, H, W]`, for perturbation methods and the
    /// deletion/insertion curves (works for models without gradients, e.g. trees).
    public var probability: ((Tensor) -> [Double])?
    /// A convolutional layer and the head on top of it, for Grad-CAM.
    public var layer: (features: (Variable) -> Variable, head: ScoreFunction)?
    /// For a model that decides on an autoencoder's codes: images `[B, C, H, W]` → their decoded
    /// codes D(E(x)) and decoded counterfactual codes D(z′), both `[B, C, H, W]` (``LatentShiftAttribution``).
    public var latentShift: ((Tensor) -> (reconstruction: Tensor, counterfactual: Tensor))?

    public init(name: String, score: ScoreFunction? = nil, probability: ((Tensor) -> [Double])? = nil,
                layer: (features: (Variable) -> Variable, head: ScoreFunction)? = nil,
                latentShift: ((Tensor) -> (reconstruction: Tensor, counterfactual: Tensor))? = nil) {
        self.name = name; self.score = score; self.probability = probability; self.layer = layer; self.latentShift = latentShift
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

/// Occlusion (Zeiler & Fergus 2014) of P(class of interest): an 8×8 zero patch at stride 4
/// (Captum `Occlusion`); needs no gradients.
public struct OcclusionAttribution: Attribution {
    public var window: Int, stride: Int
    public var name: String { "occlusion" }
    public init(window: Int = 8, stride: Int = 4) { self.window = window; self.stride = stride }
    public func applies(to model: ExplainedModel) -> Bool { model.probability != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        Saliency.occlusion(model.probability!, x, window: window, stride: stride)
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

    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        let b = x.shape[0], size = x.count / max(b, 1)
        var sum: Tensor?, sumSquares: Tensor?
        for _ in 0..<samples {
            var noisy = x
            for i in 0..<b {
                let slice = x.scalars[(i * size)..<((i + 1) * size)]
                let sigma = noiseFraction * ((slice.max() ?? 0) - (slice.min() ?? 0))
                for k in 0..<size { noisy.scalars[i * size + k] += sigma * rng.normal() }
            }
            let a = base.attribute(model, noisy, rng: &rng)
            sum = sum.map { $0 + a } ?? a
            sumSquares = sumSquares.map { $0 + a * a } ?? a * a
        }
        let n = Float(samples)
        guard let sum, let sumSquares else { return .zeros(x.shape) }
        switch kind {
        case .mean: return sum * (1 / n)
        case .squared: return sumSquares * (1 / n)
        case .variance: return sumSquares * (1 / n) - (sum * (1 / n)) * (sum * (1 / n))
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
        GradCAMAttribution(),
        LatentShiftAttribution(),
    ]

    /// The methods with these names, in registry order (unknown names are ignored).
    public static func named(_ names: Set<String>) -> [any Attribution] { all.filter { names.contains($0.name) } }

    /// "gradient, input-x-gradient, …" for help texts.
    public static var helpText: String { all.map(\.name).joined(separator: ", ") }
}
