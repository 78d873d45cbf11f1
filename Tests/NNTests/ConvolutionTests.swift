import Autodiff
import NN
import TensorCore
import TestSupport
import Testing

/// Direct (loop) reference of PyTorch's conv2d.
func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride s: Int, padding p: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, k) = (w.shape[0], w.shape[2])
    let oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1
    var y = Tensor.zeros([n, o, oh, ow])
    for bi in 0..<n { for oi in 0..<o { for yi in 0..<oh { for xi in 0..<ow {
        var acc = b[oi]
        for ci in 0..<c { for i in 0..<k { for j in 0..<k {
            let iy = yi * s - p + i, ix = xi * s - p + j
            if iy >= 0 && iy < h && ix >= 0 && ix < wd { acc += w[oi, ci, i, j] * x[bi, ci, iy, ix] }
        } } }
        y[bi, oi, yi, xi] = acc
    } } } }
    return y
}

/// Direct reference of PyTorch's conv_transpose2d (scatter form).
func naiveConvTranspose2d(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride s: Int, padding p: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, k) = (w.shape[1], w.shape[2])
    let oh = (h - 1) * s - 2 * p + k, ow = (wd - 1) * s - 2 * p + k
    var y = Tensor.zeros([n, o, oh, ow])
    for bi in 0..<n { for oi in 0..<o { for yi in 0..<oh { for xi in 0..<ow { y[bi, oi, yi, xi] = b[oi] } } } }
    for bi in 0..<n { for ci in 0..<c { for yi in 0..<h { for xi in 0..<wd {
        for oi in 0..<o { for i in 0..<k { for j in 0..<k {
            let ty = yi * s - p + i, tx = xi * s - p + j
            if ty >= 0 && ty < oh && tx >= 0 && tx < ow { y[bi, oi, ty, tx] += x[bi, ci, yi, xi] * w[ci, oi, i, j] }
        } } }
    } } } }
    return y
}

/// (kernel, stride, padding, height, width) cases, including dlib's layers and odd sizes.
let convCases: [(Int, Int, Int, Int, Int)] = [(4, 2, 1, 8, 8), (2, 2, 0, 6, 6), (3, 1, 1, 5, 7), (3, 2, 0, 7, 5),
                                               (1, 1, 0, 3, 4), (5, 1, 2, 2, 3), (4, 3, 2, 5, 6)]

@Suite struct ConvolutionTests {
    @Test(arguments: convCases)
    func conv2dMatchesDirectLoops(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let x = awayFromZero([2, 3, h, w], seed: 1), wt = awayFromZero([4, 3, k, k], seed: 2), b = awayFromZero([4], seed: 3)
        let t = Tape(recording: false)
        let y = conv2d(t.constant(x), weight: t.constant(wt), bias: t.constant(b), stride: s, padding: p).value
        #expect(maxAbsDifference(y, naiveConv2d(x, wt, b, stride: s, padding: p)) < 1e-4)
    }

    @Test(arguments: convCases)
    func convTranspose2dMatchesDirectLoops(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let x = awayFromZero([2, 3, h, w], seed: 4), wt = awayFromZero([3, 2, k, k], seed: 5), b = awayFromZero([2], seed: 6)
        let t = Tape(recording: false)
        let y = convTranspose2d(t.constant(x), weight: t.constant(wt), bias: t.constant(b), stride: s, padding: p).value
        #expect(maxAbsDifference(y, naiveConvTranspose2d(x, wt, b, stride: s, padding: p)) < 1e-4)
    }

