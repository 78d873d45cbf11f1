import Autodiff
import NN
import TensorCore

/// The black-box baseline: a small CNN classifying pixels directly.
///
/// conv 16 4×4 s2 → conv 32 4×4 s2 → conv 32 4×4 s2 (ReLU, padding 1: H → H/8) →
/// flatten → FC 64 ReLU → FC K logits. Parameters `cnn.conv1…conv3`, `cnn.fc`, `cnn.out`.
/// `features` exposes the last conv layer's activations (Grad-CAM needs them).
public final class PixelCNN: Layer {
    let conv1, conv2, conv3: Conv2d
    let fc, output: Linear
    /// Input image shape `[C, H, W]` (H, W multiples of 8) and number of classes K.
    public let imageShape: [Int], classCount: Int

    public init(imageShape: [Int], classCount: Int, seed: UInt64) {
        precondition(imageShape.count == 3 && imageShape[1] % 8 == 0 && imageShape[2] % 8 == 0,
                     "PixelCNN: image sides must be multiples of 8, got \(imageShape)")
        var rng = RandomGenerator(seed: seed)
        conv1 = Conv2d(inChannels: imageShape[0], outChannels: 16, kernel: 4, stride: 2, padding: 1, name: "cnn.conv1",
                       initializer: .heUniform, rng: &rng)
        conv2 = Conv2d(inChannels: 16, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "cnn.conv2", initializer: .heUniform, rng: &rng)
        conv3 = Conv2d(inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "cnn.conv3", initializer: .heUniform, rng: &rng)
        fc = Linear(inputSize: 32 * (imageShape[1] / 8) * (imageShape[2] / 8), outputSize: 64, name: "cnn.fc", initializer: .heUniform, rng: &rng)
        output = Linear(inputSize: 64, outputSize: classCount, name: "cnn.out", rng: &rng)
        self.imageShape = imageShape
        self.classCount = classCount
    }

    public var parameters: [Parameter] { [conv1, conv2, conv3].flatMap(\.parameters) + [fc, output].flatMap(\.parameters) }

    /// Last-conv activations `[B, 32, H/8, W/8]` and logits `[B, K]` for images `[B, C, H, W]`.
    public func forward(_ x: Variable) -> (features: Variable, logits: Variable) {
        let features = conv3(conv2(conv1(x).relu()).relu()).relu()
        return (features, head(features))
    }

    /// Logits from last-conv activations.
    public func head(_ features: Variable) -> Variable { output(fc(features.flattened()).relu()) }

    /// Logits `[B, K]`.
    public func callAsFunction(_ x: Variable) -> Variable { forward(x).logits }
}
