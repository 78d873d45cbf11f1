import Datasets
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Where one run of a plan stands, read from its run directory alone (so the local and the
/// Slurm executor, and any later `--status`, agree).
public enum RunStatus: String, Sendable, CaseIterable {
    /// Nothing written yet.
    case pending
    /// Some stages done or training checkpointed, not finished; `untangle run` continues it.
    case unfinished
    /// A process holds the run's lock.
    case running
    /// The last attempt ended with an error (`failed.json` says which and why).
    case failed
    /// Every stage finished with the current stage settings (`stages.json`).
    case done
}

/// Runs every enabled stage of ``RunStages/all`` in order — train (resuming from the last
/// checkpoint), curve, evaluate, probe, classify, compare; `stages.json` is written
/// last and marks the run done. A run holds an exclusive lock (`RUN/.lock`, `flock`) while
/// it works, so two processes never work on one run (a killed sweep's orphan and its
/// restart, or two executors); a process killed at any point leaves only complete files
/// (every output is written atomically) and the next attempt continues from them.
public struct RunPipeline {
    /// The run's config, the stages to run after training, and its directory.
    public let config: ExperimentConfig
    /// Every stage's settings.
    public let stages: StageSettings
    /// `resultsRoot/<experiment>/<run-id>`.
    public let run: RunDirectory
    let resultsRoot: String

    /// The pipeline of `config` under `resultsRoot` (nothing is touched until ``execute(log:)``).
    public init(config: ExperimentConfig, stages: StageSettings, resultsRoot: String) {
        self.config = config
        self.stages = stages
        self.resultsRoot = resultsRoot
        run = RunDirectory(resultsRoot: resultsRoot, config: config)
    }

    var markerPath: String { run.file(StagesRecord.fileName) }
    var failurePath: String { run.file(FailureRecord.fileName) }
    var lockPath: String { run.file(".lock") }

    /// The run's status from its directory.
    public var status: RunStatus {
        guard run.exists else { return .pending }
        if RunLock.isHeld(lockPath) { return .running }
        if isDone { return .done }
        if FileManager.default.fileExists(atPath: failurePath) { return .failed }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
        return contents.contains { $0 != ".lock" } ? .unfinished : .pending
    }

    var isDone: Bool { StagesRecord.read(markerPath)?.stages == stages.fingerprint }

    /// The last attempt's failure (`failed.json`), if it failed.
    var failure: FailureRecord? { FailureRecord.read(failurePath) }

    /// Runs the missing stages; `log` receives one line per stage. A failure is recorded in
    /// `failed.json` (removed by the next attempt) and rethrown.
    public func execute(log: @escaping (String) -> Void = { _ in }) throws {
        try AtomicFile.createDirectory(run.path)
        let lock = try run.lock()
        defer { lock.release() }
        if isDone {
            log("\(run.path): done (stages.json), skipped")
            return
        }
        try? FileManager.default.removeItem(atPath: failurePath)
        let stage = CurrentStage()
        // A lazily read image folder that changes mid-run stops the process from inside `render`
        // (it cannot throw): record that failure too, naming the stage it stopped.
        let failurePath = failurePath
        let token = DataStop.actions.register { error in
            FailureRecord.now(stage: stage.name, error: "\(error) — the image folder changed while the run read it")
                .writeQuietly(to: failurePath)
        }
        defer { DataStop.actions.remove(token) }
        do {
            try executeStages(stage: stage, log: log)
        } catch TrainingError.preempted(let step, let signal, let checkpoint) { // not a failure: the next attempt resumes
            throw TrainingError.preempted(step: step, signal: signal, checkpoint: checkpoint)
        } catch {
            FailureRecord.now(stage: stage.name, error: "\(error)").writeQuietly(to: failurePath)
            throw error
        }
    }

    private func executeStages(stage: CurrentStage, log: @escaping (String) -> Void) throws {
        let started = Date()
        let context = StageContext(config: config, run: run, resultsRoot: resultsRoot)
        try checkStagesFit(context.dataset())
        for step in RunStages.all where stages.isEnabled(step) {
            stage.name = step.name
            let line = try step.execute(context, settings: stages, log: log)
            if !line.isEmpty { log("\(step.name): \(line) (\(String(format: "%.0f s", Date().timeIntervalSince(started))))") }
        }
        stage.name = "finish"
        try StagesRecord(stages: stages.fingerprint, runID: config.runID, finished: ISO8601DateFormatter().string(from: Date()))
            .write(to: markerPath)
        log("done: \(run.path)")
    }

    /// Fails before any work when a stage cannot run on the data set.
    private func checkStagesFit(_ data: any ImageDataset) throws {
        for step in RunStages.all where stages.isEnabled(step) { try step.check(data, source: config.dataset) }
    }
}

/// The stage a pipeline is in, readable from a ``DataStop`` action on another thread.
private final class CurrentStage: @unchecked Sendable {
    private let lock = NSLock()
    private var current = "train"

    /// The stage's name (`train` until the first stage starts).
    var name: String {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }
}
