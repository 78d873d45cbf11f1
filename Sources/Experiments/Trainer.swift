import Autodiff
import Datasets
import Foundation
import Models
import NN
import Optimizers
import TensorCore

/// Why training stopped early; each message says what to do.
public enum TrainingError: Error, CustomStringConvertible {
    /// The loss became NaN or infinite.
    case diverged(step: Int, details: String, lastCheckpoint: String?)
    /// The run directory holds a finished run, or an unfinished one without `--resume`.
    case runExists(path: String, complete: Bool)
    /// The data set does not fit the model.
    case incompatible(String)
    /// A stop was asked for (``Preemption``): the run is checkpointed at `step` and resumes there.
    case preempted(step: Int, signal: Int32, checkpoint: String)

    public var description: String {
        switch self {
        case .diverged(let step, let details, let checkpoint):
            return "training diverged at step \(step): \(details). "
                + (checkpoint.map { "The last good checkpoint is kept at \($0); " } ?? "No checkpoint was written yet; ")
                + "lower training.learning_rate (or β/γ) and rerun with --overwrite, or --resume after changing nothing to reproduce."
        case .runExists(let path, let complete):
            return complete
                ? "\(path) holds a finished run (metrics.json exists); it is kept. Pass --overwrite to train it again."
                : "\(path) holds an unfinished run. Pass --resume to continue it from its last checkpoint, or --overwrite to start again."
        case .incompatible(let message): return message
        case .preempted(let step, let signal, let checkpoint):
            return "stopped by \(Preemption.name(signal)) after step \(step); checkpoint \(checkpoint) written. Continue with --resume (or rerun the same `untangle run`/`sweep`)."
        }
    }
}

/// The final evaluation written to `metrics.json`: ELBO parts on a fresh seeded draw of the data
/// (`evaluation.held_out` images; drawn apart from training, not disjoint from it).
public struct HeldOutMetrics: Equatable, Sendable {
    public var step: Int, heldOut: Int
    /// Batch means in nats: reconstruction, total KL, the objective's extra term and total loss.
    public var reconstruction: Double, kl: Double, extra: Double?, loss: Double
    /// KL per latent (nats).
    public var klPerLatent: [Double]
    /// ELBO = −(reconstruction + KL) (nats per image).
    public var elbo: Double { -(reconstruction + kl) }
    /// Latents with mean KL > 0.01 nats.
    public var activeUnits: Int { klPerLatent.filter { $0 > 0.01 }.count }
}

/// What the progress display is told.
public struct ProgressUpdate: Sendable {
    public var step: Int, totalSteps: Int
    public var loss: Double, reconstruction: Double, kl: Double
    public var extraName: String, extra: Double?
    public var imagesPerSecond: Double, secondsRemaining: Double
}

/// Trains one run: the loop, checkpoints, resume, NaN safety and the final evaluation.
///
/// Reproducible: one `RandomGenerator` (seeded by `experiment.seed`) drives data
/// sampling, reparameterisation noise and FactorVAE's permutations; its state is
/// saved in every checkpoint with the model and optimiser state, so `--resume`
/// continues exactly as an uninterrupted run would (same thread count).
public final class Trainer {
    public let config: ExperimentConfig
    public let run: RunDirectory
    public let dataset: any ImageDataset
    public let model: VAE
    let adam: Adam
    /// The objective's auxiliary network (FactorVAE's discriminator), if any.
    let auxiliary: AuxiliaryNetwork?
    var rng: RandomGenerator
    public private(set) var step = 0
    /// Wall-clock seconds spent in training steps and checkpoints so far (learning-curve
    /// evaluations excluded), carried across a resume in the checkpoint metadata.
    public private(set) var trainSeconds = 0.0
    /// Process CPU seconds (all threads) spent the same way: unlike the wall clock, barely
    /// affected by other work on the machine (``ProcessClock``).
    public private(set) var trainCPUSeconds = 0.0
    private var pendingRows: [String] = []
    private var window: [[Double]] = []

