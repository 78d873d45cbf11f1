import Autodiff
import ConvKernels
import Foundation
import TensorCore

// `conv2d` and `convTranspose2d` lowered to the direct kernels of `ConvKernels`: every product
// reads the activations in place (zero-padded copies of one image at a time, ≤ 0.2 MiB here)
// instead of streaming im2col/col2im matrices through the cache. Each image of a batch is one
// task; weight gradients are summed per thread and then in thread order, as on the im2col path.

/// How `conv2d` and `convTranspose2d` compute their products.
public enum ConvolutionLowering: Sendable {
    /// Direct kernels where this CPU and the layer's shape allow (`direct`), else `im2col`; always
    /// `im2col` when the environment sets `UNTANGLE_DIRECT_CONVOLUTION=0` (read once per process), which
    /// lets a benchmark or a user compare the two lowerings with one build.
    case automatic
    /// im2col/col2im matrices and OpenBLAS GEMMs: every shape, every CPU.
    case im2col
    /// The direct kernels of `ConvKernels` (AVX-512 on x86-64): needs `DirectConvolution.isSupported`
    /// and channel counts that are multiples of 32 on both sides — for a `conv2d` on a non-recording
    /// tape, whose pullback never runs, the output side only — and traps otherwise.
    case direct

    /// Whether a layer with `inChannels`, `outChannels` and a `gridWidth`-wide output grid of window
    /// positions takes the direct kernels: both channel counts multiples of 32 (the kernels' vector
    /// width) and at least 8 positions per row (one register tile), on a CPU that runs them.
    static func directFits(inChannels: Int, outChannels: Int, gridWidth: Int) -> Bool {
        automaticAllowsDirect && inChannels % directChannelGroup == 0 && outChannels % directChannelGroup == 0
            && gridWidth >= directTileWidth
    }

    /// Whether `automatic` may pick the direct kernels: the CPU runs them and
    /// `UNTANGLE_DIRECT_CONVOLUTION` is not `0`.
    public static let automaticAllowsDirect: Bool = DirectConvolution.isSupported
        && ProcessInfo.processInfo.environment["UNTANGLE_DIRECT_CONVOLUTION"] != "0"

    /// Whether a layer with these channel counts and output-grid width (for a transposed convolution,
    /// its input's width) runs the direct kernels under this lowering: `automatic` resolved by
    /// `directFits`; `direct` checked (traps if the CPU or the channel counts do not allow it). With
    /// `forwardOnly` (a convolution whose pullback will not run) `direct` needs only the output channels
    /// to be a multiple of 32: the forward kernel vectorises over them and reads any number of input planes.
    public func usesDirect(inChannels: Int, outChannels: Int, gridWidth: Int, forwardOnly: Bool = false) -> Bool {
        switch self {
        case .im2col: return false
        case .automatic: return Self.directFits(inChannels: inChannels, outChannels: outChannels, gridWidth: gridWidth)
        case .direct:
            precondition(DirectConvolution.isSupported, "conv: direct kernels need AVX-512 (x86-64-v4) on this CPU")
            precondition((forwardOnly || inChannels % directChannelGroup == 0) && outChannels % directChannelGroup == 0,
                         "conv: direct kernels need channel counts that are multiples of \(directChannelGroup), got \(inChannels) → \(outChannels)")
            return true
        }
    }
}

/// `[rows, cols] → [cols, rows]` for each of `blocks` consecutive blocks of a flat buffer.
private func transposedBlocks(_ t: Tensor, blocks: Int, rows: Int, cols: Int) -> Tensor {
    Tensor(shape: [t.count]) { out in
        t.withPointer { p in
            for b in 0..<blocks { transpose(p + b * rows * cols, channels: rows, positions: cols, into: out.baseAddress! + b * rows * cols) }
        }
    }
}

/// Zero-padded image geometry plus the scratch it needs (slack for a tile's overrun).
private struct PaddedLayout {
    let image: PaddedImage
    let height: Int, width: Int, top: Int, left: Int
    var count: Int { image.bufferCount(slack: directTileWidth * 8 + 2 * image.rowStride) }

    init(channels: Int, height: Int, width: Int, top: Int, bottom: Int, left: Int, right: Int) {
        image = PaddedImage(channels: channels, height: height, width: width, top: top, bottom: bottom, left: left, right: right)
        (self.height, self.width, self.top, self.left) = (height, width, top, left)
    }

