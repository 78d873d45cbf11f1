import Foundation

/// A seeded, splittable pseudo-random generator (xoshiro256**, seeded by SplitMix64).
///
/// Runs are reproducible bit-for-bit: the same seed gives the same stream on
/// every machine. `split()` derives an independent child stream (for a data
/// loader, a dropout mask, a worker) without disturbing the parent's sequence
/// beyond one draw; `fork(_:)` derives the child number `i` without advancing
/// at all. The state is `Codable` so that training can be resumed exactly.
///
/// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).
public struct RandomGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// The four 64-bit words of xoshiro256** state (save them to resume the stream).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// Seeds the generator by expanding `seed` with SplitMix64 (never all-zero).
    public init(seed: UInt64) {
        var sm = seed
        s0 = RandomGenerator.splitMix64(&sm)
        s1 = RandomGenerator.splitMix64(&sm)
        s2 = RandomGenerator.splitMix64(&sm)
        s3 = RandomGenerator.splitMix64(&sm)
    }

    /// Restores a generator from a saved `state` (4 words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "RandomGenerator: state must be 4 words, not all zero")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    @inline(__always)
    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = RandomGenerator.rotl(s3, 45)
        return result
    }

    /// An independent child generator; advances this one by one draw.
    public mutating func split() -> RandomGenerator {
        RandomGenerator(seed: next() ^ 0xD1B5_4A32_D192_ED03)
    }

    /// The `index`-th child stream of this generator, without advancing it.
    public func fork(_ index: UInt64) -> RandomGenerator {
        var mix = s0 ^ RandomGenerator.rotl(s2, 21) ^ (index &* 0x9E37_79B9_7F4A_7C15)
        return RandomGenerator(seed: RandomGenerator.splitMix64(&mix) ^ index)
    }

    /// Uniform in [0, 1) with 24 random bits (every representable step of a Float mantissa).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) as a Double with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.int(below:): bound must be positive, got \(bound)")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A standard normal draw N(0, 1) via the Box–Muller transform (the sine half is discarded).
    public mutating func normal() -> Float {
        let u1 = 1 - uniformDouble() // (0, 1], so log is finite
        let u2 = uniformDouble()
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// A tensor of i.i.d. N(mean, std²) draws; Box–Muller pairs fill consecutive elements.
    public mutating func normal(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        let n = shape.product
        var out = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let u1 = 1 - uniformDouble(), u2 = uniformDouble()
            let r = (-2 * Foundation.log(u1)).squareRoot(), a = 2 * Double.pi * u2
            out[i] = mean + std * Float(r * Foundation.cos(a))
            if i + 1 < n { out[i + 1] = mean + std * Float(r * Foundation.sin(a)) }
            i += 2
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// A tensor of i.i.d. Uniform[low, high) draws.
    public mutating func uniform(_ shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        var g = self
        let t = Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = low + (high - low) * g.uniform() }
        }
        self = g
        return t
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Shuffles `array` in place uniformly (Fisher–Yates, deterministic given the state).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }
}
