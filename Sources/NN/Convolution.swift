import Autodiff
import ConvKernels
import TensorCore
import VectorLoops

// 2-D convolution and transposed convolution as autodiff primitives, each
// forward beside its pullback. Layers whose channel counts are multiples of 32 run the direct
// kernels of `ConvKernels` (DirectLowering.swift); every other shape lowers to GEMMs over im2col/col2im matrices
// with the images of a batch piece folded into the GEMM's N dimension; the pieces (single
// images when an image alone gives ≥ 256 GEMM columns, else as many images as fit 1 MiB of
// scratch, at least one piece per thread) run concurrently, one GEMM per piece. Scratch
// buffers are allocated on the calling thread, before the parallel region, so glibc
// serves them from the main arena and recycles them across steps.

/// Scratch floats per batch piece (1 MiB: the pieces stay in cache between im2col and the GEMM that
/// reads them — 10 % faster training steps than 16 MiB pieces, measured); below glibc's mmap threshold, so
/// piece buffers are recycled from the heap rather than page-faulted in each call.
private let scratchBudget = 1 << 18

/// GEMM columns from which one image is worth a GEMM of its own: a single-image piece reads and
/// writes NCHW tensors in place (one image's `[C, L]` is already the GEMM operand), skipping the
/// `[b, C, L] ↔ [C, b·L]` copies that multi-image pieces need.
private let singleImageGrid = 256

/// The batch split into pieces whose scratch matrices (`floatsPerImage` each) fit the budget,
/// at least one per thread.
private func batchPieces(_ batch: Int, floatsPerImage: Int, grid: Int) -> [Chunk] {
    convolutionPieces(batch, floatsPerImage: floatsPerImage, grid: grid).map(Chunk.init)
}

/// The image ranges a convolution splits a batch of `batch` into, one GEMM per range: single images
/// when the GEMM's columns per image (`grid`, L) reach 256, else ranges whose scratch matrices
/// (`floatsPerImage` floats per image: `max(C·k², O)·L` for `conv2d`) fit 1 MiB; at least one range
/// per thread. Public for benchmarks that time the GEMMs alone.
public func convolutionPieces(_ batch: Int, floatsPerImage: Int, grid: Int) -> [Range<Int>] {
    let perPiece = grid >= singleImageGrid ? 1 : max(1, scratchBudget / max(floatsPerImage, 1))
    return Parallel.pieces(batch, maximumPerPiece: perPiece)
}

/// Raw buffers of a batch chunk: pointer arithmetic shared by both primitives.
private struct Chunk {
    let range: Range<Int>
    var count: Int { range.count }
    /// Offset of the chunk's first element in a tensor with `perImage` elements per image.
    func offset(_ perImage: Int) -> Int { range.lowerBound * perImage }
    /// One image: its NCHW data is the GEMM operand as it stands, no layout copy.
    var isSingleImage: Bool { range.count == 1 }
}

/// What `conv2d` and `convTranspose2d` apply to their output before returning it.
public enum ConvolutionActivation: Sendable {
    /// The affine output as it is.
    case identity
    /// `max(y, 0)` (as `Variable.relu()`: `y > 0 ? y : 0·y`), applied to each image's or batch piece's
    /// output right after the product writes it, while it is in cache, instead of in a pass of its own
    /// over the whole activation; the pullback masks the upstream gradient by `y > 0` chunk by chunk as
    /// it reads it (see `convolutionPullback`). The same
    /// values and gradients, bit for bit, as `.relu()` after an `.identity` convolution.
    case relu

    /// Applies the activation to `count` floats at `p` in place.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        guard self == .relu else { return }
        for i in 0..<count { let v = p[i]; p[i] = v > 0 ? v : 0 * v }
    }
}

