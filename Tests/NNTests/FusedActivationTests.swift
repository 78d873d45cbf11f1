import Autodiff
import ConvKernels
import NN
import TensorCore
import TestSupport
import Testing

/// `activation: .relu` inside `conv2d` / `convTranspose2d` against `.relu()` after an `.identity`
/// convolution: the output and all three gradients must be the same bits, on every lowering this CPU
/// runs, for single-image pieces and multi-image ones, on one thread.
@Suite struct FusedActivationTests {
    /// Output, ∂x, ∂W, ∂b for `layer` on fresh leaves, seeded with `seed`.
    /// Serially on this thread: other suites change the global thread count, which sets how weight
    /// gradients are summed, and the two runs compared must sum alike.
    private func valueAndGradients(_ inputs: [Tensor], seed: Tensor, _ layer: ([Variable]) -> Variable) -> [[Float]] {
        Parallel.serially { unserialValueAndGradients(inputs, seed: seed, layer) }
    }

    private func unserialValueAndGradients(_ inputs: [Tensor], seed: Tensor, _ layer: ([Variable]) -> Variable) -> [[Float]] {
        let tape = Tape()
        let leaves = inputs.map { tape.input($0) }
        let y = layer(leaves)
        let gradients = tape.backward(from: y, seed: seed)
        return [y.value.scalars] + leaves.map { gradients[$0]!.scalars }
    }

    /// How many elements differ in each pair of arrays (bit patterns, so −0 and 0 count as different).
    private func differences(_ a: [[Float]], _ b: [[Float]]) -> [Int] {
        zip(a, b).map { x, y in x.count != y.count ? -1 : zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count }
    }

    private var lowerings: [ConvolutionLowering] { DirectConvolution.isSupported ? [.im2col, .direct] : [.im2col] }

    /// (in channels, out channels, height = width, batch): a multi-image-piece grid (8×8 → 4×4 or 8×8
    /// → 16×16) and a single-image one (32×32 → 16×16 or 32×32 → 64×64).
    @Test(arguments: [(32, 32, 8, 5), (32, 64, 32, 3)])
    func reluInsideEqualsReluAfter(c: Int, o: Int, side: Int, batch: Int) {
        for lowering in lowerings {
            expectFusedEqualsAfter("conv2d \(lowering)",
                                   [awayFromZero([batch, c, side, side], seed: 61), awayFromZero([o, c, 4, 4], seed: 62, low: 0.01, high: 0.1),
                                    awayFromZero([o], seed: 63)],
                                   seed: awayFromZero([batch, o, side / 2, side / 2], seed: 64)) { x, w, b, activation in
                conv2d(x, weight: w, bias: b, stride: 2, padding: 1, lowering: lowering, activation: activation)
            }
            expectFusedEqualsAfter("convTranspose2d \(lowering)",
                                   [awayFromZero([batch, c, side, side], seed: 65), awayFromZero([c, o, 4, 4], seed: 66, low: 0.01, high: 0.1),
                                    awayFromZero([o], seed: 67)],
                                   seed: awayFromZero([batch, o, 2 * side, 2 * side], seed: 68)) { x, w, b, activation in
                convTranspose2d(x, weight: w, bias: b, stride: 2, padding: 1, lowering: lowering, activation: activation)
            }
        }
    }

    /// `layer(x, w, b, .relu)` against `layer(x, w, b, .identity).relu()` on `inputs` (x, w, b): the same
    /// bits in y, ∂x, ∂W, ∂b, and some outputs cut (else the test could not tell the activations apart).
    private func expectFusedEqualsAfter(_ name: String, _ inputs: [Tensor], seed: Tensor,
                                        _ layer: @escaping (Variable, Variable, Variable, ConvolutionActivation) -> Variable) {
        let fused = valueAndGradients(inputs, seed: seed) { layer($0[0], $0[1], $0[2], .relu) }
        let after = valueAndGradients(inputs, seed: seed) { layer($0[0], $0[1], $0[2], .identity).relu() }
        #expect(differences(fused, after) == [0, 0, 0, 0], "\(name): differing elements of y, ∂x, ∂W, ∂b")
        #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "\(name)")
    }

    /// The identity activation leaves the output signed.
    @Test func identityKeepsNegativeOutputs() {
        let t = Tape(recording: false)
        let y = conv2d(t.constant(awayFromZero([1, 32, 8, 8], seed: 69)), weight: t.constant(awayFromZero([32, 32, 4, 4], seed: 70)),
                       bias: nil, stride: 2, padding: 1)
        #expect(y.value.scalars.contains { $0 < 0 })
    }

    /// ∂b is summed per image and then in image order, wherever an image is read: the same bits on
    /// 1, 2 and 3 threads (∂W's per-thread partials make it differ; ∂b must not), fused ReLU or not.
    @Test func biasGradientIsTheSameOnAnyThreadCount() {
        defer { Parallel.setThreadCount(1) }
        let (x, w, b) = (awayFromZero([5, 32, 8, 8], seed: 71), awayFromZero([32, 32, 4, 4], seed: 72, low: 0.01, high: 0.1),
                         awayFromZero([32], seed: 73))
        let seed = awayFromZero([5, 32, 4, 4], seed: 74)
        for lowering in lowerings {
            for activation in [ConvolutionActivation.identity, .relu] {
                let sums = [1, 2, 3].map { threads -> [Float] in
                    Parallel.setThreadCount(threads)
                    return unserialValueAndGradients([x, w, b], seed: seed) {
                        conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, lowering: lowering, activation: activation)
                    }[3]
                }
                #expect(sums[0] == sums[1] && sums[0] == sums[2], "\(lowering) \(activation)")
            }
        }
    }
}
