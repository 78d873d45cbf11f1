import Autodiff
import Datasets
import Foundation
import TensorCore

/// `untangle encode RUN`: a run's latent codes, taken out for one's own analysis (NumPy, pandas,
/// PyTorch), with what the data set knows about each image beside them.
///
/// Writes into `output` (default `RUN/encode/`):
/// - `codes.npy` — float32 `[N, 2, Z]`: posterior mean (`[:, 0]`) and log-variance (`[:, 1]`);
/// - `indices.npy` — int64 `[N]`: the data set index of each row;
/// - `images.npy` — float32 `[N, C, H, W]`, the encoder's inputs (only when asked for);
/// - `factors.npy` — int64 `[N, F]` factor classes, when the data set has a factor grid
///   (`factors.json` of the manifest names the factors and their values);
/// - `labels.csv` — `index,label` (class names), when the data set has labels, plus an image
///   folder's annotation columns;
/// - `manifest.json` — run, data spec, shapes, latent names, factor names and values.
public struct CodeExport: Codable, Sendable, Equatable {
    /// The run and the data set (as a spec) the codes come from.
    public var run: String, data: String
    /// Rows, latents, and the probe's names of the latents (`z<i>` before `probe`).
    public var count: Int, latents: Int, latentNames: [String]
    /// Factor names and each factor's values by class (empty without a factor grid).
    public var factors: [String], factorValues: [[Double]]
    /// The files written, relative to the output directory.
    public var files: [String]

    /// The manifest's file name.
    public static let manifest = "manifest.json"
}

extension TrainedRun {
    /// Encodes `count` images of the data set `dataSpec` (nil: the run's own) — all of a finite
    /// set up to 100,000 images when `count` is nil, else a seeded sample of `count` (10,000 by
    /// default) without repeats — and writes the files of ``CodeExport`` into `output` (nil: `RUN/encode`).
    /// With `images`, also `images.npy` — float32 `[N, C, H, W]` in [0, 1], the encoder's inputs.
    public func exportCodes(dataSpec: String? = nil, count: Int? = nil, seed: UInt64 = 0, images: Bool = false,
                            output: String? = nil, progress: (String) -> Void = { _ in }) throws -> CodeExport {
        let data = try dataSpec.map { spec in
            do { return try DatasetSpec(parsing: spec).open() } catch let error as DataError { throw ConfigError("--data", error.description) }
        } ?? dataset
        let dataSpec = dataSpec ?? config.dataset
        let output = output ?? run.file("encode")
        guard data.imageShape == dataset.imageShape else {
            throw ConfigError(dataSpec, "has \(data.imageShape) images; the run's model takes \(dataset.imageShape)")
        }
        let n = min(count ?? (data.count <= 100_000 ? data.count : 10_000), data.count)
        guard n > 0 else { throw ConfigError(dataSpec, "has no images to encode") }
        var indices = Array(0..<data.count)
        if n < data.count {
            var rng = RandomStream.export.generator(seed: seed)
            for i in 0..<n { indices.swapAt(i, i + rng.int(below: data.count - i)) } // partial Fisher–Yates
            indices = Array(indices.prefix(n)).sorted()
        }
        let z = config.latentCount
        var codes = [Float](repeating: 0, count: n * 2 * z)
        for start in stride(from: 0, to: n, by: 512) {
            let chunk = Array(indices[start..<min(n, start + 512)])
            let (mean, logVariance) = encodePosterior(data.images(chunk))
            for (row, _) in chunk.enumerated() {
                for l in 0..<z {
                    codes[((start + row) * 2) * z + l] = mean.scalars[row * z + l]
                    codes[((start + row) * 2 + 1) * z + l] = logVariance.scalars[row * z + l]
                }
            }
            progress("encoded \(min(n, start + 512)) of \(n) images")
        }
        try AtomicFile.createDirectory(output)
        func path(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }
        var files = ["codes.npy", "indices.npy"]
        try NPYArray(float32: codes, shape: [n, 2, z]).write(to: path("codes.npy"))
        try NPYArray(int64: indices.map(Int64.init), shape: [n]).write(to: path("indices.npy"))
        if images {
            if let excess = MemoryBudget.excess(count: n, bytesEach: data.imageBytes) { throw ConfigError("--images", "images.npy of \(n) images \(excess); pass a smaller --count") }
            try NPYArray(float32: data.images(indices).scalars, shape: [n] + data.imageShape).write(to: path("images.npy"))
            files.append("images.npy")
        }
        var factorNames: [String] = [], factorValues: [[Double]] = []
        if let grid = data as? any GroundTruthDataset {
            factorNames = grid.factors.map(\.name)
            factorValues = grid.factors.map(\.values)
            let classes = indices.flatMap { grid.classes(of: $0).map(Int64.init) }
            try NPYArray(int64: classes, shape: [n, grid.factors.count]).write(to: path("factors.npy"))
            files.append("factors.npy")
        }
        let labelled = (data as? any LabeledDataset).flatMap { $0.labelNames.isEmpty ? nil : $0 }
        let folder = data as? ImageFolder
        let columns = (folder?.attributes.keys.sorted() ?? []).filter { $0 != folder?.labelColumn }
        if labelled != nil || !columns.isEmpty {
            func cell(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
            var lines = [(["index"] + (labelled == nil ? [] : ["label"]) + columns).map(cell).joined(separator: ",")]
            for i in indices {
                var row = [String(i)]
                if let labelled { row.append(labelled.labelNames[labelled.label(of: i)]) }
                row += columns.map { folder!.attributes[$0]![i] }
                lines.append(row.map(cell).joined(separator: ","))
            }
            try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: path("labels.csv"))
            files.append("labels.csv")
        }
        files.append(CodeExport.manifest)
        let export = CodeExport(run: run.path, data: dataSpec, count: n, latents: z, latentNames: try latentNames(),
                                factors: factorNames, factorValues: factorValues, files: files)
        try AtomicFile.write(try JSONEncoder.sorted.encode(export) + Data("\n".utf8), to: path(CodeExport.manifest))
        return export
    }
}
