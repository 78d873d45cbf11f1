import Autodiff
import Datasets
import Foundation
import ImageIO
import Models
import NN
import TensorCore

/// A trained model loaded back from its run directory.
public struct TrainedRun {
    public let run: RunDirectory
    public let config: ExperimentConfig
    public let dataset: any ImageDataset
    public let model: VAE

    /// A model in memory with its run, config and data set (nothing is read; e.g. the trainer's
    /// model scored for a learning curve).
    public init(run: RunDirectory, config: ExperimentConfig, dataset: any ImageDataset, model: VAE) {
        self.run = run
        self.config = config
        self.dataset = dataset
        self.model = model
        lock = nil
    }

    /// The run's lock while this value (or a copy) lives; nil for a model in memory.
    let lock: RunLock?

    /// Opens a finished run: takes its lock (``RunDirectory/lock()``: the stages write into the
    /// directory), loads the config, the data set and `model.safetensors`. With `locking: false`
    /// (a viewer that never writes, `untangle serve`) nothing in the directory is touched.
    ///
    /// An unfinished or diverged run (no `metrics.json`) is refused with the command that
    /// finishes it, unless `allowUnfinished` — then the newest checkpoint is loaded.
    public init(path: String, allowUnfinished: Bool = false, locking: Bool = true) throws {
        run = try RunDirectory(existing: path)
        lock = locking ? try run.lock() : nil
        config = try run.loadConfig()
        let weights: String
        if run.isComplete && FileManager.default.fileExists(atPath: run.modelPath) {
            weights = run.modelPath
        } else {
            let last = run.checkpointSteps().last
            if !allowUnfinished || last == nil { throw UnfinishedRun(run: run, config: config, newestCheckpoint: last) }
            weights = run.checkpointPath(step: last!)
        }
        dataset = try TrainedRun.openDataset(config, field: "\(run.configPath): data.dataset", run: run)
        model = VAE(architecture: config.architecture, imageShape: dataset.imageShape, latentCount: config.latentCount, seed: config.seed)
        let (tensors, _) = try Safetensors.read(weights)
        try Safetensors.load(tensors, into: model.parameters, path: weights)
    }

    /// The data set of `config` (as the version that wrote `run` meant it, see
    /// ``DatasetSpec/asWritten(byVersion:)``); a bad spec is a `ConfigError` naming `field`.
    static func openDataset(_ config: ExperimentConfig, field: String = "data.dataset", run: RunDirectory? = nil) throws -> any ImageDataset {
        do {
            return try DatasetSpec(parsing: config.dataset).asWritten(byVersion: run.map(\.writtenByVersion) ?? untangleVersion).open()
        } catch let error as DataError {
            throw ConfigError(field, error.description)
        }
    }

    /// Held-out images (the stream `metrics.json` is computed on): `[n, C, H, W]`.
    public func heldOutImages(_ n: Int) -> Tensor {
        var rng = RandomStream.heldOut.generator(seed: config.seed)
        return dataset.sampleBatch(n, rng: &rng)
    }

    /// Images per encoder call when encoding without gradients: the encoder's
    /// ``GaussianEncoder/encodingBatch`` — 1,024 for the dlib conv encoder where it skips blank regions
    /// (bit for bit the codes of any other batch), else 256. (Pieces of 64 were tried because at 256
    /// the dlib conv encoder's largest activation, conv1's 32 × 32² floats an image, is 32 MiB —
    /// glibc's largest mmap threshold — and was mmapped and page-faulted in afresh on every call;
    /// ``Memory/keepLargeBuffersResident()`` now turns mmap off for allocations, which made 256 as
    /// fast as 64.) The encoder maps each image on its own: under OpenBLAS another piece size changes
    /// a code only within float rounding (its dense kernels differ by shape).
    public var encodingPiece: Int { model.encoder.encodingBatch }

    /// Posterior parameters `(μ, log σ²)`, each `[n, Z]`, of `images [n, C, H, W]`, encoded
    /// without gradients in pieces of ``encodingPiece`` images.
    public func encodePosterior(_ images: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let n = images.shape[0]
        var means: [Tensor] = [], logVariances: [Tensor] = []
        for start in stride(from: 0, to: n, by: encodingPiece) {
            let piece = n <= encodingPiece ? images : images.slice(axis: 0, start..<min(n, start + encodingPiece))
            let (mean, logVariance) = model.encoder.posteriorWithoutGradients(piece)
            means.append(mean)
            logVariances.append(logVariance)
        }
        if means.isEmpty { return (.zeros([0, config.latentCount]), .zeros([0, config.latentCount])) }
        return (Tensor.concatenate(means, axis: 0), Tensor.concatenate(logVariances, axis: 0))
    }

