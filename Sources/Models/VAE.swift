import Autodiff
import NN
import TensorCore

/// Which encoder/decoder pair a VAE uses.
public enum Architecture: Equatable, Sendable, Codable {
    /// disentanglement_lib's conv encoder and deconv decoder (64×64 images only).
    case conv
    /// Fully connected encoder/decoder with the given hidden widths (decoder mirrors them).
    case mlp(hidden: [Int])
}

/// The parts of a VAE objective on one batch (all batch means, in nats).
public struct LossParts {
    /// The total loss that is minimised.
    public var total: Variable
    /// Bernoulli reconstruction loss, summed over pixels.
    public var reconstruction: Variable
    /// KL(q(z|x) ‖ N(0, I)) per latent `[Z]`; its sum is the KL term.
    public var klPerLatent: Variable
}

/// A variational autoencoder with a Gaussian encoder and a Bernoulli decoder.
///
/// β-VAE objective (Higgins et al. 2017): `L = E[−log p(x|z)] + β·KL(q(z|x) ‖ N(0, I))`,
/// with the reconstruction summed over pixels and both terms averaged over the batch.
public final class VAE: Layer {
    /// q(z|x).
    public let encoder: GaussianEncoder
    /// p(x|z).
    public let decoder: ImageDecoder

    /// A VAE for images of `imageShape` `[C, H, W]` with `latentCount` latents,
    /// initialised from `seed` (Glorot uniform weights, zero biases — TensorFlow's defaults, as dlib).
    public init(architecture: Architecture, imageShape: [Int], latentCount: Int, seed: UInt64) {
        precondition(imageShape.count == 3, "VAE: imageShape must be [C, H, W], got \(imageShape)")
        precondition(latentCount > 0, "VAE: latentCount must be positive, got \(latentCount)")
        var rng = RandomGenerator(seed: seed)
        switch architecture {
        case .conv:
            precondition(imageShape[1] == 64 && imageShape[2] == 64, "VAE: the conv architecture needs 64×64 images, got \(imageShape)")
            encoder = ConvEncoder(channels: imageShape[0], latentCount: latentCount, rng: &rng)
            decoder = DeconvDecoder(channels: imageShape[0], latentCount: latentCount, rng: &rng)
        case .mlp(let hidden):
            encoder = MLPEncoder(imageShape: imageShape, hiddenSizes: hidden, latentCount: latentCount, rng: &rng)
            decoder = MLPDecoder(latentCount: latentCount, hiddenSizes: hidden.reversed(), imageShape: imageShape, rng: &rng)
        }
    }

    public var parameters: [Parameter] { encoder.parameters + decoder.parameters }
    /// Number of latents Z.
    public var latentCount: Int { encoder.latentCount }

    /// Reconstruction and KL parts for a batch `x [B, C, H, W]`, with `z` sampled using `noise [B, Z]`.
    public func lossParts(_ x: Variable, noise: Tensor, beta: Float) -> LossParts {
        let (mean, logVariance) = encoder(x)
        let z = reparameterize(mean: mean, logVariance: logVariance, noise: noise)
        let logits = decoder(z)
        let reconstruction = bernoulliCrossEntropyWithLogits(logits, targets: x.value)
        let klPerLatent = gaussianKLPerLatent(mean: mean, logVariance: logVariance)
        return LossParts(total: reconstruction + klPerLatent.sum() * beta, reconstruction: reconstruction,
                         klPerLatent: klPerLatent)
    }
}

extension Architecture {
    /// Parameters of the VAE with this architecture for `imageShape [C, H, W]` and `latentCount`
    /// latents (weights and biases of encoder and decoder), nil on `Int` overflow. Computed from
    /// the layer shapes, without building the model: a config can be checked before it allocates.
    public func parameterCount(imageShape: [Int], latentCount z: Int) -> Int? {
        guard let pixels = imageShape.checkedProduct, z >= 0 else { return nil }
        let c = imageShape.first ?? 1
        var layers: [(inputs: Int, outputs: Int)] // (fan-in, fan-out) pairs: weights in·out, biases out
        switch self {
        case .conv:
            layers = [(c * 16, 32), (32 * 16, 32), (32 * 4, 64), (64 * 4, 64), (1024, 256), (256, z), (256, z),
                      (z, 256), (256, 1024), (64 * 16, 64), (64 * 16, 32), (32 * 16, 32), (32 * 16, c)]
        case .mlp(let hidden):
            let widths = [pixels] + hidden
            layers = zip(widths, widths.dropFirst()).map { ($0, $1) } + [(widths.last!, z), (widths.last!, z)]
            let back = [z] + hidden.reversed() + [pixels]
            layers += zip(back, back.dropFirst()).map { ($0, $1) }
        }
        var total = 0
        for (inputs, outputs) in layers {
            let (weights, o1) = inputs.multipliedReportingOverflow(by: outputs)
            let (sum, o2) = total.addingReportingOverflow(weights)
            let (withBias, o3) = sum.addingReportingOverflow(outputs)
            guard !o1, !o2, !o3 else { return nil }
            total = withBias
        }
        return total
    }

    /// An estimate of the bytes one training step holds (its dominant terms), nil on overflow:
    /// 4 bytes × (4 P + 3 B A), with P parameters (value, gradient and Adam's two moments) and,
    /// for each of the B images of a step, A the floats of its activations (every layer's output,
    /// counted three times: value, gradient, im2col or scratch).
    ///
    /// Concretely for the conv VAE on 64×64: A = C·4096 + 32·1024 + 32·256 + 64·64 + 64·16 + 256
    /// + 3Z + 256 + 1024 + 64·64 + 32·256 + 32·1024 + C·16·1024 (the first im2col buffer); for the
    /// MLP, A = 2·C·H·W + 2·Σ hidden + 3Z.
    public func estimatedTrainingBytes(imageShape: [Int], latentCount z: Int, batchImages: Int) -> Int? {
        guard let p = parameterCount(imageShape: imageShape, latentCount: z), let pixels = imageShape.checkedProduct else { return nil }
        let c = imageShape.first ?? 1
        let widths: [Int]
        switch self {
        case .conv: widths = [c * 4096, 32 * 1024, 32 * 256, 64 * 64, 64 * 16, 256, z, z, z, 256, 1024, 64 * 64, 32 * 256, 32 * 1024, c * 16 * 1024]
        case .mlp(let hidden): widths = [pixels, pixels] + hidden + hidden.reversed() + [z, z, z]
        }
        guard let perImage = widths.reduce(Optional(0), { sum, w in
            sum.flatMap { s in let (r, o) = s.addingReportingOverflow(w); return o ? nil : r }
        }) else { return nil }
        let terms = [[4, p], [3, batchImages, perImage]].map { $0.checkedProduct }
        guard let a = terms[0], let b = terms[1] else { return nil }
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { return nil }
        return [sum, 4].checkedProduct
    }
}
