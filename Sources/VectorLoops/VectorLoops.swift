// The elementwise loops of a training step that run sixteen floats at a time: the Bernoulli loss
// and its gradient, Adam's update, ReLU's pullback with the bias gradient's sums. This module is
// compiled optimised in every configuration (see Package.swift) for the baseline CPU — the loops run
// on every machine, and unoptimised SIMD code is ~100× slower, which debug builds (the tests) would
// feel in every training step. Plain Swift SIMD over raw pointers; no dependency on the rest of
// Untangle. Each function is the body its caller (NN, Optimizers) documents.

import Foundation

/// Sixteen floats: one AVX-512 register, or two AVX ones on the baseline CPU.
public typealias Lanes16 = SIMD16<Float>

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes16 { UnsafeRawPointer(p).loadUnaligned(as: Lanes16.self) }
@inline(__always) func store(_ x: Lanes16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: Lanes16.self) }

/// `ln(1 + e)` lane by lane for `e ∈ [0, 1]` (the softplus term `log1p(e^(−|ℓ|))` of a Bernoulli
/// likelihood), within 1.5 ulp of `ln(1 + e)` (1.19 at worst over a sweep of [0, 1] against a
/// double-precision `log1p`; glibc's scalar `log1pf` is within 1).
///
/// With `u = 1 + e` (rounded, in [1, 2]): `ln u = k·ln 2 + ln(1 + f)` with `k = 1, f = u/2 − 1` above
/// √2 and `k = 0, f = u − 1` below, `ln(1 + f)` by Cephes' `logf` polynomial (Moshier 1992: ln 2 split
/// as 0.693359375 − 2.12194440·10⁻⁴); then `+ c/u` with `c = e − (u − 1)`, the exact rounding error of
/// `1 + e`, since `ln(1 + e) = ln u + ln(1 + c/u)` and `|c/u| ≤ 2⁻²⁴`.
public func log1pOfUnitInterval(_ e: Lanes16) -> Lanes16 {
    let one = Lanes16(repeating: 1), u = one + e
    let high = u .> Lanes16(repeating: 1.41421356)
    let f = (u - one).replacing(with: u * 0.5 - one, where: high)
    let k = Lanes16(repeating: 0).replacing(with: one, where: high)
    let z = f * f
    var p = f * 7.0376836292e-2 - 1.1514610310e-1
    p = p * f + 1.1676998740e-1
    p = p * f - 1.2420140846e-1
    p = p * f + 1.4249322787e-1
    p = p * f - 1.6668057665e-1
    p = p * f + 2.0000714765e-1
    p = p * f - 2.4999993993e-1
    p = p * f + 3.3333331174e-1
    var y = p * f * z
    y += k * -2.12194440e-4
    y += z * -0.5
    let logU = f + y + k * 0.693359375
    // ln(1 + e) = ln u + ln(1 + c/u) ≈ ln u + c/u, with c = e − (u − 1) the rounding error of 1 + e (exact).
    return logU + (e - (u - one)) / u
}

/// The Bernoulli negative log-likelihood terms of `range`, summed in Double in order:
/// `Σ_i [max(ℓ_i, 0) − ℓ_i·x_i + ln(1 + e_i)]` with `e_i = e^(−|ℓ_i|)` (`ln(1 + e)` by
/// `log1pOfUnitInterval` sixteen at a time, glibc's `log1p` for the tail). With `residual`, also writes
/// `residual[i] = σ(ℓ_i) − x_i`, σ from the same `e_i`: `1/(1 + e)` for ℓ ≥ 0, `e/(1 + e)` below.
public func bernoulliTerms(logits l: UnsafePointer<Float>, targets x: UnsafePointer<Float>, range: Range<Int>,
                           residual: UnsafeMutablePointer<Float>?) -> Double {
    var sum = 0.0
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
        var e = Lanes16()
        for lane in 0..<16 { e[lane] = Foundation.exp(-Swift.abs(l[i + lane])) }
        let v = load(l + i), t = load(x + i)
        let terms = v.replacing(with: 0, where: v .< 0) - v * t + log1pOfUnitInterval(e)
        for lane in 0..<16 { sum += Double(terms[lane]) }
        if let residual {
            let sigmoid = (1 / (1 + e)).replacing(with: e / (1 + e), where: v .< 0)
            store(sigmoid - t, residual + i)
        }
        i += 16
    }
    while i < range.upperBound {
        let v = l[i], t = x[i], e = Foundation.exp(-Swift.abs(v))
        sum += Double(Swift.max(v, 0) - v * t + Foundation.log1p(e))
        if let residual { residual[i] = (v >= 0 ? 1 / (1 + e) : e / (1 + e)) - t }
        i += 1
    }
    return sum
}

/// Adam's update of elements `range` in place (PyTorch's arrangement): `m ← β₁m + (1−β₁)g`,
/// `v ← β₂v + (1−β₂)g²`, `θ ← θ − stepSize·m/(√v/correction2 + ε)`, sixteen at a time (vector square
/// roots and divides are exact, so the same bits as one at a time).
public func adamUpdate(m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                       parameter p: UnsafeMutablePointer<Float>, range: Range<Int>,
                       beta1 b1: Float, beta2 b2: Float, stepSize: Float, correction2: Float, epsilon eps: Float) {
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
        let gi = load(g + i)
        let mi = b1 * load(m + i) + (1 - b1) * gi
        let vi = b2 * load(v + i) + (1 - b2) * gi * gi
        let step = stepSize * mi / (vi.squareRoot() / correction2 + eps)
        store(mi, m + i); store(vi, v + i)
        store(load(p + i) - step, p + i)
        i += 16
    }
    for j in i..<range.upperBound {
        let gj = g[j]
        m[j] = b1 * m[j] + (1 - b1) * gj
        v[j] = b2 * v[j] + (1 - b2) * gj * gj
        p[j] -= stepSize * m[j] / (v[j].squareRoot() / correction2 + eps)
    }
}

/// ReLU's pullback over one plane of `count` floats, `out[i] = y[i] > 0 ? g[i] : 0·g[i]`, adding
/// what it writes to a channel's running sums: sixteen lanes while sixteen remain, then `tail`, in
/// order (the per-image bias sums of NN's `convolutionPullback`; `addPlane` without the mask).
public func reluMaskPlane(gradient g: UnsafePointer<Float>, output y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                          count: Int, lanes: inout Lanes16, tail: inout Float) {
    var i = 0
    while i + 16 <= count {
        let gradient = load(g + i)
        let kept = (0 * gradient).replacing(with: gradient, where: load(y + i) .> 0)
        store(kept, out + i)
        lanes += kept
        i += 16
    }
    while i < count {
        let d = g[i], kept = y[i] > 0 ? d : 0 * d
        out[i] = kept
        tail += kept
        i += 1
    }
}

/// Adds one plane of `count` floats to a channel's running sums: sixteen lanes while sixteen remain,
/// then `tail`, in order (sixteen running sums, not one: a single float accumulator is a serial chain
/// of dependent adds that cannot vectorise).
public func addPlane(_ p: UnsafePointer<Float>, count: Int, lanes: inout Lanes16, tail: inout Float) {
    var i = 0
    while i + 16 <= count {
        lanes += load(p + i)
        i += 16
    }
    while i < count { tail += p[i]; i += 1 }
}
