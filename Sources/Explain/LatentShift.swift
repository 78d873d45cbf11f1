import Foundation
import TensorCore

/// Latent shift (Cohen et al. 2021, "Gifsplanation via Latent Shift: a simple autoencoder approach
/// to counterfactual generation for chest X-rays", MIDL): explain a classifier that decides on an
/// autoencoder's codes by moving the code until the decision flips and showing, per pixel, how
/// much the decoded image changes: `|D(z) − D(z′)|`, with `z = E(x)` and `z′` the counterfactual
/// code. It needs no gradient through the classifier, so it explains trees too, and by
/// construction it marks the pixels the deciding factors act on — the factor explanation,
/// projected back onto the image.
///
/// The model provides the pair (D(z), D(z′)) through ``ExplainedModel/latentShift``: for the
/// sparse logistic model z′ moves along the gradient of its log-odds to the mirror point
/// (log-odds −f(z), Cohen et al.'s shift direction), for the tree along its smallest single-factor
/// flip. Images without a counterfactual get a zero map. Output: `[B, C, H, W]`, non-negative.
public struct LatentShiftAttribution: Attribution {
    public var name: String { "latent-shift" }
    public init() {}
    public func applies(to model: ExplainedModel) -> Bool { model.latentShift != nil }
    public func attribute(_ model: ExplainedModel, _ x: Tensor, rng: inout RandomGenerator) -> Tensor {
        let (reconstruction, counterfactual) = model.latentShift!(x)
        precondition(reconstruction.shape == x.shape && counterfactual.shape == x.shape,
                     "latent shift: decoded images \(reconstruction.shape) / \(counterfactual.shape) for inputs \(x.shape)")
        return Tensor(shape: x.shape, scalars: zip(reconstruction.scalars, counterfactual.scalars).map { Swift.abs($0 - $1) })
    }
}
