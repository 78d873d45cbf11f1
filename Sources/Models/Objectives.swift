import Autodiff
import Foundation
import NN
import TensorCore

/// The members of the VAE family (disentanglement_lib's names in brackets).
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    /// β-VAE (Higgins et al. 2017): rec + β·KL.
    case betaVAE = "beta-vae"
    /// AnnealedVAE (Burgess et al. 2018): rec + γ·|KL − C|, C = min(Cmax, Cmax·step/steps_C).
    case annealedVAE = "annealed-vae"
    /// FactorVAE (Kim & Mnih 2018): rec + KL + γ·TC estimated by a discriminator.
    case factorVAE = "factor-vae"
    /// DIP-VAE-I (Kumar et al. 2018): rec + KL + λod·Σ offdiag(Cov μ)² + λd·Σ(diag(Cov μ) − 1)².
    case dipVAE1 = "dip-vae-1"
    /// DIP-VAE-II: the same on Cov μ + diag(E e^{log σ²}).
    case dipVAE2 = "dip-vae-2"
    /// β-TCVAE (Chen et al. 2018): rec + KL + (β − 1)·TC (minibatch-weighted sampling).
    case betaTCVAE = "beta-tcvae"
    /// Ada-GVAE (Locatello et al. 2020): pairs of images sharing all but k factors, the latents
    /// an adaptive threshold judges shared averaged as a group VAE; rec + β·KL.
    case adaGVAE = "ada-gvae"
    /// Ada-ML-VAE (Locatello et al. 2020): the same with ML-VAE's product-of-experts averaging.
    case adaMLVAE = "ada-ml-vae"

    /// Whether the objective trains on pairs of images (weak supervision) rather than single images.
    public var trainsOnPairs: Bool { self == .adaGVAE || self == .adaMLVAE }
}

/// Hyperparameters of a VAE objective; defaults are disentanglement_lib's.
public struct ObjectiveSettings: Equatable, Sendable, Codable {
    public var kind: ModelKind
    /// β of β-VAE, β-TCVAE, Ada-GVAE and Ada-ML-VAE.
    public var beta: Float
    /// AnnealedVAE's final capacity Cmax (nats) and the steps over which C rises to it.
    public var capacityMax: Float, capacitySteps: Int
    /// γ of AnnealedVAE (default 1000) and FactorVAE (default 10).
    public var gamma: Float
    /// DIP-VAE's λod and λd (λd defaults to 10·λod for DIP-VAE-I, λod for DIP-VAE-II).
    public var lambdaOffDiagonal: Float, lambdaDiagonal: Float

    /// Settings for `kind`, with each unspecified hyperparameter at its dlib default.
    public init(kind: ModelKind, beta: Float? = nil, capacityMax: Float? = nil, capacitySteps: Int? = nil,
                gamma: Float? = nil, lambdaOffDiagonal: Float? = nil, lambdaDiagonal: Float? = nil) {
        self.kind = kind
        self.beta = beta ?? (kind == .betaTCVAE ? 6 : kind.trainsOnPairs ? 1 : 4)
        self.capacityMax = capacityMax ?? 25
        self.capacitySteps = capacitySteps ?? 100_000
        self.gamma = gamma ?? (kind == .annealedVAE ? 1000 : 10)
        let od = lambdaOffDiagonal ?? 10
        self.lambdaOffDiagonal = od
        self.lambdaDiagonal = lambdaDiagonal ?? (kind == .dipVAE1 ? 10 * od : od)
    }

    /// Name of the model's extra term in logs (empty for β-VAE).
    public var extraTermName: String {
        switch kind {
        case .betaVAE: return ""
        case .annealedVAE: return "capacity_gap"
        case .factorVAE, .betaTCVAE: return "tc"
        case .dipVAE1, .dipVAE2: return "dip_penalty"
        case .adaGVAE, .adaMLVAE: return "shared_latents"
        }
    }
}

