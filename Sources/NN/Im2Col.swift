import ConvKernels
import TensorCore

/// The geometry of a 2-D convolution window sweep, shared by `im2col` and `col2im`.
///
/// An image `[B, C, H, W]` is swept by a `kernel × kernel` window with `stride`
/// and zero `padding`, giving a grid of `gridH × gridW` window positions with
/// `gridH = (H + 2·padding − kernel) / stride + 1` (likewise for W).
public struct WindowGeometry: Equatable, Sendable {
    /// Channels C of the swept image.
    public var channels: Int
    /// Image height H and width W.
    public var height: Int, width: Int
    /// Square kernel size, stride and zero padding on every side.
    public var kernel: Int, stride: Int, padding: Int

    /// Sweep of a `[·, channels, height, width]` image.
    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "conv: kernel \(kernel), stride \(stride), padding \(padding) invalid")
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
        precondition(gridHeight > 0 && gridWidth > 0,
                     "conv: a \(kernel)×\(kernel) window with padding \(padding) does not fit a \(height)×\(width) image")
    }

    /// Window positions along H: `(H + 2p − k)/s + 1`.
    public var gridHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    /// Window positions along W: `(W + 2p − k)/s + 1`.
    public var gridWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Window positions per image, L = gridH·gridW.
    public var gridSize: Int { gridHeight * gridWidth }
    /// Rows of the column matrix: `C·k·k`.
    public var patchSize: Int { channels * kernel * kernel }
    /// Elements of one image plane, H·W.
    public var plane: Int { height * width }

    /// The window columns `xo` whose input column `ix = xo·s − p + j` lies inside `[0, W)`,
    /// for kernel column `j`: `ceil((p − j)/s) ≤ xo ≤ floor((W − 1 + p − j)/s)`, clipped to the grid.
    @inline(__always)
    func validColumns(_ j: Int) -> (first: Int, end: Int) {
        let first = Swift.max(0, -floorDivide(j - padding, stride))
        let end = Swift.min(gridWidth, floorDivide(width - 1 + padding - j, stride) + 1)
        return (first, Swift.max(first, end))
    }
}

/// Unfolds image patches into columns (the GEMM form of convolution) for the
/// `batch` images starting at `x`.
///
/// Concretely: `cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow] =
/// x[b, c, oh·s − p + i, ow·s − p + j]` (0 outside the image). Shapes:
/// `x [batch, C, H, W] → cols [C·k·k, batch·gridH·gridW]`.
public func im2col(_ x: UnsafePointer<Float>, batch: Int, _ g: WindowGeometry, into cols: UnsafeMutablePointer<Float>) {
    let (oh, ow, k, s, p) = (g.gridHeight, g.gridWidth, g.kernel, g.stride, g.padding)
    let (h, w, c) = (g.height, g.width, g.channels)
    let n = batch * g.gridSize
    for row in 0..<g.patchSize {
        let ci = row / (k * k), i = (row / k) % k, j = row % k
        let (xoFirst, xoEnd) = g.validColumns(j)
        let dst = cols + row * n
        for b in 0..<batch {
            let src = x + (b * c + ci) * g.plane
            for y in 0..<oh {
                let iy = y * s - p + i
                let out = dst + (b * oh + y) * ow
                if iy < 0 || iy >= h || xoFirst >= xoEnd {
                    out.update(repeating: 0, count: ow)
                    continue
                }
                let srcRow = src + iy * w + (j - p)
                for xo in 0..<xoFirst { out[xo] = 0 }
                if s == 1 {
                    (out + xoFirst).update(from: srcRow + xoFirst, count: xoEnd - xoFirst)
                } else {
                    for xo in xoFirst..<xoEnd { out[xo] = srcRow[xo * s] }
                }
                for xo in xoEnd..<ow { out[xo] = 0 }
            }
        }
    }
}

/// Folds columns back onto the `batch` images at `x`, summing overlaps: the adjoint of `im2col`.
///
/// Concretely: `x[b, c, oh·s − p + i, ow·s − p + j] += cols[(c·k + i)·k + j, (b·gridH + oh)·gridW + ow]`
/// for every in-image position. `x` is overwritten (zeroed first).
public func col2im(_ cols: UnsafePointer<Float>, batch: Int, _ g: WindowGeometry, into x: UnsafeMutablePointer<Float>) {
    let (oh, ow, k, s, p) = (g.gridHeight, g.gridWidth, g.kernel, g.stride, g.padding)
    let (h, w, c) = (g.height, g.width, g.channels)
    let n = batch * g.gridSize
    x.update(repeating: 0, count: batch * c * g.plane)
    for ci in 0..<c {
        for i in 0..<k {
            for j in 0..<k {
                let (xoFirst, xoEnd) = g.validColumns(j)
                if xoFirst >= xoEnd { continue }
                let src = cols + ((ci * k + i) * k + j) * n
                for b in 0..<batch {
                    let dst = x + (b * c + ci) * g.plane
                    for y in 0..<oh {
                        let iy = y * s - p + i
                        if iy < 0 || iy >= h { continue }
                        let dstRow = dst + iy * w + (j - p)
                        let srcRow = src + (b * oh + y) * ow
                        for xo in xoFirst..<xoEnd { dstRow[xo * s] += srcRow[xo] }
                    }
                }
            }
        }
    }
}
