import Autodiff
import Foundation
import NN
import TensorCore

/// How the shared latents of a pair are averaged (Locatello et al. 2020, §4).
public enum PairAveraging: Sendable {
    /// Ada-GVAE (after Hosoya 2019's group VAE): the mean of the two Gaussians' parameters,
    /// `μ̃ = ½(μ₁ + μ₂)`, `σ̃² = ½(σ₁² + σ₂²)`.
    case group
    /// Ada-ML-VAE (after Bouchacourt et al. 2018): the product of the two experts, as
    /// disentanglement_lib's `MLVae` computes it: `σ̃² = 2σ₁²σ₂²/(σ₁² + σ₂²)`,
    /// `μ̃ = ½(μ₁/σ₁² + μ₂/σ₂²)·σ̃²` (the product-of-Gaussians mean, twice its variance).
    case multiLevel
}

/// The posteriors of a pair after adaptive averaging, and which latents were shared.
public struct PairPosteriors {
    /// Aggregated `μ`, `log σ²` of the first and second image, each `[B, Z]`.
    public var mean1: Variable, logVariance1: Variable, mean2: Variable, logVariance2: Variable
    /// `[B, Z]`: 1 where latent j of pair b was judged shared (averaged), 0 where it was judged changed.
    public var shared: Tensor
}

/// Per-latent divergence of a pair's posteriors, disentanglement_lib's `compute_kl`:
/// `δ_bj = σ₁²/σ₂² + (μ₂ − μ₁)²/σ₂² − 1 + log σ₂² − log σ₁²`, which is `2·KL(q(z_j|x₁) ‖ q(z_j|x₂))`.
/// Shapes: all `[B, Z]` → `[B, Z]` (plain values: the threshold built on it carries no gradient).
public func pairDivergence(mean1: Tensor, logVariance1: Tensor, mean2: Tensor, logVariance2: Tensor) -> Tensor {
    precondition(mean1.shape == mean2.shape && mean1.shape == logVariance1.shape && mean1.shape == logVariance2.shape,
                 "pairDivergence: shapes \(mean1.shape), \(logVariance1.shape), \(mean2.shape), \(logVariance2.shape) differ")
    return Tensor(shape: mean1.shape) { out in
        for i in 0..<out.count {
            let (m1, v1, m2, v2) = (mean1.scalars[i], logVariance1.scalars[i], mean2.scalars[i], logVariance2.scalars[i])
            let d = m2 - m1
            out[i] = Foundation.exp(v1 - v2) + d * d * Foundation.exp(-v2) - 1 + v2 - v1
        }
    }
}

/// The adaptive threshold of Locatello et al. (2020, eq. 6): per pair b, the latents with
/// `δ_bj ≥ τ_b = ½(max_j δ_bj + min_j δ_bj)` are the ones that changed, the others are shared
/// (disentanglement_lib's two equal-width histogram bins over `[min δ, max δ]`). When all δ of
/// a pair are equal the threshold cannot tell them apart and every latent counts as shared.
/// Shapes: `divergence [B, Z]` → `[B, Z]` of 1 (shared) / 0 (changed).
public func adaptiveSharedMask(divergence: Tensor) -> Tensor {
    precondition(divergence.shape.count == 2, "adaptiveSharedMask: divergence must be [B, Z], got \(divergence.shape)")
    let (b, z) = (divergence.shape[0], divergence.shape[1])
    return Tensor(shape: [b, z]) { out in
        for row in 0..<b {
            let values = divergence.scalars[(row * z)..<((row + 1) * z)]
            let (lo, hi) = (values.min()!, values.max()!)
            let threshold = 0.5 * (lo + hi)
            for (j, v) in values.enumerated() { out[row * z + j] = hi > lo && v >= threshold ? 0 : 1 }
        }
    }
}

/// Element-wise `log(eᵃ + eᵇ)` of two same-shaped variables, through one `logSumExp` over a
/// stacked last axis (stable: the larger exponent is factored out there).
func logAddExp(_ a: Variable, _ b: Variable) -> Variable {
    let shape = a.shape
    return Variable.concatenate([a.reshaped(shape + [1]), b.reshaped(shape + [1])], axis: shape.count).logSumExp(axis: shape.count)
}