/// One evaluation of a VAE objective on a batch.
public struct ObjectiveTerms {
    /// The loss minimised by the VAE's optimiser.
    public var total: Variable
    /// Bernoulli reconstruction loss (nats per image).
    public var reconstruction: Variable
    /// KL per latent `[Z]` (batch mean, nats).
    public var klPerLatent: Variable
    /// The model's extra term (capacity gap, TC estimate, DIP penalty), if any.
    public var extra: Variable?
    /// The sampled codes `z [B, Z]` (FactorVAE's discriminator trains on them).
    public var codes: Variable
}

/// FactorVAE's discriminator: 6 × (FC 1000, leaky ReLU 0.2) → FC 2 logits
/// (class 0: a code from q(z); class 1: a code with every latent permuted independently).
/// Parameters `discriminator.fc1…fc6`, `discriminator.out`.
public final class Discriminator: Layer {
    let hidden: [Linear]
    let output: Linear

    /// A discriminator for `latentCount`-dimensional codes.
    public init(latentCount: Int, width: Int = 1000, depth: Int = 6, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        hidden = (0..<depth).map {
            Linear(inputSize: $0 == 0 ? latentCount : width, outputSize: width, name: "discriminator.fc\($0 + 1)", rng: &rng)
        }
        output = Linear(inputSize: width, outputSize: 2, name: "discriminator.out", rng: &rng)
    }

    public var parameters: [Parameter] { (hidden + [output]).flatMap(\.parameters) }

    /// Logits `[B, 2]` for codes `[B, Z]`.
    public func callAsFunction(_ z: Variable) -> Variable {
        var h = z
        for layer in hidden { h = layer(h).leakyRelu(slope: 0.2) }
        return output(h)
    }
}

/// Mean cross-entropy of `logits [B, K]` against the class `target` for every row:
/// `mean_b(logsumexp_k ℓ_bk − ℓ_b,target)` (``softmaxCrossEntropy(logits:labels:)`` with one label).
public func crossEntropy(logits: Variable, target: Int) -> Variable {
    softmaxCrossEntropy(logits: logits, labels: [Int](repeating: target, count: logits.shape[0]))
}

/// Every column of `z [B, Z]` permuted independently across the batch (FactorVAE's
/// samples from Π_l q(z_l)).
public func permuteDimensions(_ z: Tensor, rng: inout RandomGenerator) -> Tensor {
    let (b, d) = (z.shape[0], z.shape[1])
    var out = z
    for l in 0..<d {
        let p = rng.permutation(b)
        for i in 0..<b { out.scalars[i * d + l] = z.scalars[p[i] * d + l] }
    }
    return out
}

/// Minibatch-weighted-sampling estimate of the total correlation (Chen et al. 2018, eq. 4),
/// constants dropped: with `ℓ_jil = log N(z_jl; μ_il, σ²_il)`,
/// `TC = mean_j [logsumexp_i Σ_l ℓ_jil − Σ_l logsumexp_i ℓ_jil]`. Shapes `[B, Z]` → scalar.
public func totalCorrelation(codes z: Variable, mean: Variable, logVariance: Variable) -> Variable {
    let (b, d) = (z.shape[0], z.shape[1])
    let logDensity = gaussianLogDensity(z.reshaped([b, 1, d]), mean: mean.reshaped([1, b, d]),
                                        logVariance: logVariance.reshaped([1, b, d])) // [j, i, l]
    let logJoint = logDensity.sum(axis: 2).logSumExp(axis: 1)          // [j]
    let logProductOfMarginals = logDensity.logSumExp(axis: 1).sum(axis: 1) // [j]
    return (logJoint - logProductOfMarginals).mean()
}

/// DIP-VAE's moment-matching penalty on a covariance `cov [Z, Z]`:
/// `λod·Σ_{i≠j} cov_ij² + λd·Σ_i (cov_ii − 1)²`.
public func dipPenalty(covariance cov: Variable, lambdaOffDiagonal: Float, lambdaDiagonal: Float) -> Variable {
    let d = cov.shape[0]
    var eye = Tensor.zeros([d, d])
    for i in 0..<d { eye[i, i] = 1 }
    let identity = cov.tape.constant(eye)
    let diagonal = cov * identity
    let offDiagonal = cov - diagonal
    return offDiagonal.squared().sum() * lambdaOffDiagonal + (diagonal - identity).squared().sum() * lambdaDiagonal
}

