import Autodiff
import TensorCore

// 2-D convolution and transposed convolution as autodiff primitives, each
// forward beside its pullback. Both lower to one large GEMM over the whole batch
// (batch folded into the GEMM's N dimension) plus im2col/col2im.

extension Tensor {
    /// `[B, C, L] → [C, B·L]` (channel-major): the layout change from NCHW activations
    /// to the GEMM's `[C, B·L]` matrices. Channels are copied in parallel.
    static func channelMajor(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                             into out: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels) { c in
            for b in 0..<batch {
                (out + (c * batch + b) * plane).update(from: x + (b * channels + c) * plane, count: plane)
            }
        }
    }

    /// `[C, B·L] → [B, C, L]` plus `bias[c]` (if given): the inverse of `channelMajor`.
    static func batchMajor(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                           bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels) { c in
            let beta = bias?[c] ?? 0
            for b in 0..<batch {
                let src = x + (c * batch + b) * plane, dst = out + (b * channels + c) * plane
                for i in 0..<plane { dst[i] = src[i] + beta }
            }
        }
    }

    /// Σ over batch and space of a `[B, C, H, W]` tensor → `[C]` (the bias gradient).
    static func channelSums(_ g: Tensor) -> Tensor {
        let (b, c) = (g.shape[0], g.shape[1]), plane = g.count / Swift.max(b * c, 1)
        return Tensor(shape: [c]) { out in
            g.scalars.withUnsafeBufferPointer { p in
                for ci in 0..<c {
                    var s: Float = 0
                    for bi in 0..<b {
                        let base = (bi * c + ci) * plane
                        for i in 0..<plane { s += p[base + i] }
                    }
                    out[ci] = s
                }
            }
        }
    }
}

extension Tensor {
    @inline(__always)
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        scalars.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// 2-D cross-correlation (PyTorch `conv2d`) over a batch, as one primitive.
///
/// Concretely: `y[b, o, oh, ow] = bias[o] + Σ_{c,i,j} w[o, c, i, j] · x[b, c, oh·s − p + i, ow·s − p + j]`.
/// Shapes: `x [B, C, H, W]`, `weight [O, C, k, k]`, `bias [O]` → `y [B, O, H′, W′]` with
/// `H′ = (H + 2p − k)/s + 1`.
///
/// Lowering: `cols = im2col(x) [C·k·k, B·L]`, `Y = W·cols [O, B·L]`, then to NCHW.
/// Pullback with `G [O, B·L]`: `∂W = G·colsᵀ`, `∂b = Σ G`, `∂x = col2im(Wᵀ·G)`.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int, padding: Int) -> Variable {
    precondition(x.shape.count == 4, "conv2d: input must be [B, C, H, W], got \(x.shape)")
    let ws = weight.shape
    precondition(ws.count == 4 && ws[1] == x.shape[1] && ws[2] == ws[3],
                 "conv2d: weight \(ws) does not fit input \(x.shape) (want [O, \(x.shape[1]), k, k])")
    let outChannels = ws[0]
    if let bias { precondition(bias.shape == [outChannels], "conv2d: bias \(bias.shape), want [\(outChannels)]") }
    let g = WindowGeometry(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                           kernel: ws[2], stride: stride, padding: padding)
    let n = g.columnCount, plane = g.gridHeight * g.gridWidth
    let w = weight.value
    let cols = Tensor(shape: [g.patchSize, n]) { c in x.value.withPointer { im2col($0, g, into: c.baseAddress!) } }
    let y = Tensor(shape: [g.batch, outChannels, g.gridHeight, g.gridWidth]) { out in
        let ym = [Float](unsafeUninitializedCapacity: outChannels * n) { buf, count in
            cols.withPointer { pc in
                w.withPointer { pw in
                    BLAS.gemm(transposeA: false, transposeB: false, m: outChannels, n: n, k: g.patchSize,
                              a: pw, lda: g.patchSize, b: pc, ldb: n, c: buf.baseAddress!, ldc: n)
                }
            }
            count = outChannels * n
        }
        ym.withUnsafeBufferPointer { pym in
            if let b = bias?.value {
                b.withPointer { pb in
                    Tensor.batchMajor(pym.baseAddress!, batch: g.batch, channels: outChannels, plane: plane,
                                      bias: pb, into: out.baseAddress!)
                }
            } else {
                Tensor.batchMajor(pym.baseAddress!, batch: g.batch, channels: outChannels, plane: plane,
                                  bias: nil, into: out.baseAddress!)
            }
        }
    }
    let parents = bias.map { [weight, $0] } ?? [weight]
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        let gm = Tensor(shape: [outChannels, n]) { out in
            upstream.withPointer { Tensor.channelMajor($0, batch: g.batch, channels: outChannels, plane: plane, into: out.baseAddress!) }
        }
        var dx: Tensor?, dw: Tensor?
        if needed[1] {
            dw = Tensor.matmul(gm, cols, transposeB: true).reshaped(ws)
        }
        if needed[0] {
            let dcols = Tensor.matmul(w.reshaped([outChannels, g.patchSize]), gm, transposeA: true)
            dx = Tensor(shape: x.shape) { out in dcols.withPointer { col2im($0, g, into: out.baseAddress!) } }
        }
        var result: [Tensor?] = [dx, dw]
        if bias != nil { result.append(needed[2] ? Tensor.channelSums(upstream) : nil) }
        return result
    }
}