    /// Prepares a run of `config` under `resultsRoot` (nothing is written yet), on `dataset` when
    /// the caller has opened the config's data set already.
    public init(config: ExperimentConfig, resultsRoot: String = "Results", dataset: (any ImageDataset)? = nil) throws {
        self.config = config
        run = RunDirectory(resultsRoot: resultsRoot, config: config)
        let dataset = try dataset ?? TrainedRun.openDataset(config, run: run)
        self.dataset = dataset
        let shape = dataset.imageShape
        if config.architecture == .conv && (shape[1] != 64 || shape[2] != 64) {
            throw TrainingError.incompatible("model.architecture conv needs 64×64 images, but \(config.dataset) has \(shape[1])×\(shape[2]); use architecture = \"mlp\" or resize")
        }
        try config.checkMemory(source: config.dataset, imageShape: shape) // with the real image size
        if config.objective.kind.trainsOnPairs {
            guard let grid = dataset as? any GroundTruthDataset else {
                throw ConfigError("model.kind", "\(config.objective.kind.rawValue) trains on pairs of images that share all but some factors, but \(config.dataset) has no factor grid to draw pairs from (use dsprites, dsprites:FILE.npz or lesions)")
            }
            if grid.variableFactors.isEmpty {
                throw ConfigError("model.kind", "\(config.objective.kind.rawValue) trains on pairs that differ in some factor, but no factor of \(config.dataset) has more than one class")
            }
            if case .fixed(let k) = config.changedFactors, k > grid.variableFactors.count {
                throw ConfigError("model.changed_factors", "\(k) factors cannot differ: \(config.dataset) has \(grid.variableFactors.count) factor\(grid.variableFactors.count == 1 ? "" : "s") with more than one class")
            }
        }
        if config.evalEvery > 0 && !(dataset is any GroundTruthDataset) {
            throw ConfigError("training.eval_every", "learning curves score against ground-truth factors, which \(config.dataset) does not have; set training.eval_every = 0")
        }
        model = VAE(architecture: config.architecture, imageShape: shape, latentCount: config.latentCount, seed: config.seed)
        adam = Adam(learningRate: config.learningRate, beta1: config.adamBeta1, beta2: config.adamBeta2, epsilon: config.adamEpsilon)
        auxiliary = config.objective.auxiliary(latentCount: config.latentCount, seed: config.seed &+ 0xD15C,
                                               learningRate: config.discriminatorLearningRate, beta1: config.discriminatorBeta1,
                                               beta2: config.discriminatorBeta2)
        rng = RandomStream.training.generator(seed: config.seed)
    }

    var extraName: String { config.objective.extraTermName }

    /// What the objective trains on: `n` images `[n, C, H, W]`, or for the weakly supervised
    /// kinds `n` pairs `[2n, C, H, W]` (first images, then their partners; `model.changed_factors`).
    func sampleTrainingBatch(_ n: Int, rng: inout RandomGenerator) -> Tensor {
        guard config.objective.kind.trainsOnPairs, let grid = dataset as? any GroundTruthDataset else {
            return dataset.sampleBatch(n, rng: &rng)
        }
        return grid.samplePairBatch(n, changing: config.changedFactors, rng: &rng)
    }

    var logHeader: String {
        var columns = ["step", "loss", "reconstruction", "kl"]
        if !extraName.isEmpty { columns.append(extraName) }
        if let auxiliary { columns.append(auxiliary.logColumn) }
        columns += (0..<config.latentCount).map { "kl_\($0)" }
        return (columns + ["images_per_second", "elapsed_seconds"]).joined(separator: ",")
    }

