// Direct convolution kernels: the three products of a convolution layer computed from the
// activations in place, without materialising im2col/col2im matrices. This module is compiled
// for `skylake-avx512` (AVX-512 F/CD/BW/DQ/VL, FMA) on x86-64 (see Package.swift); `DirectConvolution.isSupported` says
// whether this CPU can run it, and callers must check it first. Everything here is plain Swift
// SIMD over raw pointers: no dependency on the rest of Untangle.
//
// The register tile of every kernel is `Tile`: 8 output positions (or 8 weight rows) × 32
// channels, sixteen `SIMD16<Float>` accumulators, two weight vectors and one broadcast in
// registers — 19 of AVX-512's 32 vector registers, one fused multiply-add per lane per step.
// Order of summation is fixed by the loops, so results are deterministic.

import Foundation

/// Channels a kernel's vector dimension must be a multiple of (two 16-lane vectors).
public let directChannelGroup = 32

/// Positions (or weight rows) one register tile covers.
public let directTileWidth = 8

public enum DirectConvolution {
    /// Whether this process can run the kernels: on x86-64 (Linux) the CPU must list the AVX-512 F, BW,
    /// CD, DQ, VL and FMA flags in `/proc/cpuinfo` (the features of the `skylake-avx512` target the module
    /// is compiled for that vector code uses); elsewhere on x86-64 never, on other architectures always.
    public static let isSupported: Bool = {
        #if arch(x86_64) && os(Linux)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "fma"].allSatisfy(flags.contains)
        #elseif arch(x86_64)
        return false
        #else
        return true
        #endif
    }()
}

typealias Lanes = SIMD16<Float>

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

/// 8 × 32 accumulators (`a[t]` channels 0–15, `b[t]` channels 16–31 of position or row `t`).
/// Shared by the direct convolutions and `PackedGemm`.
struct Tile {
    var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes(), a4 = Lanes(), a5 = Lanes(), a6 = Lanes(), a7 = Lanes()
    var b0 = Lanes(), b1 = Lanes(), b2 = Lanes(), b3 = Lanes(), b4 = Lanes(), b5 = Lanes(), b6 = Lanes(), b7 = Lanes()

    /// `tile[t] += x[t·d] · (w0, w1)` for t = 0…7: eight positions `d` floats apart, one weight row.
    @inline(__always) mutating func add(_ x: UnsafePointer<Float>, spacing d: Int, _ w0: Lanes, _ w1: Lanes) {
        var s = Lanes(repeating: x[0]); a0.addProduct(s, w0); b0.addProduct(s, w1)
        s = Lanes(repeating: x[d]); a1.addProduct(s, w0); b1.addProduct(s, w1)
        s = Lanes(repeating: x[2 * d]); a2.addProduct(s, w0); b2.addProduct(s, w1)
        s = Lanes(repeating: x[3 * d]); a3.addProduct(s, w0); b3.addProduct(s, w1)
        s = Lanes(repeating: x[4 * d]); a4.addProduct(s, w0); b4.addProduct(s, w1)
        s = Lanes(repeating: x[5 * d]); a5.addProduct(s, w0); b5.addProduct(s, w1)
        s = Lanes(repeating: x[6 * d]); a6.addProduct(s, w0); b6.addProduct(s, w1)
        s = Lanes(repeating: x[7 * d]); a7.addProduct(s, w0); b7.addProduct(s, w1)
    }

