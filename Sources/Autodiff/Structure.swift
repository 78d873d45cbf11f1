import TensorCore

// Shape-changing primitives: reshape, permute, slice, concatenate, matmul and reductions.

extension Variable {
    /// The same elements viewed as `shape` (one `-1` inferred). ∂/∂x = g reshaped back.
    public func reshaped(_ shape: [Int]) -> Variable {
        let old = self.shape
        return derived(value.reshaped(shape)) { g, _ in [g.reshaped(old)] }
    }

    /// `[B, …] → [B, Π…]`.
    public func flattened() -> Variable { reshaped([shape[0], -1]) }

    /// Reorders dimensions (`result.shape[k] = shape[order[k]]`). ∂/∂x = g permuted by the inverse.
    public func permuted(_ order: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: order.count)
        for (k, o) in order.enumerated() { inverse[o] = k }
        return derived(value.permuted(order)) { g, _ in [g.permuted(inverse)] }
    }

    /// Elements `range` along `axis`. ∂/∂x = g placed into zeros at `range`.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let old = shape
        let ax = value.normalizedAxis(axis)
        return derived(value.slice(axis: ax, range)) { g, _ in
            var parts: [Tensor] = []
            if range.lowerBound > 0 {
                var s = old; s[ax] = range.lowerBound; parts.append(.zeros(s))
            }
            parts.append(g)
            if range.upperBound < old[ax] {
                var s = old; s[ax] = old[ax] - range.upperBound; parts.append(.zeros(s))
            }
            return [Tensor.concatenate(parts, axis: ax)]
        }
    }

    /// Joins `parts` along `axis`. ∂/∂partᵢ = the matching slice of g.
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate: no variables")
        let ax = parts[0].value.normalizedAxis(axis)
        let sizes = parts.map { $0.shape[ax] }
        let value = Tensor.concatenate(parts.map(\.value), axis: ax)
        return parts[0].tape.record(value, parents: parts) { g, needed in
            var start = 0
            return sizes.enumerated().map { k, n in
                defer { start += n }
                return needed[k] ? g.slice(axis: ax, start..<(start + n)) : nil
            }
        }
    }

    /// Matrix product `op(a)·op(b)` of rank-2 variables.
    ///
    /// With C = A·B: ∂/∂A = G·Bᵀ, ∂/∂B = Aᵀ·G (transposed variants follow by symmetry:
    /// for C = A·Bᵀ, ∂/∂B = Gᵀ·A; for C = Aᵀ·B, ∂/∂A = B·Gᵀ).
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        let (x, y) = (a.value, b.value)
        let value = Tensor.matmul(x, y, transposeA: transposeA, transposeB: transposeB)
        return a.derived(value, [b]) { g, needed in
            let da: Tensor? = !needed[0] ? nil : transposeA
                ? Tensor.matmul(y, g, transposeA: transposeB, transposeB: true)
                : Tensor.matmul(g, y, transposeB: !transposeB)
            let db: Tensor? = !needed[1] ? nil : transposeB
                ? Tensor.matmul(g, x, transposeA: true, transposeB: transposeA)
                : Tensor.matmul(x, g, transposeA: !transposeA)
            return [da, db]
        }
    }

    /// Σ of all elements (rank 0). ∂/∂x = g broadcast.
    public func sum() -> Variable {
        let old = shape
        return derived(value.sum()) { g, _ in [Tensor(repeating: g.scalar, shape: old)] }
    }

    /// Mean of all elements (rank 0). ∂/∂x = g / n broadcast.
    public func mean() -> Variable { sum() * (1 / Float(Swift.max(value.count, 1))) }

    /// Σ over `axis`. ∂/∂x = g broadcast back along `axis`.
    public func sum(axis: Int, keepDims: Bool = false) -> Variable {
        let old = shape
        let ax = value.normalizedAxis(axis)
        return derived(value.sum(axis: ax, keepDims: keepDims)) { g, _ in
            var kept = old; kept[ax] = 1
            return [g.reshaped(kept).broadcast(to: old)]
        }
    }

    /// Mean over `axis`.
    public func mean(axis: Int, keepDims: Bool = false) -> Variable {
        sum(axis: axis, keepDims: keepDims) * (1 / Float(shape[value.normalizedAxis(axis)]))
    }

    /// `log Σ_axis eˣ`, fused.
    ///
    /// Stable form: `m + log Σ e^(x − m)` with `m = max_axis x`, so the largest
    /// exponent is 0 and nothing overflows. ∂/∂x = g ⊙ softmax_axis(x).
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Variable {
        let x = value
        let ax = x.normalizedAxis(axis)
        let m = x.max(axis: ax, keepDims: true)
        let mFinite = m.map { $0.isFinite ? $0 : 0 }
        let s = (x - mFinite).map { Foundation.exp($0) }.sum(axis: ax, keepDims: true)
        let lseKept = s.map { Foundation.log($0) } + mFinite
        var outShape = lseKept.shape
        if !keepDims { outShape.remove(at: ax) }
        return derived(lseKept.reshaped(outShape)) { g, _ in
            let softmax = (x - lseKept).map { Foundation.exp($0) }
            return [softmax * g.reshaped(lseKept.shape)]
        }
    }
}

import Foundation