    /// Creates (or, with `resume`, reopens) the run directory and trains to `config.steps`.
    /// `stopAfter` (a multiple of `checkpoint_every`) ends the session right after that step's
    /// checkpoint, as an interruption would.
    /// Returns `nil` when stopped early, else the held-out metrics.
    @discardableResult
    public func train(resume: Bool = false, overwrite: Bool = false, stopAfter: Int? = nil,
                      progress: (ProgressUpdate) -> Void = { _ in }) throws -> HeldOutMetrics? {
        precondition(stopAfter.map { $0 % config.checkpointEvery == 0 } ?? true, "stopAfter must be a checkpoint step")
        Parallel.setThreadCount(config.threads)
        Memory.keepLargeBuffersResident()
        // One writer per run directory: the same lock `untangle run` and `sweep` take, held until
        // training returns (released by the kernel if the process dies).
        let lock = try run.lock()
        defer { lock.release() }
        Preemption.install()
        let started = FileManager.default.fileExists(atPath: run.configPath)
        if started {
            if overwrite { // everything but the lock file we hold
                for name in try FileManager.default.contentsOfDirectory(atPath: run.path) where name != ".lock" {
                    try FileManager.default.removeItem(atPath: run.file(name))
                }
            } else if run.isComplete || !resume {
                throw TrainingError.runExists(path: run.path, complete: run.isComplete)
            }
        }
        if started && !overwrite, let last = run.checkpointSteps().last {
            do {
                try restore(from: run.checkpointPath(step: last))
            } catch let error as Safetensors.FormatError {
                // Never a silent fall-back to an older checkpoint (the user decides); say which is there.
                guard let older = run.checkpointSteps().dropLast().last else { throw error }
                throw Safetensors.FormatError(path: error.path, problem: error.problem
                    + "; the checkpoint of step \(older) is also there: remove this one to resume from it")
            }
            try truncateLog(after: last)
            try truncateCurve(after: last)
        } else {
            try createDirectory()
            try recordCurvePoint()
        }
        let start = Date(), firstStep = step
        var windowStart = Date(), windowSteps = 0
        var imagesPerSecond = 0.0
        let parameters = model.parameters
        while step < config.steps {
            let stepStart = Date(), stepCPUStart = ProcessClock.cpuSeconds()
            step += 1
            let x = sampleTrainingBatch(config.batchSize, rng: &rng)
            let noise = rng.normal([x.shape[0], config.latentCount])
            let tape = Tape()
            let terms = model.objective(config.objective, x: tape.constant(x), noise: noise, step: step, discriminator: auxiliary?.discriminator)
            let loss = terms.total.value.scalar
            guard loss.isFinite else {
                try flushLog()
                let details = "loss \(loss) (reconstruction \(terms.reconstruction.value.scalar), KL \(terms.klPerLatent.value.sumDouble()))"
                throw TrainingError.diverged(step: step, details: details,
                                             lastCheckpoint: run.checkpointSteps().last.map { run.checkpointPath(step: $0) })
            }
            tape.backward(from: terms.total)
            adam.step(parameters)
            let auxiliaryLoss = auxiliary?.update(codes: terms.codes.value, rng: &rng)
            windowSteps += 1
            var row = [Double(loss), Double(terms.reconstruction.value.scalar), terms.klPerLatent.value.sumDouble()]
            if let extra = terms.extra { row.append(Double(extra.value.scalar)) }
            if let auxiliaryLoss { row.append(auxiliaryLoss) }
            row += terms.klPerLatent.value.scalars.map(Double.init)
            window.append(row)
            if step % config.logEvery == 0 || step == config.steps {
                let elapsed = Date().timeIntervalSince(windowStart)
                imagesPerSecond = Double(windowSteps * config.imagesPerStep) / max(elapsed, 1e-9)
                appendLogRow(imagesPerSecond: imagesPerSecond, elapsed: Date().timeIntervalSince(start))
                windowStart = Date()
                windowSteps = 0
            }
            if step % 10 == 0 || step == config.steps {
                // before the first log row, the rate so far (never a zero rate and an absurd ETA)
                let rate = imagesPerSecond > 0 ? imagesPerSecond
                    : Double((step - firstStep) * config.imagesPerStep) / max(Date().timeIntervalSince(start), 1e-3)
                let remaining = Double(config.steps - step) * Double(config.imagesPerStep) / max(rate, 1e-9)
                progress(ProgressUpdate(step: step, totalSteps: config.steps, loss: Double(loss),
                                        reconstruction: Double(terms.reconstruction.value.scalar),
                                        kl: terms.klPerLatent.value.sumDouble(), extraName: extraName,
                                        extra: terms.extra.map { Double($0.value.scalar) },
                                        imagesPerSecond: rate, secondsRemaining: remaining))
            }
            if step % config.checkpointEvery == 0 || step == config.steps {
                try saveCheckpoint(adding: Date().timeIntervalSince(stepStart), cpu: ProcessClock.cpuSeconds() - stepCPUStart)
            } else {
                trainSeconds += Date().timeIntervalSince(stepStart)
                trainCPUSeconds += ProcessClock.cpuSeconds() - stepCPUStart
            }
            if config.evalEvery > 0 && (step % config.evalEvery == 0 || step == config.steps) {
                try recordCurvePoint()
            }
            if let stopAfter, step >= stopAfter, step < config.steps { return nil }
            if let signal = Preemption.requested, step < config.steps {
                if step % config.checkpointEvery != 0 {
                    try saveCheckpoint(adding: 0, cpu: 0)
                }
                try flushLog()
                throw TrainingError.preempted(step: step, signal: signal, checkpoint: run.checkpointPath(step: step))
            }
        }
        try flushLog()
        try Safetensors.write(Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value) }),
                              metadata: ["format": "untangle-model-1", "run_id": config.runID, "step": String(step)],
                              to: run.modelPath)
        let metrics = evaluateHeldOut()
        try writeMetrics(metrics)
        return metrics
    }

    private func createDirectory() throws {
        try AtomicFile.createDirectory(run.checkpointsPath)
        try AtomicFile.write(config.resolvedTOML, to: run.configPath)
        try RunInfo(runID: config.runID, experiment: config.name, seed: Int(config.seed), threads: config.threads,
                    gitCommit: RunDirectory.gitCommit(), untangleVersion: untangleVersion,
                    executable: RunDirectory.executablePath ?? "unknown", executableSHA256: RunDirectory.executableSHA256 ?? "unknown",
                    started: ISO8601DateFormatter().string(from: Date()), blas: BLAS.configuration).write(to: run.runInfoPath)
        try AtomicFile.write(logHeader + "\n", to: run.logPath)
    }

    private func appendLogRow(imagesPerSecond: Double, elapsed: Double) {
        let n = Double(window.count)
        let means = (0..<window[0].count).map { c in window.reduce(0) { $0 + $1[c] } / n }
        pendingRows.append(([String(step)] + means.map { String(format: "%.6g", $0) }
                            + [String(format: "%.1f", imagesPerSecond), String(format: "%.2f", elapsed)]).joined(separator: ","))
        window.removeAll()
    }

    /// Appends buffered log rows to `log.csv` and flushes them to disk.
    private func flushLog() throws {
        guard !pendingRows.isEmpty else { return }
        try appendLine(pendingRows.joined(separator: "\n"), to: run.logPath)
        pendingRows.removeAll()
    }

    /// Appends `text` and a newline to the file at `path` and flushes it to disk.
    private func appendLine(_ text: String, to path: String) throws {
        try AtomicFile.append(Data((text + "\n").utf8), to: path)
    }

    /// Drops log rows after `step` (written before a crash that lost their checkpoint).
    private func truncateLog(after step: Int) throws {
        if try !Trainer.dropRows(after: step, in: run.logPath) { try AtomicFile.write(logHeader + "\n", to: run.logPath) }
    }

    /// Keeps the header and the rows whose first field (the step) is ≤ `step` in the CSV file at
    /// `path`; returns false when the file is absent or not UTF-8 text. A log too large to
    /// read is an error, never cut down to its header.
    static func dropRows(after step: Int, in path: String) throws -> Bool {
        guard let data = try BoundedFile.readIfPresent(path, limit: BoundedFile.Limit.table, as: ConfigError.init),
              let text = String(data: data, encoding: .utf8) else { return false }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let kept = lines.enumerated().filter { k, line in k == 0 || (Int(line.prefix { $0 != "," }) ?? .max) <= step }
        try AtomicFile.write(kept.map { String($0.element) }.joined(separator: "\n") + "\n", to: path)
        return true
    }

    /// Appends the model's scores at the current step to `curve.csv` (when `training.eval_every` > 0).
    private func recordCurvePoint() throws {
        guard config.evalEvery > 0 else { return }
        let path = (run.path as NSString).appendingPathComponent(LearningCurve.fileName)
        if !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(LearningCurve.header + "\n", to: path) }
        let trained = TrainedRun(run: run, config: config, dataset: dataset, model: model)
        let point = try LearningCurve.evaluate(trained, step: step, trainSeconds: trainSeconds, trainCPUSeconds: trainCPUSeconds,
                                              points: config.evalPoints)
        try appendLine(LearningCurve.line(point), to: path)
    }

    /// Drops curve rows after `step` (scored after the checkpoint a resume starts from).
    private func truncateCurve(after step: Int) throws {
        guard config.evalEvery > 0 else { return }
        _ = try Trainer.dropRows(after: step, in: (run.path as NSString).appendingPathComponent(LearningCurve.fileName))
    }

    /// Checkpoints the current step; `stepSeconds` (the step just taken) and the checkpoint's own
    /// writing time count as training time, recorded in the checkpoint.
    private func saveCheckpoint(adding stepSeconds: Double, cpu stepCPUSeconds: Double) throws {
        let start = Date(), cpuStart = ProcessClock.cpuSeconds()
        defer {
            trainSeconds += stepSeconds + Date().timeIntervalSince(start)
            trainCPUSeconds += stepCPUSeconds + ProcessClock.cpuSeconds() - cpuStart
        }
        try flushLog()
        // "Last good" means resumable: parameters and optimiser moments finite (a NaN can reach the
        // moments one step before it reaches the loss).
        let moments = adam.moments.values.flatMap { [$0.m, $0.v] } + (auxiliary?.optimizer.moments.values.flatMap { [$0.m, $0.v] } ?? [])
        let parameters = model.parameters + (auxiliary?.parameters ?? [])
        if parameters.contains(where: { $0.value.hasNonFinite }) || moments.contains(where: { $0.hasNonFinite }) {
            throw TrainingError.diverged(step: step, details: "non-finite parameters or optimizer moments (the checkpoint of this step is not written)",
                                         lastCheckpoint: run.checkpointSteps().last.map { run.checkpointPath(step: $0) })
        }
        var tensors: [String: Tensor] = [:]
        for p in model.parameters { tensors[p.name] = p.value }
        for (name, moments) in adam.moments {
            tensors["optimizer.m.\(name)"] = moments.m
            tensors["optimizer.v.\(name)"] = moments.v
        }
        var metadata = ["format": "untangle-checkpoint-1", "run_id": config.runID, "step": String(step),
                        "optimizer_step": String(adam.stepCount),
                        "rng": rng.state.map { String($0, radix: 16) }.joined(separator: ","),
                        "train_seconds": String(format: "%.3f", trainSeconds + stepSeconds),
                        "train_cpu_seconds": String(format: "%.3f", trainCPUSeconds + stepCPUSeconds)]
        if !window.isEmpty { // a stop between log rows (preemption): keep the rows the next log row averages
            metadata["log_window"] = window.map { $0.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }.joined(separator: ";")
        }
        if let auxiliary {
            for p in auxiliary.parameters { tensors[p.name] = p.value }
            for (name, moments) in auxiliary.optimizer.moments {
                tensors["\(auxiliary.name)_optimizer.m.\(name)"] = moments.m
                tensors["\(auxiliary.name)_optimizer.v.\(name)"] = moments.v
            }
            metadata["\(auxiliary.name)_optimizer_step"] = String(auxiliary.optimizer.stepCount)
        }
        try Safetensors.write(tensors, metadata: metadata, to: run.checkpointPath(step: step))
        for old in run.checkpointSteps().dropLast(config.keepCheckpoints) {
            try? FileManager.default.removeItem(atPath: run.checkpointPath(step: old))
        }
    }

    /// Loads model, optimiser and RNG state from a checkpoint, validating everything first.
    public func restore(from path: String) throws {
        let (tensors, metadata) = try Safetensors.read(path)
        func fail(_ problem: String) -> Safetensors.FormatError { Safetensors.FormatError(path: path, problem: problem) }
        guard metadata["format"] == "untangle-checkpoint-1" else { throw fail("not an Untangle training checkpoint (metadata format)") }
        guard metadata["run_id"] == config.runID else {
            throw fail("belongs to run \(metadata["run_id"] ?? "?"), not \(config.runID) (the config changed?)")
        }
        guard let savedStep = metadata["step"].flatMap(Int.init), let optimizerStep = metadata["optimizer_step"].flatMap(Int.init),
              let rngWords = metadata["rng"]?.split(separator: ",").compactMap({ UInt64($0, radix: 16) }), rngWords.count == 4 else {
            throw fail("metadata lacks step, optimizer_step or rng state")
        }
        func moments(_ prefix: String, _ parameters: [Parameter]) throws -> [String: (m: Tensor, v: Tensor)] {
            var out: [String: (m: Tensor, v: Tensor)] = [:]
            for p in parameters {
                guard let m = tensors["\(prefix).m.\(p.name)"], let v = tensors["\(prefix).v.\(p.name)"] else {
                    if optimizerStep == 0 { continue }
                    throw fail("tensor '\(prefix).m.\(p.name)' or '\(prefix).v.\(p.name)' is missing")
                }
                guard m.shape == p.value.shape, v.shape == p.value.shape else {
                    throw fail("tensor '\(prefix).m.\(p.name)' has shape \(m.shape), the model expects \(p.value.shape)")
                }
                out[p.name] = (m, v)
            }
            return out
        }
        let adamMoments = try moments("optimizer", model.parameters)
        var auxiliaryState: (Int, [String: (m: Tensor, v: Tensor)])?
        if let auxiliary {
            guard let auxiliaryStep = metadata["\(auxiliary.name)_optimizer_step"].flatMap(Int.init) else {
                throw fail("metadata lacks \(auxiliary.name)_optimizer_step")
            }
            auxiliaryState = (auxiliaryStep, try moments("\(auxiliary.name)_optimizer", auxiliary.parameters))
        }
        try Safetensors.load(tensors, into: model.parameters + (auxiliary?.parameters ?? []), path: path)
        adam.restore(stepCount: optimizerStep, moments: adamMoments)
        if let auxiliary, let (auxiliaryStep, auxiliaryMoments) = auxiliaryState {
            auxiliary.optimizer.restore(stepCount: auxiliaryStep, moments: auxiliaryMoments)
        }
        rng = RandomGenerator(state: rngWords)
        step = savedStep
        window = try (metadata["log_window"] ?? "").split(separator: ";").map { row in
            let values = row.split(separator: ",").compactMap { UInt64($0, radix: 16).map(Double.init(bitPattern:)) }
            guard values.count == row.split(separator: ",").count else { throw fail("bad log_window metadata") }
            return values
        }
        trainSeconds = metadata["train_seconds"].flatMap(Double.init) ?? 0
        trainCPUSeconds = metadata["train_cpu_seconds"].flatMap(Double.init) ?? 0
    }

    /// ELBO parts on `evaluation.held_out` images drawn from a stream separate from training — a
    /// fresh draw of the same data, not a disjoint held-out set (there is no train/test split).
    public func evaluateHeldOut() -> HeldOutMetrics {
        var heldOutRNG = RandomStream.heldOut.generator(seed: config.seed)
        var sums = [Double](repeating: 0, count: 3 + config.latentCount)
        var seen = 0
        while seen < config.heldOut {
            let n = min(256, config.heldOut - seen)
            let x = sampleTrainingBatch(n, rng: &heldOutRNG)
            let noise = heldOutRNG.normal([x.shape[0], config.latentCount])
            let tape = Tape(recording: false)
            let terms = model.objective(config.objective, x: tape.constant(x), noise: noise, step: config.steps,
                                        discriminator: auxiliary?.discriminator)
            let w = Double(n)
            sums[0] += w * Double(terms.reconstruction.value.scalar)
            sums[1] += w * Double(terms.extra?.value.scalar ?? 0)
            sums[2] += w * Double(terms.total.value.scalar)
            for (l, v) in terms.klPerLatent.value.scalars.enumerated() { sums[3 + l] += w * Double(v) }
            seen += n
        }
        let n = Double(config.heldOut)
        let klPerLatent = sums[3...].map { $0 / n }
        return HeldOutMetrics(step: step, heldOut: config.heldOut, reconstruction: sums[0] / n, kl: klPerLatent.reduce(0, +),
                              extra: extraName.isEmpty ? nil : sums[1] / n, loss: sums[2] / n, klPerLatent: klPerLatent)
    }

    private func writeMetrics(_ m: HeldOutMetrics) throws {
        var object: [String: Any] = [
            "step": m.step, "held_out": m.heldOut, "reconstruction": m.reconstruction, "kl": m.kl,
            "kl_per_latent": m.klPerLatent, "elbo": m.elbo, "loss": m.loss, "active_units": m.activeUnits,
            "model": config.objective.kind.rawValue, "run_id": config.runID,
        ]
        if let extra = m.extra { object[extraName] = extra }
        try writeJSON(object, to: run.metricsPath)
    }
}

/// The Untangle version recorded in run directories.
public let untangleVersion = "0.4.0"
