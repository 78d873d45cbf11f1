import Autodiff
import Foundation
import NN
import TensorCore

// Encoding without gradients that skips blank image regions, exactly. A dSprites image is a sprite
// of ≈ 10–20 pixels on a zero background; every position of a convolution whose receptive field
// lies in the background computes the same number in every image — the number the all-zero image
// gives there. `ConvEncoder.posteriorWithoutGradients` therefore computes conv1–conv3 of each image
// only over the window its non-zero pixels can reach and takes every other conv3 cell from the
// all-zero image, then runs conv4 and the dense layers on the whole map as before.

/// Where one image's non-zero pixels reach on conv3's 8 × 8 grid in `ConvEncoder`.
///
/// conv3 cell `(r, c)` sees input rows `8r − 3 … 8r + 10` and columns `8c − 3 … 8c + 10` (conv1 and
/// conv2 are 4 × 4, stride 2, padding 1; conv3 is 2 × 2, stride 2), so its value can differ from the
/// all-zero image's only when that 14 × 14 field holds a non-zero pixel: rows
/// `r ∈ [⌈(y_min − 10)/8⌉, ⌊(y_max + 3)/8⌋] ∩ [0, 8)` for the non-zero pixels' rows `y_min … y_max`,
/// and likewise for columns.
struct ReachedCells: Hashable {
    /// conv3 rows and columns the image's non-zero pixels reach (empty ranges: a blank image).
    let rows: Range<Int>, columns: Range<Int>

    /// The cells reached by non-zero pixels of `image`: `channels` planes of 64 × 64 floats.
    init(image: UnsafePointer<Float>, channels: Int) {
        var (top, bottom, left, right) = (Int.max, -1, Int.max, -1)
        for c in 0..<channels {
            for y in 0..<64 {
                let row = image + (c * 64 + y) * 64
                // Most rows are blank: four 16-lane compares say so before any scalar scan.
                var blank = true
                for q in 0..<4 where blank {
                    blank = !any(UnsafeRawPointer(row + 16 * q).loadUnaligned(as: SIMD16<Float>.self) .!= 0)
                }
                guard !blank else { continue }
                var first = 0, last = 63
                while row[first] == 0 { first += 1 }
                while row[last] == 0 { last -= 1 }
                (top, bottom) = (Swift.min(top, y), Swift.max(bottom, y))
                (left, right) = (Swift.min(left, first), Swift.max(right, last))
            }
        }
        rows = Self.cells(first: top, last: bottom)
        columns = Self.cells(first: left, last: right)
    }

    /// conv3 cells whose 14-pixel field `[8r − 3, 8r + 10]` meets pixels `first … last` (none if `last < 0`).
    /// With `0 ≤ first ≤ last`: `low = max(0, ⌈(first − 10)/8⌉) = max(0, ⌊(first − 3)/8⌋)`, and Swift's
    /// truncating division gives that floor wherever it is not clamped (`first − 3 ≥ −3` truncates to 0).
    static func cells(first: Int, last: Int) -> Range<Int> {
        guard last >= 0 else { return 0..<0 }
        let low = Swift.max(0, (first - 3) / 8), high = Swift.min(7, (last + 3) / 8)
        return low..<(high + 1)
    }

    /// The window a group of images is computed over: `rows × columns` cells, each image's placed at
    /// its own reached cells (0 × 0 for a blank image, which keeps the all-zero image's map).
    var size: Size { Size(rows: rows.count, columns: columns.count) }

    /// A window's extent in conv3 cells.
    struct Size: Hashable {
        let rows: Int, columns: Int
        var cells: Int { rows * columns }
    }
}

extension ConvEncoder {
    /// Windows of at least this many of the 64 conv3 cells are computed over the whole image: a
    /// window of 7 × 8 cells already reads as many pixels as the whole padded image.
    static let wholeImageCells = 56