    /// `tile[r] += x[offsets[r]] · (g0, g1)` for r = 0…7: eight weight rows, one position.
    @inline(__always) mutating func add(_ x: UnsafePointer<Float>, offsets o: UnsafePointer<Int>, _ g0: Lanes, _ g1: Lanes) {
        var s = Lanes(repeating: x[o[0]]); a0.addProduct(s, g0); b0.addProduct(s, g1)
        s = Lanes(repeating: x[o[1]]); a1.addProduct(s, g0); b1.addProduct(s, g1)
        s = Lanes(repeating: x[o[2]]); a2.addProduct(s, g0); b2.addProduct(s, g1)
        s = Lanes(repeating: x[o[3]]); a3.addProduct(s, g0); b3.addProduct(s, g1)
        s = Lanes(repeating: x[o[4]]); a4.addProduct(s, g0); b4.addProduct(s, g1)
        s = Lanes(repeating: x[o[5]]); a5.addProduct(s, g0); b5.addProduct(s, g1)
        s = Lanes(repeating: x[o[6]]); a6.addProduct(s, g0); b6.addProduct(s, g1)
        s = Lanes(repeating: x[o[7]]); a7.addProduct(s, g0); b7.addProduct(s, g1)
    }

    /// Writes the tile as 8 rows of 32 contiguous floats, `rowStride` floats apart.
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>, rowStride: Int = 32) {
        func put(_ t: Int, _ x: Lanes, _ y: Lanes) {
            UnsafeMutableRawPointer(p + rowStride * t).storeBytes(of: x, as: Lanes.self)
            UnsafeMutableRawPointer(p + rowStride * t + 16).storeBytes(of: y, as: Lanes.self)
        }
        put(0, a0, b0); put(1, a1, b1); put(2, a2, b2); put(3, a3, b3)
        put(4, a4, b4); put(5, a5, b5); put(6, a6, b6); put(7, a7, b7)
    }

    /// A tile holding 8 rows of 32 contiguous floats, `rowStride` floats apart.
    @inline(__always) init(loading p: UnsafePointer<Float>, rowStride: Int = 32) {
        func get(_ t: Int) -> (Lanes, Lanes) { (load(p + rowStride * t), load(p + rowStride * t + 16)) }
        (a0, b0) = get(0); (a1, b1) = get(1); (a2, b2) = get(2); (a3, b3) = get(3)
        (a4, b4) = get(4); (a5, b5) = get(5); (a6, b6) = get(6); (a7, b7) = get(7)
    }

    @inline(__always) init() {}

    /// `tile[t][v] = Σ_{r < rows} x[inputOffsets[r] + t·spacing] · w[weightOffsets[r] + v]`, in order of r:
    /// the accumulation of `correlate` and `correlateTransposed`.
    @inline(__always) init(summing x: UnsafePointer<Float>, inputOffsets: UnsafePointer<Int>, spacing: Int,
                           _ w: UnsafePointer<Float>, weightOffsets: UnsafePointer<Int>, rows: Int) {
        for r in 0..<rows {
            let wr = w + weightOffsets[r]
            add(x + inputOffsets[r], spacing: spacing, load(wr), load(wr + 16))
        }
    }

    /// Writes a full tile channel-major: `out[v·channelStride + t] = tile[t][v] + bias[v]` for t < 8,
    /// v < 32 — eight consecutive positions of each channel, one 8-float store per channel instead of
    /// eight scalar ones. The 8 × 16 halves are transposed by four rounds of de-interleaving: viewing
    /// a half as 128 floats indexed `16t + v`, each round (even lanes of each pair of vectors, then odd
    /// ones) rotates the index's 7 bits right by one, so four rounds leave `8v + t`.
    @inline(__always) func storeTransposed(to out: UnsafeMutablePointer<Float>, channelStride: Int, bias: UnsafePointer<Float>?) {
        let lowBias = bias.map { load($0) } ?? Lanes(), highBias = bias.map { load($0 + 16) } ?? Lanes()
        Tile.storeHalf((a0 + lowBias, a1 + lowBias, a2 + lowBias, a3 + lowBias, a4 + lowBias, a5 + lowBias, a6 + lowBias, a7 + lowBias),
                       to: out, channelStride: channelStride)
        Tile.storeHalf((b0 + highBias, b1 + highBias, b2 + highBias, b3 + highBias, b4 + highBias, b5 + highBias, b6 + highBias, b7 + highBias),
                       to: out + 16 * channelStride, channelStride: channelStride)
    }

    typealias Half = (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)

    /// One de-interleaving round over 8 vectors (128 floats): the even floats of the whole sequence,
    /// then the odd ones.
    @inline(__always) static func unzip(_ r: Half) -> Half {
        let p0 = SIMD32(lowHalf: r.0, highHalf: r.1), p1 = SIMD32(lowHalf: r.2, highHalf: r.3)
        let p2 = SIMD32(lowHalf: r.4, highHalf: r.5), p3 = SIMD32(lowHalf: r.6, highHalf: r.7)
        return (p0.evenHalf, p1.evenHalf, p2.evenHalf, p3.evenHalf, p0.oddHalf, p1.oddHalf, p2.oddHalf, p3.oddHalf)
    }

    /// Rows `t < 8` of 16 channels → channel `v`'s 8 positions at `out + v·channelStride`.
    @inline(__always) static func storeHalf(_ rows: Half, to out: UnsafeMutablePointer<Float>, channelStride: Int) {
        let c = unzip(unzip(unzip(unzip(rows))))
        // Vector j now holds channel 2j (lanes 0–7) and channel 2j + 1 (lanes 8–15).
        func put(_ j: Int, _ x: Lanes) {
            UnsafeMutableRawPointer(out + 2 * j * channelStride).storeBytes(of: x.lowHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + (2 * j + 1) * channelStride).storeBytes(of: x.highHalf, as: SIMD8<Float>.self)
        }
        put(0, c.0); put(1, c.1); put(2, c.2); put(3, c.3); put(4, c.4); put(5, c.5); put(6, c.6); put(7, c.7)
    }
}

