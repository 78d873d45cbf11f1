import Autodiff
import Foundation
import TensorCore
import VectorLoops

/// A first-order optimiser: updates each parameter from its accumulated gradient.
///
/// The walk over parameters (skip those without a gradient, then clear it) is
/// written once in `step(_:)`; an optimiser only supplies the per-parameter rule.
public protocol Optimizer: AnyObject {
    /// Number of `step` calls so far (t in the formulas).
    var stepCount: Int { get }
    /// Advances the step counter (called once per `step`).
    func beginStep()
    /// Updates `parameter.value` in place from `gradient`.
    func update(_ parameter: Parameter, gradient: Tensor)
}

extension Optimizer {
    /// One optimisation step over `parameters`; consumes (clears) their gradients.
    public func step(_ parameters: [Parameter]) {
        beginStep()
        for p in parameters {
            guard let g = p.gradient else { continue }
            precondition(g.shape == p.value.shape, "\(type(of: self)): gradient \(g.shape) of \(p.name) differs from its value \(p.value.shape)")
            update(p, gradient: g)
            p.gradient = nil
        }
    }
}

/// Adam with bias correction (Kingma & Ba 2015, Algorithm 1), in PyTorch's arrangement.
///
/// Concretely, per element at step t:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)`.
/// Optional decoupled weight decay is not applied (dlib uses none).
public final class Adam: Optimizer {
    /// Hyperparameters.
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
    public private(set) var stepCount = 0
    /// First and second moment estimates per parameter name.
    public private(set) var moments: [String: (m: Tensor, v: Tensor)] = [:]

    /// dlib's defaults: lr 1e-4, β₁ 0.9, β₂ 0.999, ε 1e-8.
    public init(learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(learningRate > 0, "Adam: learningRate must be > 0, got \(learningRate)")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must lie in [0, 1), got \(beta1), \(beta2)")
        precondition(epsilon > 0, "Adam: epsilon must be > 0, got \(epsilon)")
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    public func beginStep() { stepCount += 1 }

    public func update(_ parameter: Parameter, gradient: Tensor) {
        var (m, v) = moments[parameter.name] ?? (.zeros(gradient.shape), .zeros(gradient.shape))
        moments[parameter.name] = nil // drop the dictionary's reference so updates stay in place
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        m.scalars.withUnsafeMutableBufferPointer { pm in
            v.scalars.withUnsafeMutableBufferPointer { pv in
                gradient.scalars.withUnsafeBufferPointer { pg in
                    parameter.value.scalars.withUnsafeMutableBufferPointer { pp in
                        // Elementwise, so the blocks (one per thread for large tensors) change nothing in the result;
                        // sixteen lanes at a time in `VectorLoops` (the compiler left the plain loop scalar).
                        nonisolated(unsafe) let (pm, pv, pg, pp) = (pm, pv, pg, pp)
                        Parallel.forEachBlock(pp.count) { range in
                            adamUpdate(m: pm.baseAddress!, v: pv.baseAddress!, gradient: pg.baseAddress!, parameter: pp.baseAddress!,
                                       range: range, beta1: b1, beta2: b2, stepSize: stepSize, correction2: correction2, epsilon: eps)
                        }
                    }
                }
            }
        }
        moments[parameter.name] = (m, v)
    }

    /// Restores moments and step count (for resuming training).
    public func restore(stepCount: Int, moments: [String: (m: Tensor, v: Tensor)]) {
        self.stepCount = stepCount
        self.moments = moments
    }
}

/// Stochastic gradient descent with optional momentum (PyTorch's form):
/// `b ← μb + g`, `θ ← θ − lr·b` (plain SGD when μ = 0).
public final class SGD: Optimizer {
    /// Hyperparameters.
    public let learningRate: Float, momentum: Float
    public private(set) var stepCount = 0
    private var buffers: [String: Tensor] = [:]

    /// SGD with learning rate `learningRate` and momentum `momentum` ∈ [0, 1).
    public init(learningRate: Float, momentum: Float = 0) {
        precondition(learningRate > 0, "SGD: learningRate must be > 0, got \(learningRate)")
        precondition((0..<1).contains(momentum), "SGD: momentum must lie in [0, 1), got \(momentum)")
        self.learningRate = learningRate; self.momentum = momentum
    }

    public func beginStep() { stepCount += 1 }

    public func update(_ parameter: Parameter, gradient: Tensor) {
        var direction = gradient
        if momentum > 0 {
            if var b = buffers[parameter.name] {
                b *= momentum
                b += gradient
                direction = b
            }
            buffers[parameter.name] = direction
        }
        parameter.value += direction * -learningRate
    }
}