    /// `(μ, log σ²)`, each `[B, Z]`, of `images [B, C, 64, 64]` without gradients: equal, bit for bit,
    /// to `callAsFunction` on a non-recording tape, computing conv1–conv3 only where images are not blank.
    ///
    /// For each image, the conv3 cells its non-zero pixels reach (``ReachedCells``) are computed from a
    /// crop of input rows `8r₀ − 3 … 8r₁ + 10` (zeros outside the image) through conv1, conv2, conv3
    /// with padding 0; the crop's conv1 rows and columns that fall on conv2's zero padding (conv1
    /// index −1 or 32) are set to 0, as the padding is. Every other conv3 cell takes the value of the
    /// all-zero image, computed by the same layers. Images with the same window size go through the
    /// layers together; windows of ≥ 56 cells run on the whole image, and a batch of only such images
    /// runs `callAsFunction` as it is. conv4 and the dense layers run on the assembled `[B, 64, 8, 8]`
    /// map as in `callAsFunction`.
    ///
    /// Exact because every convolution here sums each output in an order fixed by the layer alone:
    /// the direct kernels by `(c, i, j)` rows, the im2col GEMM by its k index through the packed kernel
    /// (`BLAS.Kernel.packed`), which rounds by k alone. Under OpenBLAS, whose rounding may depend on the
    /// matrix shape, this falls back to `callAsFunction` (``skipsBlankRegions``).
    /// On dSprites an image reaches 15 of the 64 conv3 cells on average, so conv1–conv3 compute ≈ a
    /// quarter of their products.
    public func posteriorWithoutGradients(_ images: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let tape = Tape(recording: false)
        func dense() -> (mean: Tensor, logVariance: Tensor) {
            let (mean, logVariance) = self(tape.constant(images))
            return (mean.value, logVariance.value)
        }
        guard Self.skipsBlankRegions, images.rank == 4, images.shape[2] == 64, images.shape[3] == 64, images.shape[0] > 0 else {
            return dense()
        }
        let (batch, channels) = (images.shape[0], images.shape[1])
        // The scans, crops, copies and pastes below run image by image on all threads, as the layers do.
        let reached = [ReachedCells](unsafeUninitializedCapacity: batch) { out, count in
            images.scalars.withUnsafeBufferPointer { q in
                nonisolated(unsafe) let (source, target) = (q.baseAddress!, out.baseAddress!)
                Parallel.forEach(batch) { b in (target + b).initialize(to: ReachedCells(image: source + b * channels * 4096, channels: channels)) }
            }
            count = batch
        }
        // Images without blank margins (photographs, the lesion set, noise) take the dense layers
        // directly: the scan above is then the only cost of trying.
        if reached.allSatisfy({ $0.size.cells >= Self.wholeImageCells }) { return dense() }
        let background = convolutions(tape.constant(.zeros([1, channels, 64, 64]))).value
        var map = Tensor(shape: [batch, 64, 8, 8], unsafeUninitialized: { out in
            background.scalars.withUnsafeBufferPointer { q in
                nonisolated(unsafe) let (source, target) = (q.baseAddress!, out.baseAddress!)
                Parallel.forEach(batch) { b in (target + b * 4096).update(from: source, count: 4096) }
            }
        })
        // Each thread assembles the maps of one contiguous share of the batch, running its share's window
        // groups on itself (`Parallel.serially`): one parallel region for all of them, where splitting
        // each group's layers over the threads woke them ≈ 8 times a group and left them idle a fifth
        // of the time (1.58 of 2 cores busy, measured).
        let shares = Parallel.chunks(batch)
        map.scalars.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let target = buffer.baseAddress!
            Parallel.forEach(shares.count) { t in
                Parallel.serially { assembleWindows(images, reached: reached, share: shares[t], into: target) }
            }
        }
        let h = conv4(tape.constant(map), activation: .relu)
        let f = fc(h.flattened()).relu()
        return (meanHead(f).value, logVarianceHead(f).value)
    }

    /// 1,024 images a call where blank regions are skipped (``skipsBlankRegions``): the layers then
    /// see 4× larger groups of same-sized windows, ≈ 20–40 % more images/s on dSprites, while memory
    /// stays that of 256 (groups run 256 images at a time), and a code is bit for bit the same in any
    /// batch; 256 otherwise.
    public var encodingBatch: Int { Self.skipsBlankRegions ? 1024 : 256 }

    /// Images of one group (same window size) that go through the layers together: 256, the
    /// memory of the dense encoder's batch at most.
    static let groupPiece = 256

    /// Whether ``posteriorWithoutGradients(_:)`` skips blank regions: when GEMMs run through the packed
    /// kernel (whose rounding depends on k alone) and `UNTANGLE_SKIP_BLANK` is not `0`.
    public static let skipsBlankRegions: Bool = BLAS.kernel == .packed
        && ProcessInfo.processInfo.environment["UNTANGLE_SKIP_BLANK"] != "0"

    /// Writes into `map [B, 64, 8, 8]` (holding the all-zero image's conv3 map in every image) the
    /// reached cells of images `share`: each group of one window size (at most ``groupPiece`` images)
    /// through ``window(_:_:origins:size:tape:)``, windows of ≥ ``wholeImageCells`` cells through the
    /// layers on the whole image.
    private func assembleWindows(_ images: Tensor, reached: [ReachedCells], share: Range<Int>, into map: UnsafeMutablePointer<Float>) {
        let tape = Tape(recording: false), channels = images.shape[1]
        var groups: [ReachedCells.Size: [Int]] = [:]
        for b in share where reached[b].size.cells > 0 { groups[reached[b].size, default: []].append(b) }
        let pieces = groups.sorted(by: { ($0.key.rows, $0.key.columns) < ($1.key.rows, $1.key.columns) }).flatMap { size, members in
            stride(from: 0, to: members.count, by: Self.groupPiece).map { (size, Array(members[$0..<min(members.count, $0 + Self.groupPiece)])) }
        }
        for (size, members) in pieces {
            if size.cells >= Self.wholeImageCells {
                let whole = convolutions(tape.constant(images.gathering(members, perImage: channels * 4096, shape: [channels, 64, 64]))).value
                paste(whole, into: map, images: members, at: members.map { _ in (0, 0) }, size: .init(rows: 8, columns: 8))
            } else {
                let origins = members.map { (reached[$0].rows.lowerBound, reached[$0].columns.lowerBound) }
                paste(window(images, members, origins: origins, size: size, tape: tape), into: map, images: members,
                      at: origins, size: size)
            }
        }
    }

    /// `relu(conv3(relu(conv2(relu(conv1(x))))))` with the layers' own padding (the whole-image path).
    private func convolutions(_ x: Variable) -> Variable {
        conv3(conv2(conv1(x, activation: .relu), activation: .relu), activation: .relu)
    }

    /// conv3's output `[g, 64, rows, columns]` over each member's window of `size` cells at `origins`
    /// (conv3 cells): the crop of input rows `8r₀ − 3 ..< 8r₀ + 8·rows + 3` (and columns), zero outside
    /// the image, through the three convolutions with padding 0, conv1's cells on conv2's padding zeroed.
    private func window(_ images: Tensor, _ members: [Int], origins: [(Int, Int)], size: ReachedCells.Size,
                        tape: Tape) -> Tensor {
        let channels = images.shape[1]
        let (height, width) = (8 * size.rows + 6, 8 * size.columns + 6)
        let crop = Tensor(shape: [members.count, channels, height, width], unsafeUninitialized: { out in
            images.scalars.withUnsafeBufferPointer { q in
                nonisolated(unsafe) let (p, target) = (q.baseAddress!, out.baseAddress!)
                Parallel.forEach(members.count) { m in
                    let b = members[m]
                    let (top, left) = (8 * origins[m].0 - 3, 8 * origins[m].1 - 3)
                    // Columns left ..< left + width of the image: zeros before column 0 and after 63.
                    let (from, to) = (Swift.max(0, left), Swift.min(64, left + width))
                    for c in 0..<channels {
                        let source = p + (b * channels + c) * 4096, plane = target + (m * channels + c) * height * width
                        for u in 0..<height {
                            let y = top + u, row = plane + u * width
                            guard (0..<64).contains(y) else { row.update(repeating: 0, count: width); continue }
                            row.update(repeating: 0, count: from - left)
                            (row + from - left).update(from: source + y * 64 + from, count: to - from)
                            (row + to - left).update(repeating: 0, count: left + width - to)
                        }
                    }
                }
            }
        })
        var h1 = conv2d(tape.constant(crop), weight: tape.parameter(conv1.weight), bias: tape.parameter(conv1.bias),
                        stride: 2, padding: 0, lowering: Self.firstLayerLowering, activation: .relu).value
        // conv1 cell t of a window at origin r₀ is conv1 index 4r₀ − 1 + t: index −1 and 32 are conv2's padding.
        let (rows1, columns1) = (4 * size.rows + 2, 4 * size.columns + 2)
        h1.scalars.withUnsafeMutableBufferPointer { h in
            for (m, origin) in origins.enumerated() {
                let zeroRows = [origin.0 == 0 ? 0 : nil, origin.0 + size.rows == 8 ? rows1 - 1 : nil].compactMap { $0 }
                let zeroColumns = [origin.1 == 0 ? 0 : nil, origin.1 + size.columns == 8 ? columns1 - 1 : nil].compactMap { $0 }
                for c in 0..<32 {
                    let plane = h.baseAddress! + (m * 32 + c) * rows1 * columns1
                    for t in zeroRows { (plane + t * columns1).update(repeating: 0, count: columns1) }
                    for t in zeroColumns { for u in 0..<rows1 { plane[u * columns1 + t] = 0 } }
                }
            }
        }
        let h2 = conv2d(tape.constant(h1), weight: tape.parameter(conv2.weight), bias: tape.parameter(conv2.bias),
                        stride: 2, padding: 0, lowering: Self.lowering(conv2, gridWidth: 16), activation: .relu)
        return conv2d(h2, weight: tape.parameter(conv3.weight), bias: tape.parameter(conv3.bias),
                      stride: 2, padding: 0, lowering: Self.lowering(conv3, gridWidth: 8), activation: .relu).value
    }

    /// conv1's crops run the direct forward kernel where the CPU has it: it sums each output over the
    /// same `(c, i, j)` order, one fused multiply-add per term from 0, then adds the bias — the
    /// arithmetic of the whole image's im2col GEMM through the packed kernel — at ≈ 5× its speed on
    /// a one-channel input (16-term sums, too short for a GEMM).
    private static let firstLayerLowering: ConvolutionLowering = ConvolutionLowering.automaticAllowsDirect ? .direct : .im2col

    /// The lowering `layer` takes on the whole image (output grid `gridWidth` wide), made explicit so a
    /// narrow window runs the same kernel.
    private static func lowering(_ layer: Conv2d, gridWidth: Int) -> ConvolutionLowering {
        let shape = layer.weight.value.shape
        return ConvolutionLowering.automatic.usesDirect(inChannels: shape[1], outChannels: shape[0], gridWidth: gridWidth)
            ? .direct : .im2col
    }

    /// Writes windows `[g, 64, size.rows, size.columns]` into `map [B, 64, 8, 8]` at each member's origin.
    private func paste(_ windows: Tensor, into map: UnsafeMutablePointer<Float>, images members: [Int], at origins: [(Int, Int)],
                       size: ReachedCells.Size) {
        let cells = size.cells
        windows.scalars.withUnsafeBufferPointer { q in
            nonisolated(unsafe) let (w, target) = (q.baseAddress!, map)
            Parallel.forEach(members.count) { m in
                let b = members[m]
                for c in 0..<64 {
                    let source = w + (m * 64 + c) * cells, plane = target + (b * 64 + c) * 64
                    for u in 0..<size.rows {
                        (plane + (origins[m].0 + u) * 8 + origins[m].1).update(from: source + u * size.columns, count: size.columns)
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// Images `indices` of a `[B, …]` tensor with `perImage` elements each, as `[indices.count] + shape`.
    func gathering(_ indices: [Int], perImage: Int, shape: [Int]) -> Tensor {
        Tensor(shape: [indices.count] + shape, unsafeUninitialized: { out in
            scalars.withUnsafeBufferPointer { q in let p = q.baseAddress!
                for (m, b) in indices.enumerated() { (out.baseAddress! + m * perImage).update(from: p + b * perImage, count: perImage) }
            }
        })
    }
}
