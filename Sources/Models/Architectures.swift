import Autodiff
import NN
import TensorCore

/// Maps images `[B, C, H, W]` to the parameters of q(z|x): mean and log-variance `[B, Z]`.
public protocol GaussianEncoder: Layer {
    /// Number of latents Z.
    var latentCount: Int { get }
    /// `(μ, log σ²)`, each `[B, Z]`.
    func callAsFunction(_ x: Variable) -> (mean: Variable, logVariance: Variable)
    /// `(μ, log σ²)`, each `[B, Z]`, of `images [B, C, H, W]` without gradients: the values of
    /// `callAsFunction` on a non-recording tape (an encoder may compute them faster, bit for bit the same).
    func posteriorWithoutGradients(_ images: Tensor) -> (mean: Tensor, logVariance: Tensor)
    /// Images per ``posteriorWithoutGradients(_:)`` call when encoding many (a batch is cut into
    /// pieces of this size): 256 unless the encoder says otherwise.
    var encodingBatch: Int { get }
}

extension GaussianEncoder {
    /// 256: conv1's activation of the dlib encoder is then 32 MiB, and the code of an image does
    /// not depend on the batch beyond float rounding (under OpenBLAS, whose kernels vary with shape).
    public var encodingBatch: Int { 256 }

    /// `callAsFunction` on a non-recording tape.
    public func posteriorWithoutGradients(_ images: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let tape = Tape(recording: false)
        let (mean, logVariance) = self(tape.constant(images))
        return (mean.value, logVariance.value)
    }
}

/// Maps latents `[B, Z]` to Bernoulli logits `[B, C, H, W]`.
public protocol ImageDecoder: Layer {
    /// Output image shape `[C, H, W]`.
    var imageShape: [Int] { get }
    /// Logits `[B, C, H, W]` for `z [B, Z]`.
    func callAsFunction(_ z: Variable) -> Variable
}

/// disentanglement_lib's convolutional encoder (Locatello et al. 2019, Table 1) for 64×64×C images.
///
/// conv 32 4×4 s2 → conv 32 4×4 s2 → conv 64 2×2 s2 → conv 64 2×2 s2 (ReLU, SAME:
/// 64→32→16→8→4) → flatten 1024 → FC 256 ReLU → FC Z (mean) and FC Z (log-variance).
/// Parameters: `encoder.conv1…conv4`, `encoder.fc`, `encoder.mean`, `encoder.logvar`.
public final class ConvEncoder: GaussianEncoder {
    let conv1, conv2, conv3, conv4: Conv2d
    let fc, meanHead, logVarianceHead: Linear
    public let latentCount: Int

    /// An encoder for `channels`-channel 64×64 images with `latentCount` latents.
    public init(channels: Int, latentCount: Int, rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels: channels, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "encoder.conv1", rng: &rng)
        conv2 = Conv2d(inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "encoder.conv2", rng: &rng)
        conv3 = Conv2d(inChannels: 32, outChannels: 64, kernel: 2, stride: 2, padding: 0, name: "encoder.conv3", rng: &rng)
        conv4 = Conv2d(inChannels: 64, outChannels: 64, kernel: 2, stride: 2, padding: 0, name: "encoder.conv4", rng: &rng)
        fc = Linear(inputSize: 1024, outputSize: 256, name: "encoder.fc", rng: &rng)
        meanHead = Linear(inputSize: 256, outputSize: latentCount, name: "encoder.mean", rng: &rng)
        logVarianceHead = Linear(inputSize: 256, outputSize: latentCount, name: "encoder.logvar", rng: &rng)
        self.latentCount = latentCount
    }

    public var parameters: [Parameter] {
        [conv1, conv2, conv3, conv4].flatMap(\.parameters) + [fc, meanHead, logVarianceHead].flatMap(\.parameters)
    }

    public func callAsFunction(_ x: Variable) -> (mean: Variable, logVariance: Variable) {
        precondition(x.shape.count == 4 && x.shape[2] == 64 && x.shape[3] == 64,
                     "ConvEncoder: input \(x.shape), want [B, C, 64, 64]")
        // Each ReLU fused into its convolution (`ConvolutionActivation.relu`): the same values and
        // gradients as `.relu()` after it, one pass over each activation fewer.
        let h = conv4(conv3(conv2(conv1(x, activation: .relu), activation: .relu), activation: .relu), activation: .relu)
        let f = fc(h.flattened()).relu()
        return (meanHead(f), logVarianceHead(f))
    }
}

