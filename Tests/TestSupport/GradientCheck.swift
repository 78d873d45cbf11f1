import Autodiff
import TensorCore

/// Finite-difference gradient checking for autodiff primitives.
///
/// The function under test maps input variables to an output of any shape; it is
/// reduced to the scalar `L = Σ wᵢ·yᵢ` with fixed pseudo-random weights `w` (so that
/// every output element matters and errors cannot cancel), accumulated in `Double`.
/// Each checked input element gets the central difference
/// `(L(x + ε) − L(x − ε)) / 2ε`, compared with the tape's gradient as
/// `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance·|numeric|`.
public struct GradientCheck {
    public var epsilon: Float = 1e-2
    public var absoluteTolerance: Double = 2e-3
    public var relativeTolerance: Double = 1e-2
    /// At most this many elements per input are probed (spread evenly); all if fewer.
    public var maximumProbes = 64

    public init(epsilon: Float = 1e-2, absoluteTolerance: Double = 2e-3, relativeTolerance: Double = 1e-2,
                maximumProbes: Int = 64) {
        self.epsilon = epsilon
        self.absoluteTolerance = absoluteTolerance
        self.relativeTolerance = relativeTolerance
        self.maximumProbes = maximumProbes
    }

    /// One disagreement between the analytic and numeric gradient.
    public struct Mismatch: CustomStringConvertible {
        public var input: Int, element: Int, analytic: Double, numeric: Double
        public var description: String { "input \(input)[\(element)]: analytic \(analytic), numeric \(numeric)" }
    }

    /// Checks `function` at `inputs`; returns the mismatches (empty when the gradients agree).
    public func mismatches(_ inputs: [Tensor], _ function: ([Variable]) -> Variable) -> [Mismatch] {
        // Analytic gradients.
        let tape = Tape()
        let leaves = inputs.map { tape.input($0) }
        let y = function(leaves)
        var weightRNG = RandomGenerator(seed: 99)
        let weights = weightRNG.uniform(y.shape, low: 0.5, high: 1.5)
        let grads = tape.backward(from: y, seed: weights)

        func loss(_ xs: [Tensor]) -> Double {
            let t = Tape(recording: false)
            let out = function(xs.map { t.constant($0) }).value
            var s = 0.0
            for i in 0..<out.count { s += Double(out.scalars[i]) * Double(weights.scalars[i]) }
            return s
        }

        var found: [Mismatch] = []
        for (k, x) in inputs.enumerated() {
            let analytic = grads[leaves[k]] ?? .zeros(x.shape)
            let probes = x.count <= maximumProbes ? Array(0..<x.count)
                : (0..<maximumProbes).map { $0 * x.count / maximumProbes }
            for e in probes {
                var plus = inputs, minus = inputs
                plus[k].scalars[e] += epsilon
                minus[k].scalars[e] -= epsilon
                let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
                let a = Double(analytic.scalars[e])
                if abs(a - numeric) > absoluteTolerance + relativeTolerance * abs(numeric) {
                    found.append(Mismatch(input: k, element: e, analytic: a, numeric: numeric))
                }
            }
        }
        return found
    }
}

/// Test data: a tensor of `shape` with entries uniform in ±[low, high] (bounded away
/// from 0 so that kinks such as ReLU's are not straddled by finite differences).
public func awayFromZero(_ shape: [Int], seed: UInt64, low: Float = 0.1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: shape) { out in
        for i in 0..<out.count {
            let magnitude = low + (high - low) * rng.uniform()
            out[i] = rng.uniform() < 0.5 ? -magnitude : magnitude
        }
    }
}

/// Maximum absolute elementwise difference of two same-shaped tensors.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxAbsDifference: \(a.shape) vs \(b.shape)")
    var m: Float = 0
    for i in 0..<a.count { m = Swift.max(m, Swift.abs(a.scalars[i] - b.scalars[i])) }
    return m
}