extension Tensor {
    @inline(__always)
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// `[b, C, L] → [C, b·L]`: NCHW activations to a GEMM operand.
@inline(__always)
private func channelMajor(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                          into out: UnsafeMutablePointer<Float>) {
    for c in 0..<channels {
        for b in 0..<batch {
            (out + (c * batch + b) * plane).update(from: x + (b * channels + c) * plane, count: plane)
        }
    }
}

/// `[C, b·L] → [b, C, L]` plus `bias[c]` (if given): a GEMM result to NCHW.
@inline(__always)
private func batchMajor(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                        bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
    for c in 0..<channels {
        let beta = bias?[c] ?? 0
        for b in 0..<batch {
            let src = x + (c * batch + b) * plane, dst = out + (b * channels + c) * plane
            for i in 0..<plane { dst[i] = src[i] + beta }
        }
    }
}

/// Adds `bias[c]` to every element of channel `c` of `[b, C, L]` data in place.
@inline(__always)
private func addBias(_ bias: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, to y: UnsafeMutablePointer<Float>) {
    for b in 0..<batch {
        for c in 0..<channels {
            let beta = bias[c], dst = y + (b * channels + c) * plane
            for i in 0..<plane { dst[i] += beta }
        }
    }
}

/// The per-image, per-channel running sums a pullback keeps for the bias gradient `∂b[c] = Σ_{b,l} g′[b, c, l]`:
/// sixteen lanes and a tail per `(image, channel)` plane, each started from zero (sixteen running sums,
/// not one: a single float accumulator is a serial chain of dependent adds that cannot vectorise).
/// Filled image by image wherever the pullback reads the image, summed in image order at the end:
/// the same bits for any thread count and chunking.
private final class BiasPartials: @unchecked Sendable {
    let lanes: UnsafeMutablePointer<Lanes16>, tails: UnsafeMutablePointer<Float>
    let batch: Int, channels: Int

    init(batch: Int, channels: Int) {
        (self.batch, self.channels) = (batch, channels)
        lanes = .allocate(capacity: Swift.max(batch * channels, 1))
        tails = .allocate(capacity: Swift.max(batch * channels, 1))
    }

    deinit { lanes.deallocate(); tails.deallocate() }

    /// `∂b [C]`: for each channel, the images' lanes and tails added in image order, then `lanes.sum() + tail`.
    func total() -> Tensor {
        Tensor(shape: [channels]) { out in
            for c in 0..<channels {
                var lanes = Lanes16.zero, tail: Float = 0
                for b in 0..<batch { lanes += self.lanes[b * channels + c]; tail += tails[b * channels + c] }
                out[c] = lanes.sum() + tail
            }
        }
    }
}

/// Sums per-thread weight gradients `[chunks, n]` in order (deterministic) into `shape`.
private func sumChunks(_ partial: [Float], chunks: Int, shape: [Int]) -> Tensor {
    let n = shape.product
    return Tensor(shape: shape) { out in
        partial.withUnsafeBufferPointer { p in
            Parallel.forEach(n, minimumPerThread: 4096) { i in
                var s: Float = 0
                for c in 0..<chunks { s += p[c * n + i] }
                out[i] = s
            }
        }
    }
}

/// An array of `count` floats whose contents `body` fully writes.
@inline(__always)
func uninitializedBuffer(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        body(buffer.baseAddress!)
        initialized = count
    }
}

/// `body` given a fresh uninitialised buffer of `count` floats when `needed` (returned
/// filled), or `nil` (returns `nil`).
func optionalBuffer(_ needed: Bool, _ count: Int, _ body: (UnsafeMutablePointer<Float>?) -> Void) -> [Float]? {
    guard needed else { body(nil); return nil }
    return uninitializedBuffer(count) { body($0) }
}

/// `body` with a pointer to `t`'s elements, or `nil` when `t` is `nil`.
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withPointer { body($0) }
}

