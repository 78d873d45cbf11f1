import Foundation

extension Tensor {
    /// Elementwise `f(x)`; same shape. Large tensors are split across `Parallel.threadCount` threads.
    @inlinable
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            scalars.withUnsafeBufferPointer { a in
                nonisolated(unsafe) let (a, out) = (a, out)
                Parallel.forEachBlock(out.count) { range in
                    for i in range { out[i] = f(a[i]) }
                }
            }
        }
    }

    /// Leaky ReLU `x > 0 ? x : slope·x` (ReLU at slope 0). Written as a plain loop over raw
    /// buffers, not through ``map(_:)``'s per-element closure call, so that it vectorises: the
    /// activations of the conv VAE are its largest elementwise work.
    public func leakyRelu(slope: Float) -> Tensor {
        Tensor(shape: shape) { out in
            scalars.withUnsafeBufferPointer { a in
                nonisolated(unsafe) let (a, out) = (a, out)
                Parallel.forEachBlock(out.count) { range in
                    for i in range { let x = a[i]; out[i] = x > 0 ? x : slope * x }
                }
            }
        }
    }

    /// The pullback of ``leakyRelu(slope:)`` from its output `y` (same sign as its input for
    /// slope ≥ 0): `g > 0 where y > 0`, else `slope·g`. Shapes: `g`, `y` equal.
    public static func leakyReluPullback(_ g: Tensor, output y: Tensor, slope: Float) -> Tensor {
        precondition(g.shape == y.shape, "leakyReluPullback: gradient \(g.shape) and output \(y.shape) differ")
        return Tensor(shape: g.shape) { out in
            g.scalars.withUnsafeBufferPointer { pg in
                y.scalars.withUnsafeBufferPointer { py in
                    nonisolated(unsafe) let (pg, py, out) = (pg, py, out)
                    Parallel.forEachBlock(out.count) { range in
                        for i in range { let d = pg[i]; out[i] = py[i] > 0 ? d : slope * d }
                    }
                }
            }
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, +) }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, -) }
    /// Elementwise (Hadamard) product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, *) }
    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, /) }
    /// Every element multiplied by `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    /// Every element multiplied by `s`.
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }
    /// Every element plus `s`.
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    /// Elementwise negation.
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// In-place `self += other` (same shape), the accumulation used by gradients.
    public static func += (a: inout Tensor, b: Tensor) {
        precondition(a.shape == b.shape, "+=: shapes \(a.shape) and \(b.shape) differ")
        let n = a.count
        a.scalars.withUnsafeMutableBufferPointer { x in
            b.scalars.withUnsafeBufferPointer { y in
                for i in 0..<n { x[i] += y[i] }
            }
        }
    }

    /// In-place `self *= s`.
    public static func *= (a: inout Tensor, s: Float) {
        a.scalars.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] *= s }
        }
    }

    /// True when any element is NaN or ±∞.
    public var hasNonFinite: Bool { scalars.contains { !$0.isFinite } }
}

extension Tensor {
    /// Σ of all elements, accumulated in `Double` so that large tensors sum exactly enough.
    public func sumDouble() -> Double {
        scalars.withUnsafeBufferPointer { a in
            var s = 0.0
            for x in a { s += Double(x) }
            return s
        }
    }

    /// Σ of all elements as a rank-0 tensor.
    public func sum() -> Tensor { Tensor(scalar: Float(sumDouble())) }

    /// Mean of all elements as a rank-0 tensor.
    public func mean() -> Tensor { Tensor(scalar: Float(sumDouble() / Double(Swift.max(count, 1)))) }

