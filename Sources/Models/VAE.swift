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