/// A chunk's weight gradient `C ← A·Bᵀ + β·C` (`A [m, k]`, `B [n, k]`, both along the chunk's `k`
/// positions): `rowDotProducts` when the result is small and the sums long (m·n ≤ 1,024, k ≥ 64: a
/// one-channel layer's 32 × 16 ∂W, where a GEMM's packing outweighs its arithmetic) on a CPU that runs
/// the kernels, else `BLAS.gemm`.
private func weightGradientProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m * n <= 1024 && k >= 64 && DirectConvolution.isSupported {
        rowDotProducts(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    } else {
        BLAS.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// Where a chunk's pullback puts its weight gradient: `pointer` (nil when ∂W is not needed), which
/// holds the sum of the thread's earlier chunks when `accumulate` (GEMM with β = 1) and is
/// overwritten when not (β = 0).
struct WeightGradientSlot {
    let pointer: UnsafeMutablePointer<Float>?
    let accumulate: Bool
    var beta: Float { accumulate ? 1 : 0 }
}

/// The pullback scaffold shared by both convolutions: allocates `∂x` (when needed) and one
/// partial `∂W` per thread (when needed), runs `body(chunk, G, ∂W slot, ∂x base)` for every chunk of
/// images (`chunks`, ranges of the batch) — each thread its contiguous run of chunks in order, adding
/// their ∂W into its partial — then sums the partials in thread order and appends `∂b`.
/// Deterministic for a given thread count.
///
/// `G` points at the chunk's upstream gradient `[b, O, L]`: the upstream itself with `.identity`;
/// with `.relu` (whose output `y` is given) `g′ = y > 0 ? g : 0·g` (ReLU's pullback, as
/// `Tensor.leakyReluPullback(g, output: y, slope: 0)`), masked chunk by chunk into the thread's scratch
/// right before `body` reads it — while it is in cache, not in a pass of its own over the whole batch.
/// `∂b = Σ_{b,l} g′` is summed in that same pass (`BiasPartials`), so the two activations' bias
/// gradients agree bit for bit with an unfused ReLU in front of an `.identity` convolution.
func convolutionPullback(_ needed: [Bool], hasBias: Bool, upstream: Tensor, activation: ConvolutionActivation, output y: Tensor?,
                         inputShape: [Int], weightShape: [Int], chunks: [Range<Int>],
                         _ body: (Int, UnsafePointer<Float>, WeightGradientSlot, UnsafeMutablePointer<Float>?) -> Void) -> [Tensor?] {
    let weightCount = weightShape.product
    let runs = Parallel.chunks(chunks.count)
    let (batch, channels) = (upstream.shape[0], upstream.shape[1])
    let perImage = upstream.count / Swift.max(batch, 1), plane = perImage / Swift.max(channels, 1)
    let masks = activation == .relu
    precondition(!masks || y?.shape == upstream.shape, "convolutionPullback: ReLU output \(y?.shape ?? []) for gradient \(upstream.shape)")
    let partials = hasBias && needed[2] ? BiasPartials(batch: batch, channels: channels) : nil
    let largest = chunks.map(\.count).max() ?? 0
    let maskedChunks = masks ? runs.map { _ in ScratchBuffer(count: largest * perImage) } : [] // allocated on this thread
    var dwPartial: [Float]?
    let dx = optionalBuffer(needed[0], inputShape.product) { dxPointer in
        dwPartial = optionalBuffer(needed[1], runs.count * weightCount) { dwPointer in
            upstream.withPointer { pg in withOptionalPointer(y) { py in
                nonisolated(unsafe) let (dwBase, dxBase) = (dwPointer, dxPointer)
                Parallel.forEach(runs.count) { r in
                    for ci in runs[r] {
                        let images = chunks[ci], start = images.lowerBound * perImage
                        let masked = masks ? maskedChunks[r].pointer : nil
                        if masks || partials != nil {
                            for offset in Swift.stride(from: start, to: images.upperBound * perImage, by: Swift.max(plane, 1)) {
                                var lanes = Lanes16.zero, tail: Float = 0
                                if let masked {
                                    reluMaskPlane(gradient: pg + offset, output: py! + offset, into: masked + (offset - start), count: plane,
                                                  lanes: &lanes, tail: &tail)
                                } else {
                                    addPlane(pg + offset, count: plane, lanes: &lanes, tail: &tail)
                                }
                                if let partials { partials.lanes[offset / plane] = lanes; partials.tails[offset / plane] = tail }
                            }
                        }
                        let g = masked.map { UnsafePointer($0) } ?? pg + start
                        body(ci, g, WeightGradientSlot(pointer: dwBase.map { $0 + r * weightCount }, accumulate: ci != runs[r].lowerBound),
                             dxBase)
                    }
                }
            } }
        }
    }
    var result: [Tensor?] = [dx.map { Tensor(shape: inputShape, scalars: $0) },
                             dwPartial.map { sumChunks($0, chunks: runs.count, shape: weightShape) }]
    if hasBias { result.append(partials?.total()) }
    return result
}

/// 2-D cross-correlation (PyTorch `conv2d`) over a batch, as one primitive.
///
/// Concretely: `y[b, o, oh, ow] = bias[o] + Σ_{c,i,j} w[o, c, i, j] · x[b, c, oh·s − p + i, ow·s − p + j]`.
/// Shapes: `x [B, C, H, W]`, `weight [O, C, k, k]`, `bias [O]` → `y [B, O, H′, W′]` with
/// `H′ = (H + 2p − k)/s + 1`.
///
/// Lowering per batch chunk: `cols = im2col(x) [C·k·k, b·L]`, `Y = W·cols [O, b·L]`, then NCHW
/// (a one-image chunk's `Y [O, L]` is written into the output in place).
/// Pullback with `G [O, b·L]`: `∂W = Σ_chunks G·colsᵀ`, `∂b = Σ G`, `∂x = col2im(Wᵀ·G)`.
/// With `lowering` `.automatic` (the default), layers whose channel counts are multiples of 32 run the
/// same three products through the direct kernels instead (see `ConvolutionLowering`). `activation`
/// (`.relu`) is applied to `y` as each piece of it is written (see `ConvolutionActivation`).
public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int, padding: Int,
                   lowering: ConvolutionLowering = .automatic, activation: ConvolutionActivation = .identity) -> Variable {
    precondition(x.shape.count == 4, "conv2d: input must be [B, C, H, W], got \(x.shape)")
    let ws = weight.shape
    precondition(ws.count == 4 && ws[1] == x.shape[1] && ws[2] == ws[3],
                 "conv2d: weight \(ws) does not fit input \(x.shape) (want [O, \(x.shape[1]), k, k])")
    let (batch, outChannels) = (x.shape[0], ws[0])
    if let bias { precondition(bias.shape == [outChannels], "conv2d: bias \(bias.shape), want [\(outChannels)]") }
    let g = WindowGeometry(channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                           kernel: ws[2], stride: stride, padding: padding)
    if lowering.usesDirect(inChannels: g.channels, outChannels: outChannels, gridWidth: g.gridWidth, forwardOnly: !x.tape.isRecording) {
        return directConv2d(x, weight: weight, bias: bias, g, outChannels: outChannels, activation: activation)
    }
    let (patch, grid) = (g.patchSize, g.gridSize)
    let chunks = batchPieces(batch, floatsPerImage: max(patch, outChannels) * grid, grid: grid)
    let (w, xv, bv) = (weight.value, x.value, bias?.value)
    // One im2col buffer per chunk, kept for the pullback only when ∂W will be needed (not on a
    // saliency tape, whose weights are constants). All pieces' buffers are allocated here, on the
    // calling thread: allocating and freeing them inside the workers measured 35 % slower encoding.
    let keep = weight.needsGradient
    let cols = chunks.map { ScratchBuffer(count: patch * grid * $0.count) }
    let products = chunks.map { $0.isSingleImage ? nil : ScratchBuffer(count: outChannels * grid * $0.count) }
    let y = Tensor(shape: [batch, outChannels, g.gridHeight, g.gridWidth]) { out in
        xv.withPointer { px in w.withPointer { pw in withOptionalPointer(bv) { biasPointer in
            Parallel.forEach(chunks.count) { ci in
                let ch = chunks[ci], n = ch.count * grid
                let colsChunk = cols[ci].pointer
                im2col(px + ch.offset(g.channels * g.plane), batch: ch.count, g, into: colsChunk)
                let yChunk = out.baseAddress! + ch.offset(outChannels * grid)
                let ym = products[ci]?.pointer ?? yChunk
                BLAS.gemm(transposeA: false, transposeB: false, m: outChannels, n: n, k: patch,
                          a: pw, lda: patch, b: colsChunk, ldb: n, c: ym, ldc: n)
                if products[ci] != nil {
                    batchMajor(ym, batch: ch.count, channels: outChannels, plane: grid, bias: biasPointer, into: yChunk)
                } else if let biasPointer {
                    addBias(biasPointer, batch: 1, channels: outChannels, plane: grid, to: yChunk)
                }
                activation.apply(yChunk, count: ch.count * outChannels * grid)
            }
        } } }
    }
    let savedCols = keep ? cols : []
    let parents = bias.map { [weight, $0] } ?? [weight]
    // The pullback captures tensors and sizes only: a captured Variable holds its tape, and the
    // tape holding this closure would then never be freed unless `backward` ran.
    let (inputShape, hasBias) = (x.shape, bias != nil)
    let activated = activation == .relu ? y : nil
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        let gradients = chunks.map { $0.isSingleImage ? nil : ScratchBuffer(count: outChannels * grid * $0.count) }
        let patches = needed[0] ? chunks.map { ScratchBuffer(count: patch * grid * $0.count) } : []
        return w.withPointer { pw in
            convolutionPullback(needed, hasBias: hasBias, upstream: upstream, activation: activation, output: activated,
                                inputShape: inputShape, weightShape: ws, chunks: chunks.map(\.range)) { ci, gChunk, dw, dxBase in
                let ch = chunks[ci], n = ch.count * grid
                let gm = UnsafePointer(gradients[ci]?.pointer) ?? gChunk
                if let buffer = gradients[ci] {
                    channelMajor(gChunk, batch: ch.count, channels: outChannels, plane: grid, into: buffer.pointer)
                }
                if let dwChunk = dw.pointer {
                    weightGradientProduct(m: outChannels, n: patch, k: n, a: gm, lda: n, b: savedCols[ci].pointer, ldb: n,
                                          beta: dw.beta, c: dwChunk, ldc: patch)
                }
                if let dxBase {
                    let dcols = patches[ci].pointer
                    BLAS.gemm(transposeA: true, transposeB: false, m: patch, n: n, k: outChannels,
                              a: pw, lda: patch, b: gm, ldb: n, c: dcols, ldc: n)
                    col2im(dcols, batch: ch.count, g, into: dxBase + ch.offset(g.channels * g.plane))
                }
            }
        }
    }
}