/// The (biased) covariance `E[μμᵀ] − E[μ]E[μ]ᵀ` of `mean [B, Z]` over the batch → `[Z, Z]`.
public func batchCovariance(_ mean: Variable) -> Variable {
    let centred = mean - mean.mean(axis: 0, keepDims: true)
    return Variable.matmul(centred, centred, transposeA: true) * (1 / Float(mean.shape[0]))
}

extension VAE {
    /// The objective of `settings` on batch `x [B, C, H, W]` at training step `step` (1-based),
    /// sampling z with `noise [B, Z]`. FactorVAE needs its `discriminator`. For the weakly
    /// supervised kinds `x` holds pairs, `[2B, C, H, W]`, see ``pairObjective(beta:averaging:x:noise:)``.
    public func objective(_ settings: ObjectiveSettings, x: Variable, noise: Tensor, step: Int,
                          discriminator: Discriminator? = nil) -> ObjectiveTerms {
        switch settings.kind {
        case .adaGVAE: return pairObjective(beta: settings.beta, averaging: .group, x: x, noise: noise)
        case .adaMLVAE: return pairObjective(beta: settings.beta, averaging: .multiLevel, x: x, noise: noise)
        default: break
        }
        let (mean, logVariance) = encoder(x)
        let z = reparameterize(mean: mean, logVariance: logVariance, noise: noise)
        let reconstruction = bernoulliCrossEntropyWithLogits(decoder(z), targets: x.value)
        let klPerLatent = gaussianKLPerLatent(mean: mean, logVariance: logVariance)
        let kl = klPerLatent.sum()
        var extra: Variable?
        let total: Variable
        switch settings.kind {
        case .betaVAE:
            total = reconstruction + kl * settings.beta
        case .annealedVAE:
            let capacity = min(settings.capacityMax, settings.capacityMax * Float(step) / Float(max(settings.capacitySteps, 1)))
            let gap = (kl - capacity).abs()
            extra = gap
            total = reconstruction + gap * settings.gamma
        case .factorVAE:
            guard let discriminator else { preconditionFailure("FactorVAE needs a discriminator") }
            let logits = discriminator(z)
            let tc = (logits.slice(axis: 1, 0..<1) - logits.slice(axis: 1, 1..<2)).mean()
            extra = tc
            total = reconstruction + kl + tc * settings.gamma
        case .dipVAE1, .dipVAE2:
            var cov = batchCovariance(mean)
            if settings.kind == .dipVAE2 {
                let expected = logVariance.exp().mean(axis: 0) // [Z]
                var eye = Tensor.zeros([latentCount, latentCount])
                for i in 0..<latentCount { eye[i, i] = 1 }
                cov = cov + x.tape.constant(eye) * expected.reshaped([1, latentCount])
            }
            let penalty = dipPenalty(covariance: cov, lambdaOffDiagonal: settings.lambdaOffDiagonal,
                                     lambdaDiagonal: settings.lambdaDiagonal)
            extra = penalty
            total = reconstruction + kl + penalty
        case .betaTCVAE:
            let tc = totalCorrelation(codes: z, mean: mean, logVariance: logVariance)
            extra = tc
            total = reconstruction + kl + tc * (settings.beta - 1)
        case .adaGVAE, .adaMLVAE:
            preconditionFailure("unreachable: pair objectives return above")
        }
        return ObjectiveTerms(total: total, reconstruction: reconstruction, klPerLatent: klPerLatent, extra: extra, codes: z)
    }
}

extension Discriminator {
    /// The discriminator's loss on codes `z [B, Z]` (no gradient to the encoder):
    /// `½[CE(D(z), 0) + CE(D(perm(z)), 1)]`.
    public func loss(codes z: Tensor, tape: Tape, rng: inout RandomGenerator) -> Variable {
        let real = self(tape.constant(z)), permuted = self(tape.constant(permuteDimensions(z, rng: &rng)))
        return (crossEntropy(logits: real, target: 0) + crossEntropy(logits: permuted, target: 1)) * 0.5
    }
}
