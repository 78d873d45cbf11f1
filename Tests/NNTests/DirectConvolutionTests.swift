import Autodiff
import ConvKernels
import NN
import TensorCore
import TestSupport
import Testing

/// Value and input gradients of one convolution call on `[x, w, b]`, seeded with `seed`.
private func valueAndGradients(_ inputs: [Tensor], seed: Tensor, _ layer: ([Variable]) -> Variable) -> [Tensor] {
    let tape = Tape()
    let leaves = inputs.map { tape.input($0) }
    let y = layer(leaves)
    let gradients = tape.backward(from: y, seed: seed)
    return [y.value] + leaves.map { gradients[$0]! }
}

/// (in channels, out channels, kernel, stride, padding, height, width): dlib's 32/64-channel layers,
/// odd sizes whose rows end in part-filled tiles, a stride of 1 and of 3, and a 3×3 kernel.
let directCases: [(Int, Int, Int, Int, Int, Int, Int)] = [
    (32, 32, 4, 2, 1, 16, 16), (32, 64, 3, 1, 1, 9, 11), (64, 32, 4, 2, 1, 6, 5), (32, 32, 5, 3, 2, 13, 7), (32, 32, 2, 2, 0, 4, 4),
]

/// The direct kernels against the im2col lowering (itself checked against loops and finite
/// differences in `ConvolutionTests`): values and all three gradients, both layer types.
@Suite(.enabled(if: DirectConvolution.isSupported, "the direct kernels need AVX-512 on x86-64"))
struct DirectConvolutionTests {
    @Test(arguments: directCases)
    func conv2dMatchesTheIm2colLowering(c: Int, o: Int, k: Int, s: Int, p: Int, h: Int, w: Int) {
        let inputs = [awayFromZero([3, c, h, w], seed: 41), awayFromZero([o, c, k, k], seed: 42), awayFromZero([o], seed: 43)]
        let (gh, gw) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1)
        let seed = awayFromZero([3, o, gh, gw], seed: 44)
        let direct = valueAndGradients(inputs, seed: seed) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, lowering: .direct) }
        let im2col = valueAndGradients(inputs, seed: seed) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, lowering: .im2col) }
        expectClose(direct, im2col, ["y", "∂x", "∂W", "∂b"])
    }

    @Test(arguments: directCases)
    func convTranspose2dMatchesTheIm2colLowering(c: Int, o: Int, k: Int, s: Int, p: Int, h: Int, w: Int) {
        let inputs = [awayFromZero([3, c, h, w], seed: 45), awayFromZero([c, o, k, k], seed: 46), awayFromZero([o], seed: 47)]
        let (oh, ow) = ((h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k)
        let seed = awayFromZero([3, o, oh, ow], seed: 48)
        let direct = valueAndGradients(inputs, seed: seed) { convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, lowering: .direct) }
        let im2col = valueAndGradients(inputs, seed: seed) { convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p, lowering: .im2col) }
        expectClose(direct, im2col, ["y", "∂x", "∂W", "∂b"])
    }

    /// Finite differences through the direct kernels themselves, at a few entries of each input.
    @Test func gradientsMatchFiniteDifferences() {
        let check = GradientCheck(maximumProbes: 12)
        let conv = [awayFromZero([2, 32, 8, 8], seed: 49), awayFromZero([32, 32, 4, 4], seed: 50, low: 0.01, high: 0.05), awayFromZero([32], seed: 51)]
        let convBad = check.mismatches(conv) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, lowering: .direct) }
        #expect(convBad.isEmpty, "\(convBad.prefix(5))")
        let transposed = [awayFromZero([2, 32, 8, 8], seed: 52), awayFromZero([32, 32, 4, 4], seed: 53, low: 0.01, high: 0.05), awayFromZero([32], seed: 54)]
        let transposedBad = check.mismatches(transposed) { convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, lowering: .direct) }
        #expect(transposedBad.isEmpty, "\(transposedBad.prefix(5))")
    }

    /// `automatic` takes the direct kernels for 32-channel layers with ≥ 8-wide grids and im2col
    /// otherwise; the choice shows in the result only through rounding, so compare bit patterns.
    @Test func automaticPicksByShape() {
        let t = Tape(recording: false)
        let x = awayFromZero([2, 32, 16, 16], seed: 55), w = awayFromZero([32, 32, 4, 4], seed: 56), b = awayFromZero([32], seed: 57)
        func run(_ lowering: ConvolutionLowering, _ input: Tensor) -> [Float] {
            conv2d(t.constant(input), weight: t.constant(w), bias: t.constant(b), stride: 2, padding: 1, lowering: lowering).value.scalars
        }
        #expect(run(.automatic, x) == run(.direct, x))
        let small = awayFromZero([2, 32, 8, 8], seed: 58) // a 4-wide grid: im2col
        #expect(run(.automatic, small) == run(.im2col, small))
    }

    /// Without padding the forward kernel reads images in place but for the last few (whose tiles
    /// would read past the batch), and on a no-grad tape it takes one-channel inputs: each image's
    /// output is bit for bit its output alone (a copied, padded image), for tiny and 1-channel images.
    @Test(arguments: [(32, 2, 3, 7), (32, 6, 6, 5), (1, 10, 14, 6)])
    func unpaddedForwardReadsImagesInPlace(c: Int, h: Int, w: Int, batch: Int) {
        let t = Tape(recording: false)
        let x = awayFromZero([batch, c, h, w], seed: 61), weight = awayFromZero([32, c, 2, 2], seed: 62), b = awayFromZero([32], seed: 63)
        func run(_ input: Tensor) -> Tensor {
            conv2d(t.constant(input), weight: t.constant(weight), bias: t.constant(b), stride: 2, padding: 0, lowering: .direct).value
        }
        let whole = run(x)
        for i in 0..<batch {
            #expect(whole.slice(axis: 0, i..<(i + 1)) == run(x.slice(axis: 0, i..<(i + 1))), "image \(i) of \(batch), \(c)×\(h)×\(w)")
        }
    }

    private func expectClose(_ a: [Tensor], _ b: [Tensor], _ names: [String]) {
        for (i, name) in names.enumerated() {
            #expect(a[i].shape == b[i].shape, "\(name) shape")
            let scale = b[i].scalars.map(abs).max() ?? 1
            #expect(maxAbsDifference(a[i], b[i]) <= 2e-5 * max(scale, 1), "\(name): \(maxAbsDifference(a[i], b[i])) at scale \(scale)")
        }
    }
}