    @Test(arguments: convCases)
    func conv2dGradients(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let inputs = [awayFromZero([2, 2, h, w], seed: 7), awayFromZero([3, 2, k, k], seed: 8), awayFromZero([3], seed: 9)]
        let bad = GradientCheck(maximumProbes: 40).mismatches(inputs) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p)
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test(arguments: convCases)
    func convTranspose2dGradients(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let inputs = [awayFromZero([2, 2, h, w], seed: 10), awayFromZero([2, 3, k, k], seed: 11), awayFromZero([3], seed: 12)]
        let bad = GradientCheck(maximumProbes: 40).mismatches(inputs) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: s, padding: p)
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Grids of ≥ 256 positions run one image per GEMM, reading and writing NCHW in place (no layout
    /// copies), and a thread adds its pieces' weight gradients into one partial (GEMM β = 1): values
    /// against the direct loops and gradients against finite differences (batch 3 on one thread: three
    /// pieces accumulate into one partial).
    @Test func largeGridsRunOneImagePerProduct() {
        let x = awayFromZero([3, 2, 32, 32], seed: 30), w = awayFromZero([3, 2, 4, 4], seed: 31), b = awayFromZero([3], seed: 32)
        let t = Tape(recording: false)
        #expect(conv2d(t.constant(x), weight: t.constant(w), bias: t.constant(b), stride: 2, padding: 1).shape == [3, 3, 16, 16])
        expectStrideTwoConvolutionsCorrect(conv: [x, w, b], convTolerance: 1e-4,
                                           transposed: [awayFromZero([3, 2, 16, 16], seed: 33), awayFromZero([2, 3, 4, 4], seed: 34), b],
                                           probes: 30)
    }

    /// A batch that splits into a one-image piece and a two-image piece (batch 3, 225 positions,
    /// 512 patch rows: two images fit 1 MiB of scratch) mixes the in-place and the copying paths
    /// in one call, and the transposed convolution keeps its input for the one-image piece's ∂W.
    @Test func mixedOneAndTwoImagePieces() {
        expectStrideTwoConvolutionsCorrect(
            conv: [awayFromZero([3, 32, 30, 30], seed: 35), awayFromZero([2, 32, 4, 4], seed: 36), awayFromZero([2], seed: 37)],
            convTolerance: 1e-3,
            transposed: [awayFromZero([3, 2, 15, 15], seed: 38), awayFromZero([2, 32, 4, 4], seed: 39), awayFromZero([32], seed: 40)],
            probes: 20)
    }

    /// `conv2d` on `conv` = [x, w, b] and `convTranspose2d` on `transposed` (4×4 kernels, stride 2,
    /// padding 1): values against the direct loops (conv within `convTolerance`, transposed within
    /// 1e-4) and gradients of all three inputs against finite differences at `probes` entries.
    private func expectStrideTwoConvolutionsCorrect(conv: [Tensor], convTolerance: Float, transposed: [Tensor], probes: Int) {
        let t = Tape(recording: false)
        let y = conv2d(t.constant(conv[0]), weight: t.constant(conv[1]), bias: t.constant(conv[2]), stride: 2, padding: 1).value
        #expect(maxAbsDifference(y, naiveConv2d(conv[0], conv[1], conv[2], stride: 2, padding: 1)) < convTolerance)
        let z = convTranspose2d(t.constant(transposed[0]), weight: t.constant(transposed[1]), bias: t.constant(transposed[2]),
                                stride: 2, padding: 1).value
        #expect(maxAbsDifference(z, naiveConvTranspose2d(transposed[0], transposed[1], transposed[2], stride: 2, padding: 1)) < 1e-4)
        let check = GradientCheck(maximumProbes: probes)
        let convBad = check.mismatches(conv) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        let transposedBad = check.mismatches(transposed) { convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        #expect(convBad.isEmpty, "\(convBad.prefix(5))")
        #expect(transposedBad.isEmpty, "\(transposedBad.prefix(5))")
    }

    /// `im2col` (and its phase-split path for strides > 1) against its definition,
    /// `cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow] = x[b, c, oh·s − p + i, ow·s − p + j]` (0 outside).
    @Test(arguments: [(4, 2, 1, 64, 64), (3, 2, 1, 7, 6), (3, 3, 2, 11, 10), (2, 2, 0, 9, 9), (5, 3, 0, 13, 8), (3, 1, 1, 6, 7)])
    func im2colMatchesItsDefinition(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let g = WindowGeometry(channels: 2, height: h, width: w, kernel: k, stride: s, padding: p)
        let x = awayFromZero([3, 2, h, w], seed: 19)
        var cols = [Float](repeating: .nan, count: g.patchSize * 3 * g.gridSize)
        x.scalars.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { im2col(px.baseAddress!, batch: 3, g, into: $0.baseAddress!) }
        }
        var wrong = 0
        for b in 0..<3 { for c in 0..<2 { for i in 0..<k { for j in 0..<k { for oh in 0..<g.gridHeight { for ow in 0..<g.gridWidth {
            let (iy, ix) = (oh * s - p + i, ow * s - p + j)
            let expected: Float = iy >= 0 && iy < h && ix >= 0 && ix < w ? x.scalars[((b * 2 + c) * h + iy) * w + ix] : 0
            if cols[((c * k + i) * k + j) * 3 * g.gridSize + (b * g.gridHeight + oh) * g.gridWidth + ow] != expected { wrong += 1 }
        } } } } } }
        #expect(wrong == 0)
    }

    /// `col2im` (gathered by phase) against its scatter definition, summed in the same tap order,
    /// so exactly equal: `x[b, c, oh·s − p + i, ow·s − p + j] += cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow]`.
    @Test(arguments: [(4, 2, 1, 64, 64), (3, 2, 1, 7, 6), (3, 3, 2, 11, 10), (2, 2, 0, 9, 9), (5, 3, 0, 13, 8), (3, 1, 1, 6, 7),
                      (4, 2, 1, 5, 5), (1, 4, 0, 9, 6)])
    func col2imMatchesItsDefinition(k: Int, s: Int, p: Int, h: Int, w: Int) {
        let g = WindowGeometry(channels: 2, height: h, width: w, kernel: k, stride: s, padding: p)
        let cols = awayFromZero([g.patchSize, 3 * g.gridSize], seed: 20)
        var x = [Float](repeating: .nan, count: 3 * 2 * h * w)
        cols.scalars.withUnsafeBufferPointer { pc in
            x.withUnsafeMutableBufferPointer { col2im(pc.baseAddress!, batch: 3, g, into: $0.baseAddress!) }
        }
        var expected = [Float](repeating: 0, count: x.count)
        for b in 0..<3 { for c in 0..<2 { for i in 0..<k { for j in 0..<k { for oh in 0..<g.gridHeight { for ow in 0..<g.gridWidth {
            let (iy, ix) = (oh * s - p + i, ow * s - p + j)
            guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
            expected[((b * 2 + c) * h + iy) * w + ix] += cols.scalars[((c * k + i) * k + j) * 3 * g.gridSize + (b * g.gridHeight + oh) * g.gridWidth + ow]
        } } } } } }
        #expect(x == expected)
    }

    @Test func col2imIsTheAdjointOfIm2col() {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for all x, c.
        let g = WindowGeometry(channels: 3, height: 7, width: 6, kernel: 3, stride: 2, padding: 1)
        let x = awayFromZero([2, 3, 7, 6], seed: 13), c = awayFromZero([g.patchSize, 2 * g.gridSize], seed: 14)
        var cols = [Float](repeating: 0, count: c.count), back = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { im2col(px.baseAddress!, batch: 2, g, into: $0.baseAddress!) }
        }
        c.scalars.withUnsafeBufferPointer { pc in
            back.withUnsafeMutableBufferPointer { col2im(pc.baseAddress!, batch: 2, g, into: $0.baseAddress!) }
        }
        var lhs = 0.0, rhs = 0.0
        for i in 0..<cols.count { lhs += Double(cols[i]) * Double(c.scalars[i]) }
        for i in 0..<back.count { rhs += Double(back[i]) * Double(x.scalars[i]) }
        #expect(Swift.abs(lhs - rhs) < 1e-4 * Swift.abs(lhs))
    }

