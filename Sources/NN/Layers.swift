import Autodiff
import TensorCore

/// Something with trainable parameters in a stable order (the checkpoint order).
public protocol Layer: AnyObject {
    /// All trainable parameters, in a fixed order.
    var parameters: [Parameter] { get }
}

/// Fully connected layer `y = x·Wᵀ + b`.
///
/// Shapes: `x [B, in]`, `weight [out, in]` (PyTorch layout), `bias [out]` → `y [B, out]`.
public final class Linear: Layer {
    /// `[out, in]`.
    public let weight: Parameter
    /// `[out]`.
    public let bias: Parameter

    /// A layer named `name` (parameters `name.weight`, `name.bias`); bias starts at 0.
    public init(inputSize: Int, outputSize: Int, name: String, initializer: Initializer = .glorotUniform,
                rng: inout RandomGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Linear \(name): sizes must be positive (\(inputSize) → \(outputSize))")
        weight = Parameter("\(name).weight", initializer.sample([outputSize, inputSize], fanIn: inputSize,
                                                                fanOut: outputSize, rng: &rng))
        bias = Parameter("\(name).bias", .zeros([outputSize]))
    }

    public var parameters: [Parameter] { [weight, bias] }
    /// Input features.
    public var inputSize: Int { weight.value.shape[1] }
    /// Output features.
    public var outputSize: Int { weight.value.shape[0] }

    /// `x·Wᵀ + b` for `x [B, in]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.count == 2 && x.shape[1] == inputSize,
                     "Linear \(weight.name): input \(x.shape), want [B, \(inputSize)]")
        let tape = x.tape
        return Variable.matmul(x, tape.parameter(weight), transposeB: true) + tape.parameter(bias)
    }
}

/// What the two convolution layers share: a `k × k` weight whose first two axes are the
/// layer's channel pair, an `[O]` bias starting at 0, the window's stride and zero padding.
public class WindowLayer: Layer {
    /// `[O, C, k, k]` for ``Conv2d``, `[C, O, k, k]` for ``ConvTranspose2d`` (PyTorch layouts).
    public let weight: Parameter
    /// `[O]`.
    public let bias: Parameter
    /// Window stride and zero padding (of the convolution a transposed layer transposes).
    public let stride: Int, padding: Int

    /// Parameters `name.weight` of `weightShape` (`[·, ·, k, k]`, initialised with fan-in
    /// `fanIn · k²` and fan-out `fanOut · k²`) and `name.bias` `[biasCount]`.
    init(_ kind: String, weightShape: [Int], fanIn: Int, fanOut: Int, biasCount: Int, stride: Int, padding: Int, name: String,
         initializer: Initializer, rng: inout RandomGenerator) {
        let kernel = weightShape[2]
        precondition(weightShape.allSatisfy { $0 > 0 } && stride > 0 && padding >= 0,
                     "\(kind) \(name): invalid channels/kernel/stride/padding")
        weight = Parameter("\(name).weight", initializer.sample(weightShape, fanIn: fanIn * kernel * kernel,
                                                                fanOut: fanOut * kernel * kernel, rng: &rng))
        bias = Parameter("\(name).bias", .zeros([biasCount]))
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight, bias] }
}

/// 2-D convolution layer (see `conv2d`): `weight [O, C, k, k]`, `bias [O]`.
public final class Conv2d: WindowLayer {
    /// A `k × k` convolution from `inChannels` to `outChannels` named `name`.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, name: String,
                initializer: Initializer = .glorotUniform, rng: inout RandomGenerator) {
        super.init("Conv2d", weightShape: [outChannels, inChannels, kernel, kernel], fanIn: inChannels, fanOut: outChannels,
                   biasCount: outChannels, stride: stride, padding: padding, name: name, initializer: initializer, rng: &rng)
    }

    /// Convolves `x [B, C, H, W]`, then applies `activation` (fused, see `ConvolutionActivation`).
    public func callAsFunction(_ x: Variable, activation: ConvolutionActivation = .identity) -> Variable {
        conv2d(x, weight: x.tape.parameter(weight), bias: x.tape.parameter(bias), stride: stride, padding: padding,
               activation: activation)
    }
}

/// 2-D transposed convolution layer (see `convTranspose2d`): `weight [C, O, k, k]`, `bias [O]`.
/// Its fans are those of the convolution it transposes (in = O·k², out = C·k²), as PyTorch's.
public final class ConvTranspose2d: WindowLayer {
    /// A `k × k` transposed convolution from `inChannels` to `outChannels` named `name`.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, name: String,
                initializer: Initializer = .glorotUniform, rng: inout RandomGenerator) {
        super.init("ConvTranspose2d", weightShape: [inChannels, outChannels, kernel, kernel], fanIn: outChannels,
                   fanOut: inChannels, biasCount: outChannels, stride: stride, padding: padding, name: name,
                   initializer: initializer, rng: &rng)
    }

    /// Transposed-convolves `x [B, C, H, W]`, then applies `activation` (fused, see `ConvolutionActivation`).
    public func callAsFunction(_ x: Variable, activation: ConvolutionActivation = .identity) -> Variable {
        convTranspose2d(x, weight: x.tape.parameter(weight), bias: x.tape.parameter(bias), stride: stride, padding: padding,
                        activation: activation)
    }
}