/// 2-D transposed convolution (PyTorch `conv_transpose2d`), the adjoint of `conv2d`'s
/// input map: each input pixel scatters a `k × k` weighted stamp onto the output.
///
/// Concretely: `y[b, o, ih·s − p + i, iw·s − p + j] += Σ_c x[b, c, ih, iw] · w[c, o, i, j]`, plus `bias[o]`.
/// Shapes: `x [B, C, H, W]`, `weight [C, O, k, k]`, `bias [O]` → `y [B, O, H′, W′]` with
/// `H′ = (H − 1)·s − 2p + k`.
///
/// Lowering per batch chunk: `X [C, b·H·W]`, `cols = Wᵀ·X [O·k·k, b·H·W]`, `y = col2im(cols)`
/// (a one-image chunk reads its `X [C, H·W]` from the input in place).
/// Pullback: `dcols = im2col(G)`, `∂W = Σ_chunks X·dcolsᵀ`, `∂x = W·dcols`, `∂b = Σ G`.
/// `lowering` and `activation` as in `conv2d` (the direct kernels need the input grid ≥ 8 wide).
public func convTranspose2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int, padding: Int,
                            lowering: ConvolutionLowering = .automatic, activation: ConvolutionActivation = .identity) -> Variable {
    precondition(x.shape.count == 4, "convTranspose2d: input must be [B, C, H, W], got \(x.shape)")
    let ws = weight.shape
    precondition(ws.count == 4 && ws[0] == x.shape[1] && ws[2] == ws[3],
                 "convTranspose2d: weight \(ws) does not fit input \(x.shape) (want [\(x.shape[1]), O, k, k])")
    let (batch, inChannels, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outChannels, k) = (ws[1], ws[2])
    if let bias { precondition(bias.shape == [outChannels], "convTranspose2d: bias \(bias.shape), want [\(outChannels)]") }
    let outH = (h - 1) * stride - 2 * padding + k, outW = (wd - 1) * stride - 2 * padding + k
    precondition(outH > 0 && outW > 0, "convTranspose2d: output size \(outH)×\(outW) is empty")
    // The output image is swept by the same window that maps it back to the input grid.
    let g = WindowGeometry(channels: outChannels, height: outH, width: outW, kernel: k, stride: stride, padding: padding)
    precondition(g.gridHeight == h && g.gridWidth == wd, "convTranspose2d: geometry mismatch")
    if lowering.usesDirect(inChannels: inChannels, outChannels: outChannels, gridWidth: wd) {
        return directConvTranspose2d(x, weight: weight, bias: bias, g, inChannels: inChannels, activation: activation)
    }
    let (patch, grid) = (g.patchSize, h * wd)
    let chunks = batchPieces(batch, floatsPerImage: max(patch, inChannels) * grid, grid: grid)
    let (w, xv, bv) = (weight.value, x.value, bias?.value)
    // Each multi-image chunk's [C, b·H·W] input matrix, kept only when ∂W will be needed (a
    // one-image chunk's is the input itself).
    let keep = weight.needsGradient
    let xm = chunks.map { $0.isSingleImage ? nil : ScratchBuffer(count: inChannels * grid * $0.count) }
    let stamps = chunks.map { ScratchBuffer(count: patch * grid * $0.count) }
    let y = Tensor(shape: [batch, outChannels, outH, outW]) { out in
        xv.withPointer { px in w.withPointer { pw in
            Parallel.forEach(chunks.count) { ci in
                let ch = chunks[ci], n = ch.count * grid
                let xImages = px + ch.offset(inChannels * grid)
                let xChunk = UnsafePointer(xm[ci]?.pointer) ?? xImages
                if let buffer = xm[ci] {
                    channelMajor(xImages, batch: ch.count, channels: inChannels, plane: grid, into: buffer.pointer)
                }
                let cols = stamps[ci].pointer
                BLAS.gemm(transposeA: true, transposeB: false, m: patch, n: n, k: inChannels,
                          a: pw, lda: patch, b: xChunk, ldb: n, c: cols, ldc: n)
                let yChunk = out.baseAddress! + ch.offset(outChannels * g.plane)
                col2im(cols, batch: ch.count, g, into: yChunk)
                if let bv { bv.withPointer { addBias($0, batch: ch.count, channels: outChannels, plane: g.plane, to: yChunk) } }
                activation.apply(yChunk, count: ch.count * outChannels * g.plane)
            }
        } }
    }
    let savedInputs = keep ? xm : [], savedInput = keep && chunks.contains(where: \.isSingleImage) ? xv : nil
    let parents = bias.map { [weight, $0] } ?? [weight]
    let (inputShape, hasBias) = (x.shape, bias != nil) // tensors and sizes only, as in `conv2d`
    let activated = activation == .relu ? y : nil
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        let patches = chunks.map { ScratchBuffer(count: patch * grid * $0.count) }
        let products = needed[0] ? chunks.map { $0.isSingleImage ? nil : ScratchBuffer(count: inChannels * grid * $0.count) } : []
        return w.withPointer { pw in withOptionalPointer(savedInput) { px in
            convolutionPullback(needed, hasBias: hasBias, upstream: upstream, activation: activation, output: activated,
                                inputShape: inputShape, weightShape: ws, chunks: chunks.map(\.range)) { ci, gChunk, dw, dxBase in
                let ch = chunks[ci], n = ch.count * grid
                let dcols = patches[ci].pointer
                im2col(gChunk, batch: ch.count, g, into: dcols)
                if let dwChunk = dw.pointer {
                    let xChunk = UnsafePointer(savedInputs[ci]?.pointer) ?? px! + ch.offset(inChannels * grid)
                    weightGradientProduct(m: inChannels, n: patch, k: n, a: xChunk, lda: n, b: dcols, ldb: n,
                                          beta: dw.beta, c: dwChunk, ldc: patch)
                }
                if let dxBase {
                    let dxImages = dxBase + ch.offset(inChannels * grid)
                    let dxm = products[ci]?.pointer ?? dxImages
                    BLAS.gemm(transposeA: false, transposeB: false, m: inChannels, n: n, k: patch,
                              a: pw, lda: patch, b: dcols, ldb: n, c: dxm, ldc: n)
                    if products[ci] != nil {
                        batchMajor(dxm, batch: ch.count, channels: inChannels, plane: grid, bias: nil, into: dxImages)
                    }
                }
            }
        } }
    }
}
