import TensorCore

/// The geometry of a 2-D convolution window sweep, shared by `im2col` and `col2im`.
///
/// An image `[B, C, H, W]` is swept by a `kernel × kernel` window with `stride`
/// and zero `padding`, giving a grid of `gridH × gridW` window positions with
/// `gridH = (H + 2·padding − kernel) / stride + 1` (likewise for W).
public struct WindowGeometry: Equatable, Sendable {
    /// Batch size B.
    public var batch: Int
    /// Channels C of the swept image.
    public var channels: Int
    /// Image height H and width W.
    public var height: Int, width: Int
    /// Square kernel size, stride and zero padding on every side.
    public var kernel: Int, stride: Int, padding: Int

    /// Sweep of a `[batch, channels, height, width]` image.
    public init(batch: Int, channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "conv: kernel \(kernel), stride \(stride), padding \(padding) invalid")
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
        precondition(gridHeight > 0 && gridWidth > 0,
                     "conv: a \(kernel)×\(kernel) window with padding \(padding) does not fit a \(height)×\(width) image")
    }

    /// Window positions along H: `(H + 2p − k)/s + 1`.
    public var gridHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    /// Window positions along W: `(W + 2p − k)/s + 1`.
    public var gridWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Rows of the column matrix: `C·k·k`.
    public var patchSize: Int { channels * kernel * kernel }
    /// Columns of the column matrix: `B·gridH·gridW`.
    public var columnCount: Int { batch * gridHeight * gridWidth }
}

/// Unfolds image patches into columns (the GEMM form of convolution).
///
/// Concretely: `cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow] =
/// x[b, c, oh·s − p + i, ow·s − p + j]` (0 outside the image). Shapes:
/// `x [B, C, H, W] → cols [C·k·k, B·gridH·gridW]`. Rows are filled in parallel.
public func im2col(_ x: UnsafePointer<Float>, _ g: WindowGeometry, into cols: UnsafeMutablePointer<Float>) {
    let (oh, ow, k, s, p) = (g.gridHeight, g.gridWidth, g.kernel, g.stride, g.padding)
    let (h, w, c) = (g.height, g.width, g.channels)
    let n = g.columnCount, plane = h * w
    Parallel.forEach(g.patchSize) { row in
        let ci = row / (k * k), i = (row / k) % k, j = row % k
        let dst = cols + row * n
        for b in 0..<g.batch {
            let src = x + (b * c + ci) * plane
            for y in 0..<oh {
                let iy = y * s - p + i
                let out = dst + (b * oh + y) * ow
                if iy < 0 || iy >= h {
                    out.update(repeating: 0, count: ow)
                    continue
                }
                let srcRow = src + iy * w
                for xo in 0..<ow {
                    let ix = xo * s - p + j
                    out[xo] = (ix >= 0 && ix < w) ? srcRow[ix] : 0
                }
            }
        }
    }
}

/// Folds columns back onto the image, summing overlaps: the adjoint of `im2col`.
///
/// Concretely: `x[b, c, oh·s − p + i, ow·s − p + j] += cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow]`
/// for every in-image position. `x` is overwritten (zeroed first). Channels are
/// processed in parallel (each writes only its own planes).
public func col2im(_ cols: UnsafePointer<Float>, _ g: WindowGeometry, into x: UnsafeMutablePointer<Float>) {
    let (oh, ow, k, s, p) = (g.gridHeight, g.gridWidth, g.kernel, g.stride, g.padding)
    let (h, w, c) = (g.height, g.width, g.channels)
    let n = g.columnCount, plane = h * w
    Parallel.forEach(c) { ci in
        for b in 0..<g.batch { (x + (b * c + ci) * plane).update(repeating: 0, count: plane) }
        for i in 0..<k {
            for j in 0..<k {
                let src = cols + ((ci * k + i) * k + j) * n
                for b in 0..<g.batch {
                    let dst = x + (b * c + ci) * plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        if iy < 0 || iy >= h { continue }
                        let dstRow = dst + iy * w
                        let srcRow = src + (b * oh + y) * ow
                        for xo in 0..<ow {
                            let ix = xo * s - p + j
                            if ix >= 0 && ix < w { dstRow[ix] += srcRow[xo] }
                        }
                    }
                }
            }
        }
    }
}
