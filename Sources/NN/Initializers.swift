import Foundation
import TensorCore

/// Weight initialisation schemes. `fanIn`/`fanOut` count the inputs/outputs of one
/// unit: for `Linear [out, in]` they are `in`/`out`; for `Conv2d [O, C, k, k]`
/// they are `C·k²`/`O·k²`.
public enum Initializer: String, Sendable, Codable, CaseIterable {
    /// Glorot & Bengio (2010): U(−a, a), `a = √(6/(fanIn + fanOut))` (TensorFlow's default, used by dlib).
    case glorotUniform
    /// He et al. (2015): N(0, 2/fanIn), for ReLU networks.
    case heNormal
    /// He et al. (2015): U(−a, a), `a = √(6/fanIn)`.
    case heUniform
    /// PyTorch's default for Linear/Conv: U(−a, a), `a = 1/√fanIn` (kaiming_uniform with a = √5).
    case torchDefault

    /// A tensor of `shape` drawn from this scheme.
    public func sample(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout RandomGenerator) -> Tensor {
        switch self {
        case .glorotUniform:
            let a = Float(sqrt(6.0 / Double(fanIn + fanOut)))
            return rng.uniform(shape, low: -a, high: a)
        case .heNormal:
            return rng.normal(shape, std: Float(sqrt(2.0 / Double(fanIn))))
        case .heUniform:
            let a = Float(sqrt(6.0 / Double(fanIn)))
            return rng.uniform(shape, low: -a, high: a)
        case .torchDefault:
            let a = Float(1 / sqrt(Double(fanIn)))
            return rng.uniform(shape, low: -a, high: a)
        }
    }
}
