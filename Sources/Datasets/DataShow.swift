import Foundation
import ImageIO
import TensorCore

/// `untangle data show`: sample images of a data set, write them as a PNG grid and
/// as single PNGs whose names carry their factor values, and describe the factors.
public enum DataShow {
    /// What `run` wrote and printed.
    public struct Output {
        /// The grid PNG, the per-sample PNG directory, and the lesion masks grid (if any).
        public var gridPath: String, samplesDirectory: String, maskGridPath: String?
        /// `<name>-labels.csv` beside the samples (file, factors, label, mask) and the per-sample masks'
        /// directory `<name>-sample-masks/`, when the data set has factors, labels or masks: with them
        /// the samples are an image folder (`images:DIR?labels=CSV&label=label`) with its masks.
        public var labelsCSV: String?, masksDirectory: String?
        /// Factor summary and per-sample table, as printed.
        public var report: String
    }

    /// Samples `count` images (seeded) from `dataset` and writes them under `outputDirectory`.
    public static func run(_ dataset: any ImageDataset, count: Int, seed: UInt64, columns: Int = 8,
                           outputDirectory: String) throws -> Output {
        precondition(count > 0, "DataShow: count must be positive")
        // The samples, the grid and one PNG each: at least twice the images' floats.
        if let excess = MemoryBudget.excess(count: count, copies: 2, bytesEach: dataset.imageBytes) {
            throw DataError("--count \(count)", "holding them \(excess)")
        }
        var rng = RandomGenerator(seed: seed)
        let grid = dataset as? any GroundTruthDataset
        let indices: [Int]
        if let grid {
            indices = grid.sampleClasses(count, rng: &rng).map { grid.index(of: $0) }
        } else {
            indices = (0..<count).map { _ in rng.int(below: dataset.count) }
        }
        let images = dataset.images(indices)
        let name = dataset.name
        var report = "\(name): \(dataset.count) images of shape \(dataset.imageShape)\n"
        if let grid {
            report += pad("factor", 14) + pad("classes", 9) + "values\n"
            for f in grid.factors {
                let shown = f.classCount <= 6 ? (0..<f.classCount).map(f.describe).joined(separator: ", ")
                    : "\(f.describe(0)), \(f.describe(1)), … \(f.describe(f.classCount - 1))"
                report += pad(f.name, 14) + pad(String(f.classCount), 9) + shown + "\n"
            }
        }
        let labeled = dataset as? any LabeledDataset
        let hasLabels = labeled.map { !$0.labelNames.isEmpty } ?? false
        if let masked = dataset.maskedView {
            report += "label rule: \(masked.ruleDescription)" + ((masked as? Lesions).map { "; label noise \($0.labelNoise)" } ?? "") + "\n"
        }
        let samplesDirectory = (outputDirectory as NSString).appendingPathComponent("\(name)-samples")
        try? FileManager.default.removeItem(atPath: samplesDirectory)
        let masked = dataset.maskedView
        let masksDirectory = masked.map { _ in (outputDirectory as NSString).appendingPathComponent("\(name)-sample-masks") }
        if let masksDirectory {
            try? FileManager.default.removeItem(atPath: masksDirectory)
            try AtomicFile.createDirectory(masksDirectory)
        }
        var csv = [(["file"] + (grid?.factors.map(\.name) ?? []) + (hasLabels ? ["label"] : []) + (masked == nil ? [] : ["mask"])).joined(separator: ",")]
        report += "\n" + pad("#", 5) + pad("grid", 10) + pad("index", 9)
        if let grid { report += grid.factors.map { pad($0.name, 13) }.joined() }
        if hasLabels { report += "label" }
        report += "\n"
        let size = dataset.imageShape.product
        for (k, index) in indices.enumerated() {
            var fields: [String] = []
            var row = pad(String(k), 5) + pad("r\(k / columns)c\(k % columns)", 10) + pad(String(index), 9)
            if let grid {
                for (f, c) in zip(grid.factors, grid.classes(of: index)) {
                    row += pad(f.describe(c), 13)
                    fields.append("\(f.name)=\(f.describe(c))")
                }
            } else if let folder = dataset as? ImageFolder {
                fields.append(folder.files[index].replacingOccurrences(of: ".png", with: ""))
            }
            if hasLabels, let labeled {
                let label = labeled.labelNames[labeled.label(of: index)]
                row += label
                fields.append("label=\(label)")
            }
            report += row + "\n"
            let single = Tensor(shape: dataset.imageShape, scalars: Array(images.scalars[(k * size)..<((k + 1) * size)]))
            let file = String(format: "%03d_", k) + fields.joined(separator: "_") + ".png"
            try PNGFile.write(RasterImage(tensor: single), to: (samplesDirectory as NSString).appendingPathComponent(file))
            var line = [file] + (grid.map { g in zip(g.factors, g.classes(of: index)).map { $0.describe($1) } } ?? [])
            if hasLabels, let labeled { line.append(labeled.labelNames[labeled.label(of: index)]) }
            if let masked, let masksDirectory {
                let (h, w) = (dataset.imageShape[1], dataset.imageShape[2])
                let maskFile = String(format: "%03d.png", k)
                try PNGFile.write(RasterImage(tensor: masked.mask(index).reshaped([1, h, w])), to: (masksDirectory as NSString).appendingPathComponent(maskFile))
                line.append("../\(name)-sample-masks/\(maskFile)")
            }
            csv.append(line.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ","))
        }
        var labelsCSV: String?
        if grid != nil || hasLabels || masked != nil {
            labelsCSV = (outputDirectory as NSString).appendingPathComponent("\(name)-labels.csv")
            try AtomicFile.write(csv.joined(separator: "\n") + "\n", to: labelsCSV!)
        }
        let gridPath = (outputDirectory as NSString).appendingPathComponent("\(name)-grid.png")
        try PNGFile.write(RasterImage(tensor: ImageGrid.tile(images, columns: columns)), to: gridPath)
        var maskGridPath: String?
        if let masked {
            let (h, w) = (dataset.imageShape[1], dataset.imageShape[2])
            let masks = Tensor.concatenate(indices.map { masked.mask($0).reshaped([1, 1, h, w]) }, axis: 0)
            let path = (outputDirectory as NSString).appendingPathComponent("\(name)-masks.png")
            try PNGFile.write(RasterImage(tensor: ImageGrid.tile(masks, columns: columns)), to: path)
            maskGridPath = path
        }
        return Output(gridPath: gridPath, samplesDirectory: samplesDirectory, maskGridPath: maskGridPath,
                      labelsCSV: labelsCSV, masksDirectory: masksDirectory, report: report)
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}