    /// Whether the layout adds no padding: the padded image is the NCHW image itself.
    var isUnpadded: Bool { image.rowStride == width && image.rowCount == height }

    /// Copies image `x [C, H, W]` into `buffer` with its padding.
    func fill(_ buffer: ScratchBuffer, from x: UnsafePointer<Float>) {
        pad(x, height: height, width: width, top: top, left: left, into: buffer.pointer, image, count: count)
    }

    /// `rowOffsets` for the `(c, i, j)` rows of a `kernel × kernel` window over every plane, padded
    /// with zeros to a multiple of the tile width.
    func rowOffsets(kernel k: Int) -> [Int] {
        let rows = image.channels * k * k
        var offsets = [Int](repeating: 0, count: (rows + directTileWidth - 1) / directTileWidth * directTileWidth)
        for c in 0..<image.channels { for i in 0..<k { for j in 0..<k {
            offsets[(c * k + i) * k + j] = c * image.planeStride + i * image.rowStride + j
        } } }
        return offsets
    }

    /// The padding a transposed correlation's input needs: `output` coordinates of a `kernel`-tap window
    /// with `stride`, `padding` read input coordinates `floor((o + p − i)/s)` in `[low, high]`; an input of
    /// `inputSize` is padded by `−low` in front and `high − inputSize + 1` behind (each at least 0).
    static func gatherPadding(output: Int, inputSize: Int, kernel: Int, stride: Int, padding: Int) -> (front: Int, back: Int) {
        let low = floorDivide(padding - (kernel - 1), stride), high = floorDivide(output - 1 + padding, stride)
        return (Swift.max(0, -low), Swift.max(0, high - inputSize + 1))
    }
}

/// One scratch buffer of `count` floats per image, allocated on the calling thread (see `conv2d`).
private func scratch(_ images: Int, _ count: Int) -> [ScratchBuffer] { (0..<images).map { _ in ScratchBuffer(count: count) } }

