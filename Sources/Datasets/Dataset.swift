import TensorCore

/// A ground-truth factor of variation with discrete classes (disentanglement_lib's
/// "latent factor"): class `k` has the real value `values[k]`.
public struct Factor: Sendable, Codable, Equatable {
    /// Name used in tables and explanations (`shape`, `scale`, `posX`, …).
    public var name: String
    /// The real value of each class, in class order.
    public var values: [Double]
    /// Optional names of the classes (`square`, `ellipse`, `heart`).
    public var classNames: [String]?

    public init(name: String, values: [Double], classNames: [String]? = nil) {
        precondition(!values.isEmpty, "Factor \(name): needs at least one class")
        precondition(classNames == nil || classNames!.count == values.count, "Factor \(name): class names do not match values")
        self.name = name; self.values = values; self.classNames = classNames
    }

    /// Evenly spaced values `low…high` (both included), as NumPy's `linspace`.
    public init(name: String, linspace low: Double, _ high: Double, count: Int) {
        self.init(name: name, values: (0..<count).map { count == 1 ? low : low + (high - low) * Double($0) / Double(count - 1) })
    }

    /// Number of classes.
    public var classCount: Int { values.count }

    /// A readable form of class `k`: its name, or its value.
    public func describe(_ k: Int) -> String {
        if let classNames { return classNames[k] }
        let v = values[k]
        return v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%.3g", v)
    }
}

/// A collection of `[C, H, W]` images with values in [0, 1], addressable by index.
public protocol ImageDataset: Sendable {
    /// Short name used in file names and messages.
    var name: String { get }
    /// `[C, H, W]` of every image.
    var imageShape: [Int] { get }
    /// Number of images (for factor grids: the number of factor combinations).
    var count: Int { get }
    /// Writes image `index` (C·H·W floats, C-order) into `out`. Must be thread-safe.
    func render(_ index: Int, into out: UnsafeMutablePointer<Float>)
}

/// A grid of discrete ground-truth factors to sample combinations from: every
/// combination of factor classes has the index `Σ_f class_f · stride_f`
/// (row-major over the factors, last fastest). Metrics need only this and a
/// representation of combinations.
public protocol FactorSpace: Sendable {
    /// The factors, outermost first.
    var factors: [Factor] { get }
}

/// An image data set generated from (or annotated with) a full factor grid: every
/// combination of factor classes is one image, whose index is its grid index.
public protocol GroundTruthDataset: ImageDataset, FactorSpace {}

/// A factor grid without images (e.g. for known-answer tests of metrics).
public struct FactorGrid: FactorSpace {
    public let factors: [Factor]
    /// A grid of factors with `classCounts` classes named `f0, f1, …`, class values 0, 1, ….
    public init(classCounts: [Int]) {
        factors = classCounts.enumerated().map { Factor(name: "f\($0.offset)", values: (0..<$0.element).map(Double.init)) }
    }
    public init(factors: [Factor]) { self.factors = factors }
}

extension FactorSpace {
    /// Row-major strides of the factor grid.
    public var factorStrides: [Int] { factors.map(\.classCount).rowMajorStrides }
    /// Number of factor combinations `Π classCount`.
    public var gridSize: Int { factors.map(\.classCount).product }

    /// The image index of a combination of factor classes.
    public func index(of classes: [Int]) -> Int {
        precondition(classes.count == factors.count, "\(classes.count) classes for \(factors.count) factors")
        var index = 0
        for (f, c) in classes.enumerated() {
            precondition(c >= 0 && c < factors[f].classCount, "class \(c) out of range for factor \(factors[f].name)")
            index += c * factorStrides[f]
        }
        return index
    }

    /// The factor classes of image `index`.
    public func classes(of index: Int) -> [Int] {
        precondition(index >= 0 && index < gridSize, "index \(index) out of range 0..<\(gridSize)")
        return zip(factorStrides, factors).map { stride, factor in (index / stride) % factor.classCount }
    }

    /// The factor values of image `index`.
    public func factorValues(of index: Int) -> [Double] {
        zip(classes(of: index), factors).map { $1.values[$0] }
    }

    /// `count` combinations of factor classes drawn uniformly (each factor independently).
    public func sampleClasses(_ count: Int, rng: inout RandomGenerator) -> [[Int]] {
        (0..<count).map { _ in factors.map { rng.int(below: $0.classCount) } }
    }

    /// `count` combinations that share one uniformly drawn class of factor `fixed`,
    /// all other factors drawn uniformly (the sampling the BetaVAE and FactorVAE scores use).
    public func sampleClasses(_ count: Int, fixing fixed: Int, rng: inout RandomGenerator) -> [[Int]] {
        precondition(fixed >= 0 && fixed < factors.count, "no factor \(fixed)")
        let value = rng.int(below: factors[fixed].classCount)
        return (0..<count).map { _ in
            var c = factors.map { rng.int(below: $0.classCount) }
            c[fixed] = value
            return c
        }
    }
}

extension ImageDataset {
    /// Images `[N, C, H, W]` for `indices`, rendered in parallel.
    public func images(_ indices: [Int]) -> Tensor {
        let size = imageShape.product
        for i in indices { precondition(i >= 0 && i < count, "\(name): index \(i) out of range 0..<\(count)") }
        return Tensor(shape: [indices.count] + imageShape) { out in
            nonisolated(unsafe) let base = out.baseAddress!
            Parallel.forEach(indices.count, minimumPerThread: 4) { k in render(indices[k], into: base + k * size) }
        }
    }

    /// One image `[C, H, W]`.
    public func image(_ index: Int) -> Tensor { images([index]).reshaped(imageShape) }

    /// Bytes of one image as the models see it, `C·H·W` floats (`Int.max` should that overflow).
    public var imageBytes: Int { imageShape.checkedByteCount(elementSize: MemoryLayout<Float>.size) ?? Int.max }
}

extension GroundTruthDataset {
    /// Images `[N, C, H, W]` for combinations of factor classes.
    public func images(classes: [[Int]]) -> Tensor { images(classes.map { index(of: $0) }) }

    /// A uniformly sampled batch: images `[N, C, H, W]` and their factor classes.
    public func sample(_ count: Int, rng: inout RandomGenerator) -> (images: Tensor, classes: [[Int]]) {
        let classes = sampleClasses(count, rng: &rng)
        return (images(classes: classes), classes)
    }
}

extension ImageDataset {
    /// A training batch `[n, C, H, W]`: uniformly sampled factor combinations for a
    /// ground-truth data set, uniformly sampled images otherwise.
    public func sampleBatch(_ n: Int, rng: inout RandomGenerator) -> Tensor {
        if let grid = self as? any GroundTruthDataset { return grid.sample(n, rng: &rng).images }
        return images((0..<n).map { _ in rng.int(below: count) })
    }
}