    @Test func batchChunksAcrossThreadsAgreeWithOneThread() {
        // Batch 5 on 2 threads splits unevenly (2 + 3). Outputs and input gradients are computed
        // per image and must match bit for bit; weight gradients are summed per chunk (to rounding).
        let x = awayFromZero([5, 3, 9, 9], seed: 15), w = awayFromZero([5, 3, 3, 3], seed: 16), b = awayFromZero([5], seed: 17)
        let wt = awayFromZero([3, 2, 4, 4], seed: 18)
        func run() -> [Tensor] {
            let t = Tape()
            let (xi, wi, wti) = (t.input(x), t.input(w), t.input(wt))
            let y = conv2d(xi, weight: wi, bias: t.constant(b), stride: 2, padding: 1)
            let z = convTranspose2d(xi, weight: wti, bias: nil, stride: 2, padding: 1)
            let grads = t.backward(from: y.squared().sum() + z.squared().sum())
            return [y.value, z.value, grads[xi]!, grads[wi]!, grads[wti]!]
        }
        Parallel.setThreadCount(1)
        let single = run()
        Parallel.setThreadCount(2)
        let double = run()
        Parallel.setThreadCount(1)
        #expect(single[0] == double[0] && single[1] == double[1])
        #expect(maxAbsDifference(single[2], double[2]) < 1e-4)
        #expect(maxAbsDifference(single[3], double[3]) < 1e-3 && maxAbsDifference(single[4], double[4]) < 1e-3)
    }
}