/// `conv2d` through the direct kernels (see `ConvolutionLowering`); same math, shapes and pullback.
func directConv2d(_ x: Variable, weight: Variable, bias: Variable?, _ g: WindowGeometry, outChannels o: Int,
                  activation: ConvolutionActivation) -> Variable {
    let (batch, c, k, s, p) = (x.shape[0], g.channels, g.kernel, g.stride, g.padding)
    let (gh, gw) = (g.gridHeight, g.gridWidth), grid = g.gridSize
    let rows = c * k * k
    let input = PaddedLayout(channels: c, height: g.height, width: g.width, top: p,
                             bottom: Swift.max(0, s * (gh - 1) + k - g.height - p), left: p,
                             right: Swift.max(0, s * (gw - 1) + k - g.width - p))
    let offsets = input.rowOffsets(kernel: k)
    let (w, xv, bv) = (weight.value, x.value, bias?.value)
    // Forward: w [O, (c,i,j)] → packed [(c,i,j), O].
    let forwardWeights = transposedBlocks(w, blocks: 1, rows: o, cols: rows)
    // Without padding (conv3 of the dlib encoder, the blank-skipping encoder's crops) the padded
    // layout is the NCHW image itself and is read in place — but near the end of the batch: a tile
    // reads past an image's end (lanes that are discarded), within the slack a padded copy gets, which
    // is the following images' data for every image with at least that much data after it.
    let imageSize = c * g.plane, slack = input.count - c * input.image.planeStride
    let firstCopied = input.isUnpadded ? Swift.max(0, batch - 1 - (slack + imageSize - 1) / Swift.max(imageSize, 1)) : 0
    let pads = scratch(batch - firstCopied, input.count)
    let y = Tensor(shape: [batch, o, gh, gw]) { out in
        xv.withPointer { px in forwardWeights.withPointer { pw in offsets.withUnsafeBufferPointer { po in withOptionalPointer(bv) { pb in
            Parallel.forEach(batch) { b in
                let image = px + b * imageSize
                let source: UnsafePointer<Float>
                if b < firstCopied {
                    source = image
                } else {
                    let pad = pads[b - firstCopied]
                    input.fill(pad, from: image)
                    source = UnsafePointer(pad.pointer)
                }
                correlate(source, input.image, rowOffsets: po.baseAddress!, rows: rows, stride: s, weights: pw, channels: o,
                          gridHeight: gh, gridWidth: gw, bias: pb, into: out.baseAddress! + b * o * grid)
                activation.apply(out.baseAddress! + b * o * grid, count: o * grid)
            }
        } } } }
    }
    let parents = bias.map { [weight, $0] } ?? [weight]
    // ∂W reads the same padded images as the forward product: the padded copies are kept for it
    // (and the input, for the images read in place) rather than padded again in the pullback.
    let (inputShape, hasBias, keepInput) = (x.shape, bias != nil, weight.needsGradient)
    let savedInput = keepInput && firstCopied > 0 ? xv : nil
    let savedPads = keepInput ? pads : []
    let gradientPad = PaddedLayout.gatherPadding(output: g.height, inputSize: gh, kernel: k, stride: s, padding: p)
    let gradientPadX = PaddedLayout.gatherPadding(output: g.width, inputSize: gw, kernel: k, stride: s, padding: p)
    let upstreamLayout = PaddedLayout(channels: o, height: gh, width: gw, top: gradientPad.front, bottom: gradientPad.back,
                                      left: gradientPadX.front, right: gradientPadX.back)
    let activated = activation == .relu ? y : nil
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        // ∂x gathers over o: w [O, C, k, k] → packed [(o,i,j), C]. Its taps are built here, when a
        // backward pass needs them, not with the forward product (a no-grad encoding spent 3 % on them).
        let backwardWeights = needed[0] ? transposedBlocks(w, blocks: o, rows: c, cols: k * k) : nil
        let upstreamTaps = needed[0] ? TransposedTaps(upstreamLayout.image, kernel: k, stride: s, padding: p, top: upstreamLayout.top,
                                                      left: upstreamLayout.left, channels: c, outHeight: g.height, outWidth: g.width) : nil
        let upstreamT = needed[1] ? scratch(batch, grid * o) : []
        let upstreamPads = needed[0] ? scratch(batch, upstreamLayout.count) : []
        var result = withOptionalPointer(savedInput) { px in withOptionalPointer(backwardWeights) { pwT in
            offsets.withUnsafeBufferPointer { po in
                convolutionPullback(needed, hasBias: hasBias, upstream: upstream, activation: activation, output: activated,
                                    inputShape: inputShape, weightShape: [rows, o], chunks: (0..<batch).map { $0..<$0 + 1 }) { b, gImage, dw, dxBase in
                    if let dwChunk = dw.pointer {
                        if !dw.accumulate { dwChunk.update(repeating: 0, count: rows * o) }
                        let source = b < firstCopied ? px! + b * imageSize : UnsafePointer(savedPads[b - firstCopied].pointer)
                        transpose(gImage, channels: o, positions: grid, into: upstreamT[b].pointer)
                        correlateWeights(source, input.image, rowOffsets: po.baseAddress!, rows: rows, stride: s,
                                         gradient: upstreamT[b].pointer, channels: o, gridHeight: gh, gridWidth: gw, into: dwChunk)
                    }
                    if let dxBase {
                        upstreamLayout.fill(upstreamPads[b], from: gImage)
                        correlateTransposed(upstreamPads[b].pointer, taps: upstreamTaps!, weights: pwT!, channels: c,
                                            bias: nil, into: dxBase + b * g.channels * g.plane)
                    }
                }
            }
        } }
        // ∂W came out as [(c,i,j), O]; the layer's weight is [O, C, k, k].
        result[1] = result[1].map { Tensor(shape: [o, c, k, k], scalars: transposedBlocks($0, blocks: 1, rows: rows, cols: o).scalars) }
        return result
    }
}