/// Writes the first `count` rows of a stored tile (`tile [8][32]`) into a channel-major output:
/// `out[v·channelStride + t·spacing] = tile[t][v] (+ bias[v])` for v < 32.
@inline(__always)
private func scatter(_ tile: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                     channelStride: Int, spacing: Int, bias: UnsafePointer<Float>?) {
    for v in 0..<32 {
        let beta = bias?[v] ?? 0, row = out + v * channelStride
        for t in 0..<count { row[t * spacing] = tile[32 * t + v] + beta }
    }
}

/// A zero-padded, channel-major image: `C` planes of `height × width` floats, `rowStride`
/// (= padded width) apart in a row, `planeStride` apart per channel, with slack after the last
/// plane so that a tile may read up to 8 positions past a row's end (those lanes are discarded).
public struct PaddedImage {
    /// Number of planes C.
    public let channels: Int
    /// Padded plane size: rows and floats per row.
    public let rowCount: Int, rowStride: Int
    /// Floats from one plane to the next.
    public var planeStride: Int { rowCount * rowStride }

    /// Geometry of `channels` planes of `height × width` padded by `top`/`left` zeros before and
    /// `bottom`/`right` after.
    public init(channels: Int, height: Int, width: Int, top: Int, bottom: Int, left: Int, right: Int) {
        self.channels = channels
        rowCount = height + top + bottom
        rowStride = width + left + right
    }

    /// Floats a buffer for this image needs, slack included (`slack` floats beyond the last plane).
    public func bufferCount(slack: Int) -> Int { channels * planeStride + slack }
}

/// Copies `x [C, H, W]` into a zero-padded buffer: `out[c, top + y, left + x] = x[c, y, x]`, zeros
/// elsewhere (the whole buffer of `count` floats is written). Each plane is zeroed in one pass and its
/// rows copied by vector moves in line — a library call per row and margin (three per row) cost more
/// than the copying on 8- to 32-float rows.
public func pad(_ x: UnsafePointer<Float>, height: Int, width: Int, top: Int, left: Int,
                into out: UnsafeMutablePointer<Float>, _ image: PaddedImage, count: Int) {
    for c in 0..<image.channels {
        let planeStart = out + c * image.planeStride
        planeStart.update(repeating: 0, count: image.planeStride)
        for y in 0..<height {
            copyRow(x + (c * height + y) * width, into: planeStart + (top + y) * image.rowStride + left, count: width)
        }
    }
    let used = image.channels * image.planeStride
    (out + used).update(repeating: 0, count: count - used)
}

