/// NumPy-style broadcasting: shapes are right-aligned; a dimension of size 1
/// (or a missing leading one) stretches to match the other operand.
///
/// Concretely: `broadcastShape([B, 1, W], [H, 1]) == [B, H, W]`.
public enum Broadcast {
    /// The broadcast result shape of `a` and `b`.
    /// - Precondition: for every right-aligned pair of dimensions, they are equal or one is 1.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for k in 0..<n {
            let da = k < n - a.count ? 1 : a[k - (n - a.count)]
            let db = k < n - b.count ? 1 : b[k - (n - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "broadcast: shapes \(a) and \(b) are incompatible in dimension \(k) (\(da) vs \(db))")
            out[k] = da == 1 ? db : da
        }
        return out
    }

    /// Strides that read a tensor of shape `source` as if it had shape `target`
    /// (stride 0 along broadcast dimensions). `target.count ≥ source.count`.
    public static func strides(of source: [Int], broadcastTo target: [Int]) -> [Int] {
        let pad = target.count - source.count
        precondition(pad >= 0, "broadcast: cannot broadcast \(source) to lower-rank \(target)")
        let natural = source.rowMajorStrides
        var strides = [Int](repeating: 0, count: target.count)
        for k in 0..<source.count {
            let t = target[k + pad]
            precondition(source[k] == t || source[k] == 1,
                         "broadcast: cannot broadcast \(source) to \(target)")
            strides[k + pad] = source[k] == 1 && t != 1 ? 0 : natural[k]
        }
        return strides
    }

    /// Calls `body(outputOffset, offsetA, offsetB, innerCount, innerStrideA, innerStrideB)`
    /// for every innermost row of the broadcast iteration over `shape`.
    @inline(__always)
    static func forEachRow(shape: [Int], stridesA: [Int], stridesB: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = shape[rank - 1]
        let rows = shape.product / max(inner, 1)
        if inner == 0 || rows == 0 { return }
        var index = [Int](repeating: 0, count: rank)
        var offA = 0, offB = 0
        for row in 0..<rows {
            body(row * inner, offA, offB, inner, stridesA[rank - 1], stridesB[rank - 1])
            // advance the odometer over dimensions 0..<rank-1
            var k = rank - 2
            while k >= 0 {
                index[k] += 1
                offA += stridesA[k]
                offB += stridesB[k]
                if index[k] < shape[k] { break }
                offA -= stridesA[k] * shape[k]
                offB -= stridesB[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
    }
}

extension Tensor {
    /// Elementwise `f(a, b)` with broadcasting; the result has `Broadcast.shape(a.shape, b.shape)`.
    @inlinable
    public func zipWith(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        if shape == other.shape {
            return Tensor(shape: shape) { out in
                scalars.withUnsafeBufferPointer { a in
                    other.scalars.withUnsafeBufferPointer { b in
                        nonisolated(unsafe) let (a, b, out) = (a, b, out)
                        Parallel.forEachBlock(out.count) { range in
                            for i in range { out[i] = f(a[i], b[i]) }
                        }
                    }
                }
            }
        }
        if other.count == 1 {
            let s = other.scalars[0]
            return Tensor(shape: Broadcast.shape(shape, other.shape)) { out in
                scalars.withUnsafeBufferPointer { a in
                    for i in 0..<out.count { out[i] = f(a[i], s) }
                }
            }
        }
        return zipBroadcast(other, f)
    }

    @usableFromInline
    func zipBroadcast(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let outShape = Broadcast.shape(shape, other.shape)
        let sa = Broadcast.strides(of: shape, broadcastTo: outShape)
        let sb = Broadcast.strides(of: other.shape, broadcastTo: outShape)
        return Tensor(shape: outShape) { out in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    Broadcast.forEachRow(shape: outShape, stridesA: sa, stridesB: sb) { o, oa, ob, n, ia, ib in
                        for i in 0..<n { out[o + i] = f(a[oa + i * ia], b[ob + i * ib]) }
                    }
                }
            }
        }
    }

    /// This tensor stretched to `target` (which it must broadcast to).
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        return Tensor.zeros(target).zipWith(self) { _, x in x }
    }

    /// Undoes broadcasting: sums this tensor (of a broadcast shape) down to `target`,
    /// the shape of the operand before it was broadcast. This is the single place
    /// where the gradient of a broadcast is formed (Σ over stretched dimensions).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        if target.product == 1 {
            return Tensor(shape: target, scalars: [Float(sumDouble())])
        }
        let strides = Broadcast.strides(of: target, broadcastTo: shape)
        var acc = [Double](repeating: 0, count: target.product)
        scalars.withUnsafeBufferPointer { a in
            acc.withUnsafeMutableBufferPointer { r in
                Broadcast.forEachRow(shape: shape, stridesA: strides, stridesB: strides) { o, ot, _, n, it, _ in
                    for i in 0..<n { r[ot + i * it] += Double(a[o + i]) }
                }
            }
        }
        return Tensor(shape: target, scalars: acc.map { Float($0) })
    }
}
