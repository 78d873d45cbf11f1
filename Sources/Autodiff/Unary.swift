import Foundation
import TensorCore

// Elementwise primitives y = f(x), each with ∂L/∂x = g ⊙ f′(x) written beside it.

extension Variable {
    /// `eˣ`. f′ = eˣ (reuses the output).
    public func exp() -> Variable {
        let y = value.map { Foundation.exp($0) }
        return derived(y) { g, _ in [g * y] }
    }

    /// `ln x`. f′ = 1/x.
    public func log() -> Variable {
        let x = value
        return derived(x.map { Foundation.log($0) }) { g, _ in [g / x] }
    }

    /// `x²`. f′ = 2x.
    public func squared() -> Variable {
        let x = value
        return derived(x.map { $0 * $0 }) { g, _ in [g.zipWith(x) { $0 * 2 * $1 }] }
    }

    /// `√x`. f′ = 1/(2√x).
    public func sqrt() -> Variable {
        let y = value.map { $0.squareRoot() }
        return derived(y) { g, _ in [g.zipWith(y) { $0 / (2 * $1) }] }
    }

    /// `|x|`. f′ = sign(x) (0 at x = 0, the subgradient PyTorch also uses).
    public func abs() -> Variable {
        let x = value
        return derived(x.map { Swift.abs($0) }) { g, _ in [g.zipWith(x) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }] }
    }

    /// `max(x, 0)`. f′ = 1 where x > 0, else 0.
    public func relu() -> Variable { leakyRelu(slope: 0) }

    /// `x` for x > 0, `slope·x` otherwise. f′ = 1 or `slope`.
    public func leakyRelu(slope: Float) -> Variable {
        let y = value.leakyRelu(slope: slope)
        // The sign of y equals the sign of x (slope ≥ 0), so the output is enough for the pullback.
        return derived(y) { g, _ in [Tensor.leakyReluPullback(g, output: y, slope: slope)] }
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`. f′ = σ(1 − σ). Computed as e^x/(1+e^x) for x < 0 so that
    /// e^(−x) never overflows.
    public func sigmoid() -> Variable {
        let y = value.map(Variable.stableSigmoid)
        return derived(y) { g, _ in [g.zipWith(y) { $0 * $1 * (1 - $1) }] }
    }

    /// `tanh x`. f′ = 1 − tanh².
    public func tanh() -> Variable {
        let y = value.map { Foundation.tanh($0) }
        return derived(y) { g, _ in [g.zipWith(y) { $0 * (1 - $1 * $1) }] }
    }

    /// `softplus(x) = ln(1 + eˣ)`, fused. f′ = σ(x).
    ///
    /// Stable form: `ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|))`; the exponent is never
    /// positive, so nothing overflows, and `log1p` keeps precision when e^(−|x|) is tiny.
    public func softplus() -> Variable {
        let x = value
        return derived(x.map(Variable.stableSoftplus)) { g, _ in [g.zipWith(x) { $0 * Variable.stableSigmoid($1) }] }
    }

    /// σ(x) without overflow: `1/(1+e^(−x))` for x ≥ 0, `eˣ/(1+eˣ)` for x < 0.
    @inline(__always)
    public static func stableSigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// `ln(1 + eˣ)` as `max(x, 0) + log1p(e^(−|x|))`.
    @inline(__always)
    public static func stableSoftplus(_ x: Float) -> Float {
        Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    }
}