    /// Σ over `axis`. Shape `[…, n, …] → […, 1, …]` if `keepDims`, else the axis is removed.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        reduce(axis: axis, keepDims: keepDims, initial: 0, +)
    }

    /// Maximum over `axis`, shape as for `sum(axis:)`.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        reduce(axis: axis, keepDims: keepDims, initial: -.infinity) { Swift.max($0, $1) }
    }

    /// Index of the maximum over the last axis: `[N, K] → [N]` as `Int`s.
    public func argmaxLastAxis() -> [Int] {
        let k = shape.last ?? 1
        return (0..<(count / Swift.max(k, 1))).map { row in
            var best = 0
            for j in 1..<k where scalars[row * k + j] > scalars[row * k + best] { best = j }
            return best
        }
    }

    /// Folds `axis` with `combine`, starting from `initial`.
    public func reduce(axis: Int, keepDims: Bool, initial: Float, _ combine: (Float, Float) -> Float) -> Tensor {
        let ax = normalizedAxis(axis)
        let outer = shape[..<ax].product
        let n = shape[ax]
        let inner = shape[(ax + 1)...].product
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        return Tensor(shape: outShape) { out in
            scalars.withUnsafeBufferPointer { a in
                for o in 0..<outer {
                    for i in 0..<inner { out[o * inner + i] = initial }
                    for j in 0..<n {
                        let base = (o * n + j) * inner
                        for i in 0..<inner { out[o * inner + i] = combine(out[o * inner + i], a[base + i]) }
                    }
                }
            }
        }
    }

    /// `axis` with negative values counted from the end; checked against the rank.
    public func normalizedAxis(_ axis: Int) -> Int {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "axis \(axis) out of range for rank-\(rank) tensor \(shape)")
        return ax
    }
}

extension Tensor {
    /// Reorders dimensions: `result.shape[k] == shape[order[k]]`.
    ///
    /// Concretely, `permuted([1, 0, 2])` maps `[B, C, L] → [C, B, L]`; contiguous
    /// innermost runs are copied as blocks.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permute: \(order) is not a permutation of 0..<\(rank)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = strides
        let gathered = order.map { inStrides[$0] }
        return Tensor(shape: outShape) { out in
            scalars.withUnsafeBufferPointer { a in
                Broadcast.forEachRow(shape: outShape, stridesA: gathered, stridesB: gathered) { o, oa, _, n, ia, _ in
                    if ia == 1 {
                        out.baseAddress!.advanced(by: o).update(from: a.baseAddress!.advanced(by: oa), count: n)
                    } else {
                        for i in 0..<n { out[o + i] = a[oa + i * ia] }
                    }
                }
            }
        }
    }

    /// The 2-D transpose `[M, N] → [N, M]`.
    public var transposed: Tensor {
        precondition(rank == 2, "transposed: needs a rank-2 tensor, got \(shape)")
        return permuted([1, 0])
    }

    /// Elements `range` along `axis` (a view copied into a new tensor).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice: range \(range) out of bounds 0..<\(shape[ax]) on axis \(ax) of \(shape)")
        let outer = shape[..<ax].product, n = shape[ax], inner = shape[(ax + 1)...].product
        var outShape = shape
        outShape[ax] = range.count
        let block = range.count * inner
        return Tensor(shape: outShape) { out in
            scalars.withUnsafeBufferPointer { a in
                for o in 0..<outer {
                    out.baseAddress!.advanced(by: o * block)
                        .update(from: a.baseAddress!.advanced(by: (o * n + range.lowerBound) * inner), count: block)
                }
            }
        }
    }

    /// Joins `parts` along `axis`; all other dimensions must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate: no tensors")
        let first = parts[0]
        let ax = first.normalizedAxis(axis)
        for p in parts {
            precondition(p.rank == first.rank && (0..<first.rank).allSatisfy { $0 == ax || p.shape[$0] == first.shape[$0] },
                         "concatenate: shape \(p.shape) does not match \(first.shape) outside axis \(ax)")
        }
        let outer = first.shape[..<ax].product, inner = first.shape[(ax + 1)...].product
        var outShape = first.shape
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        var scalars = [Float]()
        scalars.reserveCapacity(outShape.product)
        for o in 0..<outer {
            for p in parts {
                let block = p.shape[ax] * inner
                scalars.append(contentsOf: p.scalars[(o * block)..<((o + 1) * block)])
            }
        }
        return Tensor(shape: outShape, scalars: scalars)
    }
}
