/// A dense, row-major (C-order) array of `Float` values with a shape.
///
/// Images are stored NCHW: `[B, C, H, W]` (legend used throughout: B batch,
/// C channels, H×W spatial size, Z latents, K classes, F factors). The element at
/// multi-index `(i₀, …, iₙ₋₁)` lives at `Σ_k i_k · stride_k` with
/// `stride_k = Π_{m>k} shape_m`.
///
/// `Tensor` has value semantics (copy-on-write through `Array`). A rank-0 tensor
/// (`shape == []`) is a scalar holding one element.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Creates a tensor from `scalars` laid out in row-major order over `shape`.
    /// - Precondition: `scalars.count == Π shape`, all dimensions ≥ 0.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(scalars.count == shape.product,
                     "Tensor: \(scalars.count) scalars do not fill shape \(shape) (needs \(shape.product))")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.product))
    }

    /// A tensor of zeros with the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// A tensor of ones with the given shape.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// A rank-0 tensor holding `value`.
    public init(scalar value: Float) { self.init(shape: [], scalars: [value]) }

    /// A tensor whose elements are written by `body` into uninitialised storage
    /// of `shape.product` elements; `body` must write every element.
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.product
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            body(buffer)
            count = n
        }
    }

    /// The number of elements, `Π shape`.
    public var count: Int { scalars.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return scalars[0]
    }

    /// Row-major strides of `shape`: `stride_k = Π_{m>k} shape_m`.
    public var strides: [Int] { shape.rowMajorStrides }

    /// The element at the multi-index `indices` (one per dimension).
    public subscript(_ indices: Int...) -> Float {
        get { scalars[flatIndex(indices)] }
        set { scalars[flatIndex(indices)] = newValue }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "Tensor subscript: \(indices.count) indices for rank-\(rank) tensor \(shape)")
        var flat = 0
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[k], "Tensor subscript: index \(i) out of range 0..<\(shape[k]) in dimension \(k) of \(shape)")
            flat = flat * shape[k] + i
        }
        return flat
    }

    /// The same elements viewed with a new shape of equal element count. One
    /// dimension may be `-1` and is then inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var out = self
        out.shape = Tensor.resolve(newShape, count: count, from: shape)
        return out
    }

    /// Replaces `-1` in `newShape` by the dimension that makes the counts agree.
    public static func resolve(_ newShape: [Int], count: Int, from old: [Int]) -> [Int] {
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        precondition(unknown.count <= 1, "reshape \(old) → \(newShape): at most one -1 allowed")
        var resolved = newShape
        if let u = unknown.first {
            let known = newShape.enumerated().filter { $0.offset != u }.map(\.element).product
            precondition(known > 0 && count % known == 0, "reshape \(old) → \(newShape): \(count) elements do not divide")
            resolved[u] = count / known
        }
        precondition(resolved.product == count,
                     "reshape: cannot view \(count) elements of shape \(old) as \(newShape)")
        return resolved
    }

    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
    }
}

extension Collection where Element == Int {
    /// The product of the elements (1 for an empty collection): the element count of a shape.
    public var product: Int { reduce(1, *) }
}

extension Array where Element == Int {
    /// Row-major strides of this shape.
    public var rowMajorStrides: [Int] {
        var strides = [Int](repeating: 1, count: count)
        var running = 1
        for k in indices.reversed() {
            strides[k] = running
            running *= self[k]
        }
        return strides
    }
}

import Foundation