/// 2-D transposed convolution (PyTorch `conv_transpose2d`), the adjoint of `conv2d`'s
/// input map: each input pixel scatters a `k × k` weighted stamp onto the output.
///
/// Concretely: `y[b, o, ih·s − p + i, iw·s − p + j] += Σ_c x[b, c, ih, iw] · w[c, o, i, j]`, plus `bias[o]`.
/// Shapes: `x [B, C, H, W]`, `weight [C, O, k, k]`, `bias [O]` → `y [B, O, H′, W′]` with
/// `H′ = (H − 1)·s − 2p + k`.
///
/// Lowering: `X [C, B·H·W]`, `cols = Wᵀ·X [O·k·k, B·H·W]`, `y = col2im(cols)`.
/// Pullback: `dcols = im2col(G)`, `∂W = X·dcolsᵀ`, `∂x = W·dcols`, `∂b = Σ G`.
public func convTranspose2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int, padding: Int) -> Variable {
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
    let g = WindowGeometry(batch: batch, channels: outChannels, height: outH, width: outW,
                           kernel: k, stride: stride, padding: padding)
    precondition(g.gridHeight == h && g.gridWidth == wd, "convTranspose2d: geometry mismatch")
    let n = batch * h * wd, plane = h * wd
    let w = weight.value
    let xm = Tensor(shape: [inChannels, n]) { out in
        x.value.withPointer { Tensor.channelMajor($0, batch: batch, channels: inChannels, plane: plane, into: out.baseAddress!) }
    }
    let cols = Tensor.matmul(w.reshaped([inChannels, g.patchSize]), xm, transposeA: true)
    var y = Tensor(shape: [batch, outChannels, outH, outW]) { out in cols.withPointer { col2im($0, g, into: out.baseAddress!) } }
    if let b = bias?.value {
        let outPlane = outH * outW
        y.scalars.withUnsafeMutableBufferPointer { py in
            for bi in 0..<batch {
                for o in 0..<outChannels {
                    let beta = b.scalars[o], base = (bi * outChannels + o) * outPlane
                    for i in 0..<outPlane { py[base + i] += beta }
                }
            }
        }
    }
    let parents = bias.map { [weight, $0] } ?? [weight]
    return x.tape.record(y, parents: [x] + parents) { upstream, needed in
        let dcols = Tensor(shape: [g.patchSize, n]) { out in upstream.withPointer { im2col($0, g, into: out.baseAddress!) } }
        var dx: Tensor?, dw: Tensor?
        if needed[1] {
            dw = Tensor.matmul(xm, dcols, transposeB: true).reshaped(ws)
        }
        if needed[0] {
            let dxm = Tensor.matmul(w.reshaped([inChannels, g.patchSize]), dcols)
            dx = Tensor(shape: x.shape) { out in
                dxm.withPointer { Tensor.batchMajor($0, batch: batch, channels: inChannels, plane: plane, bias: nil, into: out.baseAddress!) }
            }
        }
        var result: [Tensor?] = [dx, dw]
        if bias != nil { result.append(needed[2] ? Tensor.channelSums(upstream) : nil) }
        return result
    }
}
