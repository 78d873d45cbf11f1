// Sixteen-float vectors read from and written to raw buffers, for the few loops the compiler
// leaves scalar (it cannot prove a loop's buffers disjoint) and for running sums that must be
// vectors to vectorise.

extension SIMD16 where Scalar == Float {
    /// The 16 floats at `p…p+15` (no alignment needed).
    @inline(__always)
    public init(loading p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// The 16 floats at `p…p+15` (no alignment needed).
    @inline(__always)
    public init(loading p: UnsafeMutablePointer<Float>) { self.init(loading: UnsafePointer(p)) }

    /// Writes the 16 lanes to `p…p+15` (no alignment needed).
    @inline(__always)
    public func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self)
    }
}

extension SIMD16 where Scalar == Float {
    /// `ln(1 + e)` lane by lane for `e ∈ [0, 1]` (the softplus term `log1p(e^(−|ℓ|))` of a Bernoulli
    /// likelihood), within 1.5 ulp of `ln(1 + e)` (1.19 at worst over the test's sweep of [0, 1] against a
    /// double-precision `log1p`; glibc's scalar `log1pf` is within 1).
    ///
    /// With `u = 1 + e` (rounded, in [1, 2]): `ln u = k·ln 2 + ln(1 + f)` with `k = 1, f = u/2 − 1` above
    /// √2 and `k = 0, f = u − 1` below, `ln(1 + f)` by Cephes' `logf` polynomial (Moshier 1992: ln 2 split
    /// as 0.693359375 − 2.12194440·10⁻⁴); then `+ c/u` with `c = e − (u − 1)`, the exact rounding error of
    /// `1 + e`, since `ln(1 + e) = ln u + ln(1 + c/u)` and `|c/u| ≤ 2⁻²⁴`.
    @inline(__always)
    public static func log1pOfUnitInterval(_ e: SIMD16<Float>) -> SIMD16<Float> {
        let one = SIMD16<Float>(repeating: 1), u = one + e
        let high = u .> SIMD16<Float>(repeating: 1.41421356)
        let f = (u - one).replacing(with: u * 0.5 - one, where: high)
        let k = SIMD16<Float>(repeating: 0).replacing(with: one, where: high)
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
}
