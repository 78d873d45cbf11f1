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

/// 2-D convolution layer (see `conv2d`): `weight [O, C, k, k]`, `bias [O]`.
public final class Conv2d: Layer {
    /// `[O, C, k, k]`.
    public let weight: Parameter
    /// `[O]`.
    public let bias: Parameter
    /// Window stride and zero padding.
    public let stride: Int, padding: Int

    /// A `k × k` convolution from `inChannels` to `outChannels` named `name`.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, name: String,
                initializer: Initializer = .glorotUniform, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "Conv2d \(name): invalid channels/kernel/stride/padding")
        weight = Parameter("\(name).weight", initializer.sample([outChannels, inChannels, kernel, kernel],
                                                                fanIn: inChannels * kernel * kernel,
                                                                fanOut: outChannels * kernel * kernel, rng: &rng))
        bias = Parameter("\(name).bias", .zeros([outChannels]))
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// Convolves `x [B, C, H, W]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        conv2d(x, weight: x.tape.parameter(weight), bias: x.tape.parameter(bias), stride: stride, padding: padding)
    }
}

/// 2-D transposed convolution layer (see `convTranspose2d`): `weight [C, O, k, k]`, `bias [O]`.
public final class ConvTranspose2d: Layer {
    /// `[C, O, k, k]` (PyTorch layout).
    public let weight: Parameter
    /// `[O]`.
    public let bias: Parameter
    /// Stride and padding of the convolution this transposes.
    public let stride: Int, padding: Int

    /// A `k × k` transposed convolution from `inChannels` to `outChannels` named `name`.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, name: String,
                initializer: Initializer = .glorotUniform, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "ConvTranspose2d \(name): invalid channels/kernel/stride/padding")
        weight = Parameter("\(name).weight", initializer.sample([inChannels, outChannels, kernel, kernel],
                                                                fanIn: outChannels * kernel * kernel,
                                                                fanOut: inChannels * kernel * kernel, rng: &rng))
        bias = Parameter("\(name).bias", .zeros([outChannels]))
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// Transposed-convolves `x [B, C, H, W]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        convTranspose2d(x, weight: x.tape.parameter(weight), bias: x.tape.parameter(bias), stride: stride, padding: padding)
    }
}