/// disentanglement_lib's deconvolutional decoder: FC 256 ReLU → FC 1024 ReLU →
/// reshape [64, 4, 4] → deconv 64 → 32 → 32 → C, all 4×4 stride 2 padding 1
/// (ReLU except the last, which gives logits): 4→8→16→32→64.
/// Parameters: `decoder.fc1`, `decoder.fc2`, `decoder.deconv1…deconv4`.
public final class DeconvDecoder: ImageDecoder {
    let fc1, fc2: Linear
    let deconv1, deconv2, deconv3, deconv4: ConvTranspose2d
    public let imageShape: [Int]

    /// A decoder from `latentCount` latents to `channels`-channel 64×64 logits.
    public init(channels: Int, latentCount: Int, rng: inout RandomGenerator) {
        fc1 = Linear(inputSize: latentCount, outputSize: 256, name: "decoder.fc1", rng: &rng)
        fc2 = Linear(inputSize: 256, outputSize: 1024, name: "decoder.fc2", rng: &rng)
        deconv1 = ConvTranspose2d(inChannels: 64, outChannels: 64, kernel: 4, stride: 2, padding: 1, name: "decoder.deconv1", rng: &rng)
        deconv2 = ConvTranspose2d(inChannels: 64, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "decoder.deconv2", rng: &rng)
        deconv3 = ConvTranspose2d(inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "decoder.deconv3", rng: &rng)
        deconv4 = ConvTranspose2d(inChannels: 32, outChannels: channels, kernel: 4, stride: 2, padding: 1, name: "decoder.deconv4", rng: &rng)
        imageShape = [channels, 64, 64]
    }

    public var parameters: [Parameter] {
        [fc1, fc2].flatMap(\.parameters) + [deconv1, deconv2, deconv3, deconv4].flatMap(\.parameters)
    }

    public func callAsFunction(_ z: Variable) -> Variable {
        let h = fc2(fc1(z).relu()).relu().reshaped([z.shape[0], 64, 4, 4])
        return deconv4(deconv3(deconv2(deconv1(h, activation: .relu), activation: .relu), activation: .relu))
    }
}

/// A fully connected encoder for quick runs: flatten → FC h₁ ReLU → … → FC Z (mean), FC Z (log-variance).
/// Parameters: `encoder.fc1…`, `encoder.mean`, `encoder.logvar`.
public final class MLPEncoder: GaussianEncoder {
    let hidden: [Linear]
    let meanHead, logVarianceHead: Linear
    public let latentCount: Int

    /// An encoder for images of `imageShape` `[C, H, W]` with hidden widths `hiddenSizes`.
    public init(imageShape: [Int], hiddenSizes: [Int], latentCount: Int, rng: inout RandomGenerator) {
        var sizes = [imageShape.product] + hiddenSizes
        var layers: [Linear] = []
        for k in 1..<sizes.count {
            layers.append(Linear(inputSize: sizes[k - 1], outputSize: sizes[k], name: "encoder.fc\(k)", rng: &rng))
        }
        hidden = layers
        sizes = Array(sizes.suffix(1))
        meanHead = Linear(inputSize: sizes[0], outputSize: latentCount, name: "encoder.mean", rng: &rng)
        logVarianceHead = Linear(inputSize: sizes[0], outputSize: latentCount, name: "encoder.logvar", rng: &rng)
        self.latentCount = latentCount
    }

    public var parameters: [Parameter] { (hidden + [meanHead, logVarianceHead]).flatMap(\.parameters) }

    public func callAsFunction(_ x: Variable) -> (mean: Variable, logVariance: Variable) {
        var h = x.flattened()
        for layer in hidden { h = layer(h).relu() }
        return (meanHead(h), logVarianceHead(h))
    }
}

/// A fully connected decoder for quick runs: FC h₁ ReLU → … → FC C·H·W logits, reshaped to `[B, C, H, W]`.
/// Parameters: `decoder.fc1…`.
public final class MLPDecoder: ImageDecoder {
    let layers: [Linear]
    public let imageShape: [Int]

    /// A decoder from `latentCount` latents through `hiddenSizes` to images of `imageShape`.
    public init(latentCount: Int, hiddenSizes: [Int], imageShape: [Int], rng: inout RandomGenerator) {
        let sizes = [latentCount] + hiddenSizes + [imageShape.product]
        layers = (1..<sizes.count).map {
            Linear(inputSize: sizes[$0 - 1], outputSize: sizes[$0], name: "decoder.fc\($0)", rng: &rng)
        }
        self.imageShape = imageShape
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public func callAsFunction(_ z: Variable) -> Variable {
        var h = z
        for (k, layer) in layers.enumerated() {
            h = layer(h)
            if k < layers.count - 1 { h = h.relu() }
        }
        return h.reshaped([z.shape[0]] + imageShape)
    }
}
