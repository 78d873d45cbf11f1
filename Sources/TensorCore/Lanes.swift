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