/// `convTranspose2d` through the direct kernels (see `ConvolutionLowering`); same math, shapes and pullback.
func directConvTranspose2d(_ x: Variable, weight: Variable, bias: Variable?, _ g: WindowGeometry, inChannels c: Int,
                           activation: ConvolutionActivation) -> Variable {
    let (batch, o, k, s, p) = (x.shape[0], g.channels, g.kernel, g.stride, g.padding)
    let (h, wd) = (g.gridHeight, g.gridWidth), grid = g.gridSize
    let rows = o * k * k
    let (w, xv, bv) = (weight.value, x.value, bias?.value)
    // Forward gathers over c: w [C, O, k, k] → packed [(c,i,j), O].
    let forwardWeights = transposedBlocks(w, blocks: c, rows: o, cols: k * k)
    let padY = PaddedLayout.gatherPadding(output: g.height, inputSize: h, kernel: k, stride: s, padding: p)
    let padX = PaddedLayout.gatherPadding(output: g.width, inputSize: wd, kernel: k, stride: s, padding: p)
    let input = PaddedLayout(channels: c, height: h, width: wd, top: padY.front, bottom: padY.back, left: padX.front, right: padX.back)
    let taps = TransposedTaps(input.image, kernel: k, stride: s, padding: p, top: input.top, left: input.left, channels: o,
                              outHeight: g.height, outWidth: g.width)
    let pads = scratch(batch, input.count)
    let y = Tensor(shape: [batch, o, g.height, g.width]) { out in
        xv.withPointer { px in forwardWeights.withPointer { pw in withOptionalPointer(bv) { pb in
            Parallel.forEach(batch) { b in
                input.fill(pads[b], from: px + b * c * grid)
                correlateTransposed(pads[b].pointer, taps: taps, weights: pw, channels: o, bias: pb,
                                    into: out.baseAddress! + b * o * g.plane)
                activation.apply(out.baseAddress! + b * o * g.plane, count: o * g.plane)
            }
        } } }
    }
    let parents = bias.map { [weight, $0] } ?? [weight]
    let (inputShape, hasBias) = (x.shape, bias != nil)
    let savedInput = weight.needsGradient ? xv : nil
    // The upstream gradient [O, H′, W′] is swept by the window: padded by p (and to fit the grid).
    let upstreamLayout = PaddedLayout(channels: o, height: g.height, width: g.width, top: p,
                                      bottom: Swift.max(0, s * (h - 1) + k - g.height - p), left: p,
                                      right: Swift.max(0, s * (wd - 1) + k - g.width - p))
    let offsets = upstreamLayout.rowOffsets(kernel: k)
    let activated = activation == .relu ? y : nil
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        // ∂x correlates over (o,i,j): w [C, (o,i,j)] → packed [(o,i,j), C].
        let backwardWeights = needed[0] ? transposedBlocks(w, blocks: 1, rows: c, cols: rows) : nil
        let upstreamPads = needed[0] || needed[1] ? scratch(batch, upstreamLayout.count) : [] // ∂b alone reads G as it is
        let inputT = needed[1] ? scratch(batch, grid * c) : []
        var result = withOptionalPointer(savedInput) { px in withOptionalPointer(backwardWeights) { pwT in
            offsets.withUnsafeBufferPointer { po in
                convolutionPullback(needed, hasBias: hasBias, upstream: upstream, activation: activation, output: activated,
                                    inputShape: inputShape, weightShape: [rows, c], chunks: (0..<batch).map { $0..<$0 + 1 }) { b, gImage, dw, dxBase in
                    if !upstreamPads.isEmpty { upstreamLayout.fill(upstreamPads[b], from: gImage) }
                    if let dwChunk = dw.pointer {
                        if !dw.accumulate { dwChunk.update(repeating: 0, count: rows * c) }
                        transpose(px! + b * c * grid, channels: c, positions: grid, into: inputT[b].pointer)
                        correlateWeights(upstreamPads[b].pointer, upstreamLayout.image, rowOffsets: po.baseAddress!, rows: rows,
                                         stride: s, gradient: inputT[b].pointer, channels: c, gridHeight: h, gridWidth: wd, into: dwChunk)
                    }
                    if let dxBase {
                        correlate(upstreamPads[b].pointer, upstreamLayout.image, rowOffsets: po.baseAddress!, rows: rows, stride: s,
                                  weights: pwT!, channels: c, gridHeight: h, gridWidth: wd, bias: nil, into: dxBase + b * c * grid)
                    }
                }
            }
        } }
        // ∂W came out as [(o,i,j), C]; the layer's weight is [C, O, k, k].
        result[1] = result[1].map { Tensor(shape: [c, o, k, k], scalars: transposedBlocks($0, blocks: 1, rows: rows, cols: c).scalars) }
        return result
    }
}