    /// Posterior means `μ [n, Z]` of `images`, encoded without gradients (``encodePosterior(_:)``).
    public func encodeMeans(_ images: Tensor) -> Tensor { encodePosterior(images).mean }

    /// Posterior means `μ [n, Z]` of data set images `indices`, rendered and encoded 512 at a
    /// time, or ``encodingPiece`` if more (so only one chunk of images is in memory, however many
    /// indices); `meter` counts the images (one phase).
    public func encodeMeans(of indices: [Int], in data: any ImageDataset, meter: WorkMeter? = nil) -> Tensor {
        var parts: [Tensor] = []
        meter?.begin("encoding \(indices.count) images", total: indices.count, unit: "images")
        defer { meter?.end() }
        let chunk = max(512, encodingPiece)
        for start in stride(from: 0, to: indices.count, by: chunk) {
            parts.append(encodeMeans(data.images(Array(indices[start..<min(indices.count, start + chunk)]))))
            meter?.advance(by: parts[parts.count - 1].shape[0])
        }
        return parts.isEmpty ? .zeros([0, config.latentCount]) : Tensor.concatenate(parts, axis: 0)
    }

    /// Decoded images `σ(logits) [n, C, H, W]` of codes `z [n, Z]`.
    public func decode(_ z: Tensor) -> Tensor {
        let tape = Tape(recording: false)
        return model.decoder(tape.constant(z)).value.map(Variable.stableSigmoid)
    }

    /// Writes `reconstructions.png` (or `output`): `count` held-out inputs in the top row,
    /// their reconstructions decoded from the posterior mean below. Returns the path.
    @discardableResult
    public func writeReconstructions(count: Int, output: String? = nil) throws -> String {
        try CountLimit.require("--count", count, copies: 3, bytesEach: dataset.imageBytes) // inputs, reconstructions, the grid
        let x = heldOutImages(count)
        let reconstructed = decode(encodeMeans(x))
        let grid = ImageGrid.tile(Tensor.concatenate([x, reconstructed], axis: 0), columns: count)
        let path = output ?? (run.path as NSString).appendingPathComponent("reconstructions.png")
        try PNGFile.write(RasterImage(tensor: grid), to: path)
        return path
    }
}

/// A stage was asked to use a run whose training has not finished (interrupted, still
/// running elsewhere, or stopped on NaN) or whose weights are missing (a record copied without
/// `model.safetensors`); says how far it got and how to finish it.
public struct UnfinishedRun: Error, CustomStringConvertible {
    /// The run, its config and the step of its newest checkpoint (nil: none).
    public let run: RunDirectory, config: ExperimentConfig, newestCheckpoint: Int?

    public var description: String {
        if run.isComplete {
            // A finished run's record without its weights (a summary copied without
            // model.safetensors, or the file deleted): training it again is the way back.
            return "\(run.path): training finished (metrics.json is there) but its weights, model.safetensors, are missing"
                + " (a record copied without them?). Train it again — the run id follows from the config, so"
                + " `untangle train --config \(run.configPath)` trains it into Results/\(config.name)/\(config.runID)/"
                + (newestCheckpoint.map { "; or pass --allow-unfinished to use its checkpoint of step \($0)" } ?? "")
        }
        let root = UnfinishedRun.resultsRoot(ofRun: run.path)
        var text = "\(run.path): training has not finished (no metrics.json; "
        text += newestCheckpoint.map { "newest checkpoint at step \($0) of \(config.steps))" } ?? "no checkpoint yet)"
        if let failure = FailureRecord.read(run.file(FailureRecord.fileName)) {
            text += "; its last attempt failed: \(failure.error)"
        }
        text += ". Finish it with `untangle train --config \(run.configPath) --results \(root) --resume`"
        if newestCheckpoint != nil { text += ", or pass --allow-unfinished to use the newest checkpoint anyway" }
        return text
    }

    /// The results root `ROOT` of a run directory `ROOT/<experiment>/<run-id>`, relative to
    /// `workingDirectory` when it lies inside it (`.` for the working directory itself). Resolved
    /// through the absolute path, so that `r`, `.` or `r/` work: Foundation's
    /// `NSString.deletingLastPathComponent` traps on a path without an inner slash on Linux.
    static func resultsRoot(ofRun path: String, workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let base = URL(fileURLWithPath: workingDirectory, isDirectory: true)
        let absolute = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL
            .deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL.path
        let cwd = base.standardizedFileURL.path
        if absolute == cwd { return "." }
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }
}