/// Adaptive averaging of a pair's posteriors (Locatello et al. 2020, Algorithm 1): the latents
/// judged shared by ``adaptiveSharedMask(divergence:)`` take the averaged posterior of
/// `averaging`, the changed ones keep each image's own. Gradients flow through both branches;
/// the mask is a constant (as `tf.where`'s condition in disentanglement_lib `weak/weak_vae.py`).
///
/// Numerics: the averaged log-variances are formed in log space, Ada-GVAE's
/// `log ½(σ₁² + σ₂²) = logaddexp(v₁, v₂) − log 2` and Ada-ML-VAE's
/// `log 2σ₁²σ₂²/(σ₁² + σ₂²) = log 2 + v₁ + v₂ − logaddexp(v₁, v₂)`, so no variance is
/// exponentiated on its own; the ML-VAE mean uses `1/σ² = e^{−v}` and `σ̃²` as the exp of that log.
/// Shapes: all `[B, Z]`.
public func aggregatePair(mean1: Variable, logVariance1: Variable, mean2: Variable, logVariance2: Variable,
                          averaging: PairAveraging) -> PairPosteriors {
    let divergence = pairDivergence(mean1: mean1.value, logVariance1: logVariance1.value,
                                    mean2: mean2.value, logVariance2: logVariance2.value)
    let sharedMask = adaptiveSharedMask(divergence: divergence)
    let tape = mean1.tape
    let newMean: Variable, newLogVariance: Variable
    switch averaging {
    case .group:
        newMean = (mean1 + mean2) * 0.5
        newLogVariance = logAddExp(logVariance1, logVariance2) - Float(Foundation.log(2.0))
    case .multiLevel:
        newLogVariance = logVariance1 + logVariance2 - logAddExp(logVariance1, logVariance2) + Float(Foundation.log(2.0))
        newMean = (mean1 * (-logVariance1).exp() + mean2 * (-logVariance2).exp()) * newLogVariance.exp() * 0.5
    }
    let shared = tape.constant(sharedMask), changed = tape.constant(sharedMask.map { 1 - $0 })
    func pick(_ own: Variable, _ averaged: Variable) -> Variable { own * changed + averaged * shared }
    return PairPosteriors(mean1: pick(mean1, newMean), logVariance1: pick(logVariance1, newLogVariance),
                          mean2: pick(mean2, newMean), logVariance2: pick(logVariance2, newLogVariance), shared: sharedMask)
}

extension VAE {
    /// The weakly supervised objective of Ada-GVAE / Ada-ML-VAE (Locatello et al. 2020, eq. 5) on a
    /// batch of pairs `x [2B, C, H, W]`: rows `0..<B` are the first images, rows `B..<2B` their
    /// partners, each pair sharing all but a few ground-truth factors. Both images are encoded
    /// (one encoder pass over the 2B rows), their posteriors adaptively aggregated
    /// (``aggregatePair(mean1:logVariance1:mean2:logVariance2:averaging:)``), each decoded from a
    /// sample of its aggregated posterior with `noise [2B, Z]`, and
    /// `L = ½(rec₁ + rec₂) + β·½(KL₁ + KL₂)` with both terms batch means, as disentanglement_lib's
    /// `GroupVAEArgmax` / `MLVaeArgmax`. `extra` is the mean number of latents judged shared per pair.
    public func pairObjective(beta: Float, averaging: PairAveraging, x: Variable, noise: Tensor) -> ObjectiveTerms {
        precondition(x.shape[0] % 2 == 0, "pairObjective: x must hold 2B images (B pairs), got \(x.shape[0])")
        let b = x.shape[0] / 2
        let (mean, logVariance) = encoder(x)
        let first = 0..<b, second = b..<(2 * b)
        let pair = aggregatePair(mean1: mean.slice(axis: 0, first), logVariance1: logVariance.slice(axis: 0, first),
                                 mean2: mean.slice(axis: 0, second), logVariance2: logVariance.slice(axis: 0, second),
                                 averaging: averaging)
        let aggregatedMean = Variable.concatenate([pair.mean1, pair.mean2], axis: 0)
        let aggregatedLogVariance = Variable.concatenate([pair.logVariance1, pair.logVariance2], axis: 0)
        let z = reparameterize(mean: aggregatedMean, logVariance: aggregatedLogVariance, noise: noise)
        // Means over all 2B rows are exactly ½(term of the first images + term of the second).
        let reconstruction = bernoulliCrossEntropyWithLogits(decoder(z), targets: x.value)
        let klPerLatent = gaussianKLPerLatent(mean: aggregatedMean, logVariance: aggregatedLogVariance)
        let sharedPerPair = pair.shared.sumDouble() / Double(b)
        return ObjectiveTerms(total: reconstruction + klPerLatent.sum() * beta, reconstruction: reconstruction,
                              klPerLatent: klPerLatent, extra: x.tape.constant(Tensor(scalar: Float(sharedPerPair))),
                              codes: z)
    }
}
