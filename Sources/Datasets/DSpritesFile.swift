import Foundation
import TensorCore

/// The official dSprites release read from its npz file
/// (`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`): `imgs` uint8 `[N, 64, 64]` (0/1),
/// `latents_classes` int64 `[N, 6]`, `latents_values` float64 `[N, 6]`; the first
/// latent column (colour, always one class) is dropped and the pickled `metadata`
/// member is never read.
///
/// The rows must form the full factor grid in C order (as the release does:
/// index = Σ class·stride, posY fastest); this is verified at load time, so any
/// npz laid out the same way (also a smaller grid) loads.
public struct DSpritesFile: GroundTruthDataset {
    public let name = "dsprites-file"
    public let imageShape: [Int]
    public let factors: [Factor]
    /// The archive path.
    public let path: String
    private let pixels: [UInt8]

    /// Loads and validates the npz at `path`.
    public init(path: String) throws {
        self.path = path
        let archive = try ZipArchive(path: path)
        let imgs = try archive.array("imgs")
        let classesArray = try archive.array("latents_classes")
        let valuesArray = try archive.array("latents_values")
        guard imgs.dtype == .uint8, imgs.shape.count == 3 else {
            throw DataError(path, "member imgs must be uint8 [N, H, W], found \(imgs.dtype.descr) \(imgs.shape)")
        }
        let n = imgs.shape[0]
        guard classesArray.shape == [n, 6], valuesArray.shape == [n, 6] else {
            throw DataError(path, "latents_classes \(classesArray.shape) and latents_values \(valuesArray.shape) must both be [\(n), 6]")
        }
        let classes = try classesArray.integers(source: "\(path) member latents_classes")
        let values = valuesArray.doubles()
        let names = ["shape", "scale", "orientation", "posX", "posY"]
        var factors: [Factor] = []
        for f in 1...5 {
            let column = stride(from: f, to: classes.count, by: 6).map { classes[$0] }
            guard let maxClass = column.max(), column.min() == 0 else {
                throw DataError(path, "latents_classes column \(f) (\(names[f - 1])) must start at class 0")
            }
            var classValues = [Double](repeating: .nan, count: maxClass + 1)
            for row in 0..<n where classValues[column[row]].isNaN { classValues[column[row]] = values[row * 6 + f] }
            let classNames = f == 1 && maxClass == 2 ? ["square", "ellipse", "heart"] : nil
            factors.append(Factor(name: names[f - 1], values: classValues, classNames: classNames))
        }
        let gridSize = factors.map(\.classCount).product
        guard gridSize == n else {
            throw DataError(path, "\(n) images do not form the full factor grid \(factors.map(\.classCount)) (\(gridSize) combinations)")
        }
        let strides = factors.map(\.classCount).rowMajorStrides
        for row in 0..<n {
            let index = (1...5).reduce(0) { $0 + classes[row * 6 + $1] * strides[$1 - 1] }
            guard index == row else {
                throw DataError(path, "row \(row) has latents_classes \(Array(classes[(row * 6)..<(row * 6 + 6)])), which belong at row \(index): rows must be in C order over the factor grid")
            }
        }
        if let bad = imgs.bytes.firstIndex(where: { $0 > 1 }) {
            throw DataError(path, "imgs must hold 0/1 pixels, found \(imgs.bytes[bad]) at element \(bad)")
        }
        self.factors = factors
        self.imageShape = [1, imgs.shape[1], imgs.shape[2]]
        self.pixels = imgs.bytes
    }

    public var count: Int { gridSize }

    public func render(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let size = imageShape.product
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<size { out[i] = Float(p[index * size + i]) }
        }
    }
}
