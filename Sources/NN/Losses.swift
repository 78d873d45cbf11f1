import Autodiff
import Foundation
import TensorCore
import VectorLoops

/// Bernoulli negative log-likelihood of `targets` under `logits`, summed over all
/// non-batch elements and averaged over the batch (dlib's reconstruction loss).
///
/// Concretely: `L = (1/B) Σ_{b,i} [max(ℓ, 0) − ℓ·x + log(1 + e^(−|ℓ|))]`, the stable
/// form of `−x·log σ(ℓ) − (1 − x)·log(1 − σ(ℓ))` (no exp of a positive number, log1p for
/// precision). Pullback: `∂L/∂ℓ = (σ(ℓ) − x)/B`. Shapes: `logits`, `targets [B, …]` → scalar.
/// Targets may be in [0, 1] (not only binary).
public func bernoulliCrossEntropyWithLogits(_ logits: Variable, targets: Tensor) -> Variable {
    precondition(logits.shape == targets.shape,
                 "bernoulliCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
    let batch = Float(logits.shape.first ?? 1)
    let l = logits.value
    // The pullback's `σ(ℓ) − x` is computed here, beside the loss term whose `e^(−|ℓ|)` it shares
    // (σ = 1/(1 + e) for ℓ ≥ 0, e/(1 + e) below: `Variable.stableSigmoid` exactly), one exp per
    // element instead of two, while the logits are in cache; only when a gradient will be asked for.
    //
    // Summed in Double over fixed blocks of 16,384 elements (in parallel), then the block sums in
    // order: the same total on any thread count.
    let block = 1 << 14, blocks = (l.count + block - 1) / block
    var partial = [Double](repeating: 0, count: blocks)
    let residual = optionalBuffer(logits.needsGradient, l.count) { pd in
        l.scalars.withUnsafeBufferPointer { pl in
            targets.scalars.withUnsafeBufferPointer { px in
                partial.withUnsafeMutableBufferPointer { pp in
                    nonisolated(unsafe) let (pl, px, pp, pd) = (pl, px, pp, pd)
                    // Sixteen pixels at a time in `VectorLoops` (optimised in every build): exp one by
                    // one, log1p in vector lanes (the scalar `log1pf` was 2.5 % of a training step).
                    Parallel.forEach(blocks, minimumPerThread: 2) { b in
                        pp[b] = bernoulliTerms(logits: pl.baseAddress!, targets: px.baseAddress!,
                                               range: (b * block)..<Swift.min(pl.count, (b + 1) * block), residual: pd)
                    }
                }
            }
        }
    }
    let total = partial.reduce(0, +)
    let residualTensor = residual.map { Tensor(shape: l.shape, scalars: $0) }
    return logits.tape.record(Tensor(scalar: Float(total) / batch), parents: [logits]) { g, _ in
        [residualTensor! * (g.scalar / batch)] // recorded with a pullback only when the logits need a gradient
    }
}

/// KL divergence of the diagonal Gaussian posterior from the standard normal prior,
/// per latent and averaged over the batch.
///
/// Concretely: `KL_l = (1/B) Σ_b ½(μ_bl² + e^{v_bl} − v_bl − 1)` with `v = log σ²`
/// (Kingma & Welling 2014, appendix B). Shapes: `mean`, `logVariance [B, Z]` → `[Z]`.
/// Sum the result for the total KL of dlib's objective.
public func gaussianKLPerLatent(mean: Variable, logVariance: Variable) -> Variable {
    precondition(mean.shape == logVariance.shape && mean.shape.count == 2,
                 "gaussianKL: mean \(mean.shape) and log-variance \(logVariance.shape) must both be [B, Z]")
    let terms = (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5
    return terms.mean(axis: 0)
}

/// The total KL `Σ_l KL_l` (scalar), see `gaussianKLPerLatent`.
public func gaussianKL(mean: Variable, logVariance: Variable) -> Variable {
    gaussianKLPerLatent(mean: mean, logVariance: logVariance).sum()
}

/// Reparameterised sample `z = μ + ε ⊙ e^{v/2}`, `ε ~ N(0, I)` drawn from `rng`
/// (Kingma & Welling 2014). Gradients flow to μ and v; ε is a constant.
/// Shapes: `mean`, `logVariance [B, Z]` → `[B, Z]`.
public func reparameterize(mean: Variable, logVariance: Variable, rng: inout RandomGenerator) -> Variable {
    reparameterize(mean: mean, logVariance: logVariance, noise: rng.normal(mean.shape))
}

/// `z = μ + ε ⊙ e^{v/2}` with given noise `ε` (same shape as μ).
public func reparameterize(mean: Variable, logVariance: Variable, noise: Tensor) -> Variable {
    precondition(noise.shape == mean.shape, "reparameterize: noise \(noise.shape) vs mean \(mean.shape)")
    return mean + mean.tape.constant(noise) * (logVariance * 0.5).exp()
}

/// Log-density of a diagonal Gaussian, elementwise:
/// `log N(z; μ, e^v) = −½(log 2π + v + (z − μ)² e^{−v})`. Shapes broadcast.
public func gaussianLogDensity(_ z: Variable, mean: Variable, logVariance: Variable) -> Variable {
    let diff = z - mean
    return (diff.squared() * (-logVariance).exp() + logVariance + Float(Foundation.log(2 * Double.pi))) * -0.5
}

/// Mean softmax cross-entropy of `logits [B, K]` against per-row classes `labels` (PyTorch's
/// `F.cross_entropy`): `mean_b(logsumexp_k ℓ_bk − ℓ_b,y_b)`, the label term as a one-hot product
/// (exact: the other terms are multiplied by 0). The gradient is `(softmax(ℓ) − onehot(y)) / B`.
public func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
    let (b, k) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == b && labels.allSatisfy { (0..<k).contains($0) }, "softmaxCrossEntropy: \(labels.count) labels in 0..<\(k) for \(b) rows")
    var oneHot = Tensor.zeros([b, k])
    for (i, y) in labels.enumerated() { oneHot[i, y] = 1 }
    return (logits.logSumExp(axis: 1) - (logits * logits.tape.constant(oneHot)).sum(axis: 1)).mean()
}
