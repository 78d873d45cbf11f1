import ConvKernels
import Testing

/// `ConvKernels.transpose` (`[V, L] → [L, V]`, the direct layers' ∂W operand) against its definition,
/// on register-block shapes (V a multiple of 16, L of 8) and on shapes that take the scalar loop.
@Suite(.enabled(if: DirectConvolution.isSupported, "the kernels need AVX-512 on x86-64"))
struct TransposeTests {
    @Test(arguments: [(16, 8), (32, 256), (64, 64), (48, 24), (5, 7), (16, 12), (8, 8)])
    func matchesTheDefinition(channels: Int, positions: Int) {
        let x = (0..<(channels * positions)).map { Float($0) + 0.5 }
        var out = [Float](repeating: .nan, count: channels * positions)
        transpose(x, channels: channels, positions: positions, into: &out)
        var wrong = 0
        for v in 0..<channels { for l in 0..<positions where out[l * channels + v] != x[v * positions + l] { wrong += 1 } }
        #expect(wrong == 0, "\(wrong) of \(channels * positions) elements misplaced")
    }
}
