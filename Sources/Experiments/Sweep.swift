import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Executes an ``ExperimentPlan``'s runs: locally with worker processes, or as a Slurm job
/// array. Both start `untangle run <snapshot> --index i` per run, where the snapshot is a
/// copy of the config file taken when the sweep starts (`Results/<experiment>/sweeps/`), so
/// editing the file later cannot renumber queued runs; what is done is read back from the
/// run directories (``RunPipeline/status``).
public struct SweepExecutor {
    /// The experiment and where its runs go.
    public let plan: ExperimentPlan
    /// Root of run directories.
    public let resultsRoot: String
    /// The `untangle` binary the runs are started with.
    public let executable: String

    /// An executor for `plan` writing under `resultsRoot`, starting runs with `executable`.
    public init(plan: ExperimentPlan, resultsRoot: String, executable: String = SweepExecutor.currentExecutable()) {
        self.plan = plan
        self.resultsRoot = resultsRoot
        self.executable = executable
    }

    /// The running binary's absolute path (`/proc/self/exe` on Linux).
    public static func currentExecutable() -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        let argument = CommandLine.arguments[0]
        return argument.hasPrefix("/") ? argument
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(argument)
    }

    var experimentDirectory: String { plan.experimentDirectory(resultsRoot: resultsRoot) }

    /// Each run with its pipeline and status.
    public func table() throws -> [(point: SweepPoint, pipeline: RunPipeline, status: RunStatus)] {
        try plan.points().map { point in
            let pipeline = RunPipeline(config: point.config, stages: plan.stages, resultsRoot: resultsRoot)
            return (point, pipeline, pipeline.status)
        }
    }

    /// `untangle sweep --status`: one line per run and the counts.
    public func statusReport() throws -> String {
        let rows = try table()
        var out = "index  run id        status      values\n"
        for r in rows {
            out += String(r.point.index).padding(toLength: 7, withPad: " ", startingAt: 0)
                + r.point.config.runID + "  " + r.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                + r.point.label + "\n"
            if r.status == .failed, let reason = failureReason(r.pipeline) { out += "       ↳ \(reason)\n" }
        }
        let counts = RunStatus.allCases.compactMap { s -> String? in
            let n = rows.filter { $0.status == s }.count
            return n > 0 ? "\(n) \(s.rawValue)" : nil
        }
        out += "\(rows.count) runs in \(experimentDirectory): " + counts.joined(separator: ", ") + "\n"
        return out
    }

    func failureReason(_ pipeline: RunPipeline) -> String? { pipeline.failure?.summary }

    /// Copies the config file to `Results/<experiment>/sweeps/<hash>.toml` (once) and returns that path.
    public func snapshot() throws -> String {
        let data = try BoundedFile.read(plan.source, limit: BoundedFile.Limit.config, as: ConfigError.init)
        let directory = (experimentDirectory as NSString).appendingPathComponent("sweeps")
        try AtomicFile.createDirectory(directory)
        let stem = (plan.source as NSString).lastPathComponent.replacingOccurrences(of: ".toml", with: "")
        let path = (directory as NSString).appendingPathComponent("\(stem)-\(shortHash(data)).toml")
        if !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(data, to: path) }
        return path
    }

    /// The `untangle run` arguments for run `index`.
    func runArguments(snapshot: String, index: String) -> [String] {
        ["run", absolute(snapshot), "--index", index, "--results", absolute(resultsRoot)] + plan.overrides.flatMap { ["--set", $0] }
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// The default number of local workers: cores ÷ `training.threads` (at least 1).
    public var defaultWorkers: Int {
        plan.sweep?.workers ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, plan.base.threads))
    }

    /// What a local sweep did.
    public struct Outcome: Sendable {
        /// Run indices: finished now, done before, failed now, failed before and not retried.
        public var done: [Int] = [], skipped: [Int] = [], failed: [Int] = [], skippedFailed: [Int] = []
    }

    /// Runs every run that is not done with `workers` child processes (`untangle run … --index i`),
    /// each writing its output to `Results/<experiment>/logs/<run-id>.log`. Finished runs are
    /// skipped, unfinished ones continue from their checkpoints, runs another process holds are
    /// waited for, failed ones are retried only with `retryFailed`. Killing the sweep (any signal)
    /// loses at most the steps since each active run's last checkpoint: children get SIGTERM when
    /// the sweep process dies, and a restart picks up where they stopped.
    public func runLocal(workers: Int, retryFailed: Bool = false, log: (String) -> Void) throws -> Outcome {
        let rows = try table()
        let snapshot = try snapshot()
        let logs = (experimentDirectory as NSString).appendingPathComponent("logs")
        try AtomicFile.createDirectory(logs)
        var outcome = Outcome()
        var queue: [(point: SweepPoint, pipeline: RunPipeline)] = []
        for r in rows {
            switch r.status {
            case .done: outcome.skipped.append(r.point.index)
            case .failed where !retryFailed: outcome.skippedFailed.append(r.point.index)
            default: queue.append((r.point, r.pipeline))
            }
        }
        let total = rows.count
        log("sweep \(plan.base.name): \(total) runs, \(outcome.skipped.count) done, \(outcome.skippedFailed.count) failed earlier"
            + (outcome.skippedFailed.isEmpty ? "" : " (kept; --retry-failed runs them again)")
            + ", \(queue.count) to run with \(workers) worker\(workers == 1 ? "" : "s")")
        let points = Dictionary(uniqueKeysWithValues: rows.map { ($0.point.index, $0.point) })
        var active: [(index: Int, process: Process, started: Date, pipeline: RunPipeline)] = []
        while !queue.isEmpty || !active.isEmpty {
            for (k, a) in active.enumerated().reversed() where !a.process.isRunning {
                active.remove(at: k)
                let seconds = Date().timeIntervalSince(a.started)
                let logPath = (logs as NSString).appendingPathComponent("\(a.pipeline.config.runID).log")
                if a.process.terminationStatus == 0 && a.pipeline.status == .done {
                    outcome.done.append(a.index)
                    log("[\(a.index)] done in \(ConsoleProgress.duration(seconds))  \(a.pipeline.run.path)")
                } else if a.process.terminationStatus == RunCommandExit.busy {
                    queue.append((points[a.index]!, a.pipeline)) // another process took it first: wait for it
                } else {
                    outcome.failed.append(a.index)
                    let reason = failureReason(a.pipeline) ?? (a.process.terminationReason == .uncaughtSignal
                        ? "killed by signal \(a.process.terminationStatus) (continues from its last checkpoint next time)"
                        : "exit status \(a.process.terminationStatus)")
                    log("[\(a.index)] FAILED after \(ConsoleProgress.duration(seconds)): \(reason)  (log: \(logPath))")
                }
            }
            var k = 0
            while active.count < workers && k < queue.count {
                let (point, pipeline) = queue[k]
                switch pipeline.status {
                case .running: k += 1; continue // held by another process; look again later
                case .done:
                    queue.remove(at: k)
                    outcome.skipped.append(point.index)
                    log("[\(point.index)] finished by another process")
                    continue
                default: break
                }
                queue.remove(at: k)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = runArguments(snapshot: snapshot, index: String(point.index))
                var environment = ProcessInfo.processInfo.environment
                environment[RunCommandExit.parentDeathVariable] = "1"
                process.environment = environment
                let logPath = (logs as NSString).appendingPathComponent("\(point.config.runID).log")
                if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
                try handle.seekToEnd()
                process.standardOutput = handle
                process.standardError = handle
                do { try process.run() } catch {
                    throw ConfigError(executable, "cannot start a worker: \(error.localizedDescription)")
                }
                try? handle.close()
                let state = pipeline.status == .unfinished ? "continue" : "start"
                log("[\(point.index)] \(state) \(point.config.runID)  \(point.label)")
                active.append((point.index, process, Date(), pipeline))
            }
            if !queue.isEmpty || !active.isEmpty { usleep(200_000) }
        }
        log("sweep \(plan.base.name): \(outcome.done.count) finished now, \(outcome.skipped.count) already done, "
            + "\(outcome.failed.count + outcome.skippedFailed.count) failed; results in \(experimentDirectory)")
        return outcome
    }

    /// The sbatch job-array script for the runs that are not done (`nil` when all are done),
    /// and the array indices it covers.
    public func slurmScript(snapshot: String) throws -> (script: String, indices: [Int])? {
        let pending = try table().filter { $0.status != .done && $0.status != .running }.map(\.point.index)
        guard !pending.isEmpty else { return nil }
        let s = plan.slurm
        let output = (absolute(experimentDirectory) as NSString).appendingPathComponent("slurm/%A_%a.out")
        var lines = ["#!/bin/bash",
                     "# Written by `untangle sweep \(plan.source) --executor slurm` on \(ISO8601DateFormatter().string(from: Date())).",
                     "# One array task per run not yet done; each task runs every stage of its run (untangle run --index).",
                     "#SBATCH --job-name=untangle-\(plan.base.name)",
                     "#SBATCH --array=\(SweepExecutor.compactRanges(pending))\(s.maxParallel > 0 ? "%\(s.maxParallel)" : "")",
                     "#SBATCH --ntasks=1",
                     "#SBATCH --cpus-per-task=\(s.cpusPerTask)",
                     "#SBATCH --mem=\(s.memory)",
                     "#SBATCH --time=\(s.time)",
                     "#SBATCH --output=\(output)"]
        if let p = s.partition { lines.append("#SBATCH --partition=\(p)") }
        if s.warningSeconds > 0 { lines.append("#SBATCH --signal=B:USR1@\(s.warningSeconds)") }
        lines += ["#SBATCH --requeue", "#SBATCH --open-mode=append"]
        lines += s.extra.map { "#SBATCH \($0)" }
        let command = ([executable] + runArguments(snapshot: snapshot, index: "@INDEX@"))
            .map { $0 == "@INDEX@" ? "\"$SLURM_ARRAY_TASK_ID\"" : SweepExecutor.shellQuote($0) }.joined(separator: " ")
        // The run works in the background so this shell can pass Slurm's warning signal on (B:USR1
        // reaches only the batch shell); SIGTERM reaches every process of the task from Slurm itself,
        // so the shell only keeps waiting. Status 76: checkpointed on a signal, requeue to resume.
        lines += ["set -uo pipefail",
                  "cd \(SweepExecutor.shellQuote(FileManager.default.currentDirectoryPath))",
                  command + " &",
                  "child=$!",
                  "trap 'kill -USR1 \"$child\" 2>/dev/null' USR1",
                  "trap ':' TERM",
                  "while true; do",
                  "  wait \"$child\"; status=$?",
                  "  kill -0 \"$child\" 2>/dev/null || break  # a trapped signal interrupted wait; the run goes on",
                  "done",
                  "if [ \"$status\" -eq \(RunCommandExit.preempted) ]; then",
                  "  echo \"untangle: task checkpointed on a signal; requeueing job $SLURM_JOB_ID\"",
                  "  scontrol requeue \"$SLURM_JOB_ID\"",
                  "fi",
                  "exit \"$status\""]
        return (lines.joined(separator: "\n") + "\n", pending)
    }

    /// Writes the job-array script to `Results/<experiment>/slurm/sweep-<time>.sbatch` and, with
    /// `submit`, runs `sbatch --parsable` on it. Returns the script path and the job id.
    public func runSlurm(submit: Bool, log: (String) -> Void) throws -> (script: String, jobID: String?)? {
        let snapshot = try snapshot()
        guard let (script, indices) = try slurmScript(snapshot: snapshot) else {
            log("sweep \(plan.base.name): every run is done or running; nothing to submit")
            return nil
        }
        let directory = (experimentDirectory as NSString).appendingPathComponent("slurm")
        try AtomicFile.createDirectory(directory)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let path = (directory as NSString).appendingPathComponent("sweep-\(stamp).sbatch")
        try AtomicFile.write(script, to: path)
        log("wrote \(path): \(indices.count) array task\(indices.count == 1 ? "" : "s") (\(SweepExecutor.compactRanges(indices)))")
        guard submit else { return (path, nil) }
        let result: ChildProcess.Result
        do { result = try ChildProcess.run(["sbatch", "--parsable", path]) } catch {
            throw ConfigError("sbatch", "cannot run sbatch (\(error.localizedDescription)); submit \(path) by hand")
        }
        guard result.status == 0 else {
            let reason = result.errors.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ConfigError("sbatch \(path)", reason.isEmpty ? "exit status \(result.status) (is Slurm installed and running?)" : reason)
        }
        let jobID = result.output.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let results = resultsRoot == "Results" ? "" : " --results \(resultsRoot)"
        log("submitted job array \(jobID); follow it with `untangle sweep \(plan.source)\(results) --status` or `squeue -j \(jobID)`")
        return (path, jobID)
    }

    /// `0-3,5,7-9`: sorted indices as Slurm ranges.
    public static func compactRanges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var k = 0
        let sorted = indices.sorted()
        while k < sorted.count {
            var j = k
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(j == k ? "\(sorted[k])" : "\(sorted[k])-\(sorted[j])")
            k = j + 1
        }
        return parts.joined(separator: ",")
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-=:,+".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Exit statuses and environment of `untangle run` that the sweep relies on.
public enum RunCommandExit {
    /// Another process holds the run's lock.
    public static let busy: Int32 = 75
    /// Training stopped on SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint (``Preemption``);
    /// the same command resumes it. The Slurm job script requeues its task on this status.
    public static let preempted: Int32 = 76
    /// Set for worker processes: they ask the kernel for SIGTERM when the sweep process dies.
    public static let parentDeathVariable = "UNTANGLE_SWEEP_WORKER"

    /// In a worker, arranges SIGTERM on the parent's death (Linux `prctl(PR_SET_PDEATHSIG)`).
    public static func dieWithParentIfWorker() {
        #if os(Linux)
        guard ProcessInfo.processInfo.environment[parentDeathVariable] == "1" else { return }
        // a launcher may have left SIGTERM ignored or blocked (both survive exec): restore it
        signal(SIGTERM, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        _ = untangle_prctl(1 /* PR_SET_PDEATHSIG */, UInt(SIGTERM), 0, 0, 0)
        if getppid() == 1 { exit(1) } // the parent is already gone
        #endif
    }
}

#if os(Linux)
@_silgen_name("prctl")
private func untangle_prctl(_ option: Int32, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int32
#endif