/// `out[0..<count] = x[0..<count]` by 16- and 8-float moves, then single floats.
@inline(__always)
private func copyRow(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        UnsafeMutableRawPointer(out + i).storeBytes(of: UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
        i += 16
    }
    if i + 8 <= count {
        UnsafeMutableRawPointer(out + i).storeBytes(of: UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { out[i] = x[i]; i += 1 }
}

/// `out[l·V + v] = x[v·L + l]`: a channel-major `[V, L]` block to position-major `[L, V]`.
///
/// With V a multiple of 16 and L of 8 (every direct layer of the dlib model), in blocks of 16
/// channels × 8 positions through registers: eight vectors holding two channels' 8 positions each
/// (128 floats indexed `8v + t`) take three de-interleaving rounds (`Tile.unzip`, each rotating the
/// index's 7 bits right by one) to `16t + v`, one 16-channel store per position; else one float at a time.
public func transpose(_ x: UnsafePointer<Float>, channels: Int, positions: Int, into out: UnsafeMutablePointer<Float>) {
    guard channels % 16 == 0 && positions % 8 == 0 else {
        for v in 0..<channels {
            let row = x + v * positions
            for l in 0..<positions { out[l * channels + v] = row[l] }
        }
        return
    }
    @inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    for v0 in Swift.stride(from: 0, to: channels, by: 16) {
        for t0 in Swift.stride(from: 0, to: positions, by: 8) {
            @inline(__always) func pair(_ j: Int) -> Lanes {
                let first = x + (v0 + 2 * j) * positions + t0
                return Lanes(lowHalf: load8(first), highHalf: load8(first + positions))
            }
            let r = Tile.unzip(Tile.unzip(Tile.unzip((pair(0), pair(1), pair(2), pair(3), pair(4), pair(5), pair(6), pair(7)))))
            // Vector t now holds position t0 + t's channels v0 … v0 + 15.
            @inline(__always) func put(_ t: Int, _ lanes: Lanes) {
                UnsafeMutableRawPointer(out + (t0 + t) * channels + v0).storeBytes(of: lanes, as: Lanes.self)
            }
            put(0, r.0); put(1, r.1); put(2, r.2); put(3, r.3); put(4, r.4); put(5, r.5); put(6, r.6); put(7, r.7)
        }
    }
}

/// One output row of a correlation, tile by tile: for `t < count`, `v < 32`,
/// `out[v·channelStride + t·outSpacing] = bias[v] + Σ_{r < rows} x[inputOffsets[r] + t·spacing] · w[weightOffsets[r] + v]`.
/// The shared inner loop of `correlate` and `correlateTransposed`.
@inline(__always)
private func correlateRow(_ x: UnsafePointer<Float>, inputOffsets: UnsafePointer<Int>, spacing: Int,
                          _ w: UnsafePointer<Float>, weightOffsets: UnsafePointer<Int>, rows: Int, count: Int,
                          bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>, channelStride: Int, outSpacing: Int,
                          tileBuffer: UnsafeMutablePointer<Float>) {
    var t0 = 0
    while t0 < count {
        let tile = Tile(summing: x + t0 * spacing, inputOffsets: inputOffsets, spacing: spacing, w, weightOffsets: weightOffsets, rows: rows)
        if outSpacing == 1 && count - t0 >= directTileWidth {
            tile.storeTransposed(to: out + t0, channelStride: channelStride, bias: bias)
        } else {
            tile.store(to: tileBuffer)
            scatter(tileBuffer, count: Swift.min(directTileWidth, count - t0), into: out + t0 * outSpacing,
                    channelStride: channelStride, spacing: outSpacing, bias: bias)
        }
        t0 += directTileWidth
    }
}

/// Correlation of a padded image with packed weights, one image (the forward product of a
/// convolution, and ∂x of a transposed one).
///
/// Concretely, for every `v < V`, grid position `(y, x)` with `y < gridHeight`, `x < gridWidth`:
/// `out[v, y, x] = bias[v] + Σ_r xp[rowOffsets[r] + s·y·rowStride + s·x] · w[r·V + v]`, where the
/// rows `r < rows` enumerate `(c, i, j)` and `rowOffsets[r] = c·planeStride + i·rowStride + j`.
/// Shapes: `xp` a `PaddedImage`, `w [rows, V]`, `out [V, gridHeight·gridWidth]`; `V` a multiple of 32.
public func correlate(_ xp: UnsafePointer<Float>, _ image: PaddedImage, rowOffsets: UnsafePointer<Int>, rows: Int,
                      stride s: Int, weights w: UnsafePointer<Float>, channels V: Int,
                      gridHeight: Int, gridWidth: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
    let tileBuffer = UnsafeMutablePointer<Float>.allocate(capacity: directTileWidth * 32)
    defer { tileBuffer.deallocate() }
    let plane = gridHeight * gridWidth
    let weightOffsets = (0..<rows).map { $0 * V }
    weightOffsets.withUnsafeBufferPointer { wo in
        for group in Swift.stride(from: 0, to: V, by: 32) {
            for y in 0..<gridHeight {
                correlateRow(xp + s * y * image.rowStride, inputOffsets: rowOffsets, spacing: s, w + group, weightOffsets: wo.baseAddress!,
                             rows: rows, count: gridWidth, bias: bias.map { $0 + group }, into: out + group * plane + y * gridWidth,
                             channelStride: plane, outSpacing: 1, tileBuffer: tileBuffer)
            }
        }
    }
}

/// Weight gradient of a correlation, one image, accumulated: the ∂W of a convolution (and of a
/// transposed one, with the roles of its input and upstream gradient swapped).
///
/// Concretely, for every row `r < rows` (as in `correlate`) and `v < V`:
/// `dw[r·V + v] += Σ_{y,x} xp[rowOffsets[r] + s·y·rowStride + s·x] · g[(y·gridWidth + x)·V + v]`.
/// Shapes: `xp` a `PaddedImage`, `g [gridHeight·gridWidth, V]` (position-major), `dw [rows, V]`;
/// `rowOffsets` padded to a multiple of 8 entries (extra rows read any valid offset, and are not written).
public func correlateWeights(_ xp: UnsafePointer<Float>, _ image: PaddedImage, rowOffsets: UnsafePointer<Int>, rows: Int,
                             stride s: Int, gradient g: UnsafePointer<Float>, channels V: Int,
                             gridHeight: Int, gridWidth: Int, into dw: UnsafeMutablePointer<Float>) {
    let tileBuffer = UnsafeMutablePointer<Float>.allocate(capacity: directTileWidth * 32)
    defer { tileBuffer.deallocate() }
    for group in Swift.stride(from: 0, to: V, by: 32) {
        var r0 = 0
        while r0 < rows {
            let count = Swift.min(directTileWidth, rows - r0)
            // A full tile of rows is read and written in place; a part-filled last one through a buffer.
            let target = dw + r0 * V + group
            if count < directTileWidth {
                for t in 0..<directTileWidth {
                    for v in 0..<32 { tileBuffer[32 * t + v] = t < count ? target[t * V + v] : 0 }
                }
            }
            var tile = count < directTileWidth ? Tile(loading: tileBuffer) : Tile(loading: target, rowStride: V)
            let offsets = rowOffsets + r0
            for y in 0..<gridHeight {
                let rowBase = xp + s * y * image.rowStride
                let gRow = g + y * gridWidth * V + group
                for x in 0..<gridWidth {
                    let gp = gRow + x * V
                    tile.add(rowBase + s * x, offsets: offsets, load(gp), load(gp + 16))
                }
            }
            if count < directTileWidth {
                tile.store(to: tileBuffer)
                for t in 0..<count {
                    for v in 0..<32 { target[t * V + v] = tileBuffer[32 * t + v] }
                }
            } else {
                tile.store(to: target, rowStride: V)
            }
            r0 += directTileWidth
        }
    }
}

/// The taps of a transposed correlation along one axis: for output coordinate `o`, the kernel
/// indices `i` with `(o + padding − i) ≡ 0 (mod stride)` and the padded input coordinate
/// `(o + padding − i)/stride + low` they read.
public struct Taps {
    /// `(kernel index, padded input coordinate)` pairs.
    public var pairs: [(index: Int, position: Int)]

    /// Taps of output coordinate `o`, for a kernel of `kernel` taps, `stride`, `padding`, and an input
    /// padded by `low` zeros in front.
    public init(output o: Int, kernel: Int, stride: Int, padding: Int, low: Int) {
        pairs = (0..<kernel).compactMap { i in
            let t = o + padding - i
            guard t % stride == 0 else { return nil }
            return (i, floorDivide(t, stride) + low)
        }
    }
}

/// `⌊a / b⌋` for `b > 0` (Swift's `/` truncates toward zero).
@inline(__always) public func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// The taps of a transposed correlation for every output row and column phase, flattened once per
/// layer call and shared by all its images (see `correlateTransposed`).
public struct TransposedTaps: Sendable {
    /// Per `(oy, phase)` segment, the offsets into the padded input and into the packed weights of each
    /// `(u, i, j)` tap, concatenated; `segments[oy·phases + phase]` is that segment's range.
    let inputOffsets: [Int], weightOffsets: [Int], segments: [Range<Int>]
    /// Output size and the number of column phases (`min(stride, outWidth)`).
    let outHeight: Int, outWidth: Int, phases: Int, stride: Int

    /// Taps for a `kernel × kernel` window with `stride`, `padding` over an input of geometry `image`
    /// (front padding `top`, `left`), packed weights with `V` channels per row, and an
    /// `outHeight × outWidth` output.
    public init(_ image: PaddedImage, kernel k: Int, stride s: Int, padding p: Int, top: Int, left: Int, channels V: Int,
                outHeight: Int, outWidth: Int) {
        let phases = Swift.min(s, outWidth)
        let columnTaps = (0..<phases).map { Taps(output: $0, kernel: k, stride: s, padding: p, low: left).pairs }
        var inputOffsets: [Int] = [], weightOffsets: [Int] = [], segments: [Range<Int>] = []
        for oy in 0..<outHeight {
            let rowTaps = Taps(output: oy, kernel: k, stride: s, padding: p, low: top).pairs
            for phase in 0..<phases {
                let start = inputOffsets.count
                for u in 0..<image.channels { for (i, py) in rowTaps { for (j, px) in columnTaps[phase] {
                    inputOffsets.append(u * image.planeStride + py * image.rowStride + px)
                    weightOffsets.append(((u * k + i) * k + j) * V)
                } } }
                segments.append(start..<inputOffsets.count)
            }
        }
        (self.inputOffsets, self.weightOffsets, self.segments) = (inputOffsets, weightOffsets, segments)
        (self.outHeight, self.outWidth, self.phases, self.stride) = (outHeight, outWidth, phases, s)
    }
}

/// Transposed correlation of a padded image with packed weights, one image, as a gather (each
/// output pixel sums the taps that reach it): the ∂x of a convolution and the forward product of a
/// transposed one.
///
/// Concretely, for every `v < V` and output pixel `(oy, ox)` of `outHeight × outWidth`:
/// `out[v, oy, ox] = bias[v] + Σ_{u < U} Σ_{(i, py) ∈ taps(oy)} Σ_{(j, px) ∈ taps(ox)} gp[u, py, px] · w[((u·k + i)·k + j)·V + v]`,
/// with `taps` as in `Taps` (stride `s`, padding `p`, the input's front padding), flattened in `taps`.
/// Pixels of one output row that share `ox mod s` share their taps (at consecutive input columns) and
/// are tiled 8 at a time. Shapes: `gp` a `PaddedImage` of U planes, `w [U·k·k, V]`,
/// `out [V, outHeight·outWidth]`; V a multiple of 32.
public func correlateTransposed(_ gp: UnsafePointer<Float>, taps: TransposedTaps, weights w: UnsafePointer<Float>, channels V: Int,
                                bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
    let tileBuffer = UnsafeMutablePointer<Float>.allocate(capacity: directTileWidth * 32)
    defer { tileBuffer.deallocate() }
    let (outHeight, outWidth, s) = (taps.outHeight, taps.outWidth, taps.stride), plane = outHeight * outWidth
    taps.inputOffsets.withUnsafeBufferPointer { io in taps.weightOffsets.withUnsafeBufferPointer { wo in
        if s == 2 && taps.phases == 2 && outWidth % (2 * directTileWidth) == 0 {
            // Stride 2 with whole tiles in both phases: each pair of tiles (pixels 2t and 2t + 1 for 8
            // consecutive t) is transposed into two 8-float rows per channel and interleaved into 16
            // consecutive pixels, instead of leaving a float at a time two apart.
            let even = tileBuffer, odd = UnsafeMutablePointer<Float>.allocate(capacity: directTileWidth * 32)
            defer { odd.deallocate() }
            for oy in 0..<outHeight {
                for group in Swift.stride(from: 0, to: V, by: 32) {
                    let groupBias = bias.map { $0 + group }
                    for t0 in Swift.stride(from: 0, to: outWidth / 2, by: directTileWidth) {
                        /// Phase `phase`'s tile of pixels `t0…t0 + 7`, channel-major into `buffer` (8 floats a channel).
                        @inline(__always) func phaseTile(_ phase: Int, into buffer: UnsafeMutablePointer<Float>) {
                            let segment = taps.segments[2 * oy + phase]
                            Tile(summing: gp + t0, inputOffsets: io.baseAddress! + segment.lowerBound, spacing: 1, w + group,
                                 weightOffsets: wo.baseAddress! + segment.lowerBound, rows: segment.count)
                                .storeTransposed(to: buffer, channelStride: directTileWidth, bias: groupBias)
                        }
                        phaseTile(0, into: even)
                        phaseTile(1, into: odd)
                        let row = out + group * plane + oy * outWidth + 2 * t0
                        for v in 0..<32 {
                            let (target, e, o) = (row + v * plane, even + v * directTileWidth, odd + v * directTileWidth)
                            for m in 0..<directTileWidth { target[2 * m] = e[m]; target[2 * m + 1] = o[m] }
                        }
                    }
                }
            }
            return
        }
        for oy in 0..<outHeight {
            for phase in 0..<taps.phases {
                let segment = taps.segments[oy * taps.phases + phase]
                let pixels = (outWidth - phase + s - 1) / s
                for group in Swift.stride(from: 0, to: V, by: 32) {
                    correlateRow(gp, inputOffsets: io.baseAddress! + segment.lowerBound, spacing: 1, w + group,
                                 weightOffsets: wo.baseAddress! + segment.lowerBound, rows: segment.count, count: pixels,
                                 bias: bias.map { $0 + group }, into: out + group * plane + oy * outWidth + phase,
                                 channelStride: plane, outSpacing: s, tileBuffer: tileBuffer)
                }
            }
        }
    } }
}
