import Foundation
import TestSupport
import Testing

/// A tiny 4-run sweep (β ∈ {1, 4} × seeds {0, 1}) with evaluation and probe stages.
func tinySweepConfig(in dir: String, steps: Int, extra: String = "") throws -> String {
    let path = dir + "/sweep.toml"
    try """
    [experiment]
    name = "tiny"
    [model]
    architecture = "mlp"
    hidden = [16]
    latents = 3
    [training]
    steps = \(steps)
    batch_size = 8
    learning_rate = 1e-3
    threads = 1
    checkpoint_every = 20
    log_every = 10
    [evaluation]
    held_out = 16
    metrics = ["mig", "modularity", "active-units"]
    train_points = 200
    eval_points = 100
    probe = true
    \(extra)
    [sweep]
    seeds = [0, 1]
    [sweep.product]
    "model.beta" = [1, 4]
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func temporaryFolder(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-\(name)-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Run directories of experiment `tiny` under `results` that hold `file`.
func runs(in results: String, experiment: String = "tiny", holding file: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: results + "/" + experiment)) ?? []
    return names.filter { FileManager.default.fileExists(atPath: results + "/\(experiment)/\($0)/" + file) }.sorted()
}

func modificationDate(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
}

func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(100_000)
    }
    return condition()
}

func summarizedCSVs(_ results: String) throws -> (runs: String, aggregate: String) {
    let (status, output) = try CLI.run(["summarize", results + "/tiny", "--no-figures"])
    #expect(status == 0, "\(output)")
    return (try String(contentsOfFile: results + "/tiny/summary/runs.csv", encoding: .utf8),
            try String(contentsOfFile: results + "/tiny/summary/aggregate.csv", encoding: .utf8))
}

@Suite struct SweepCLITests {
    /// Bar: kill a local sweep midway and restart it — no finished run lost or rerun, and the
    /// interrupted runs end exactly as in an uninterrupted sweep.
    @Test func killedSweepRestartsWithoutLosingOrRedoingRuns() throws {
        let dir = try temporaryFolder("sweep-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try tinySweepConfig(in: dir, steps: 200)

        let (status, output) = try CLI.run(["sweep", config, "--results", dir + "/whole", "--workers", "2"])
        #expect(status == 0 && output.contains("4 finished now"), "\(output)")

        let interrupted = dir + "/interrupted"
        let sweep = Process()
        sweep.executableURL = CLI.binary
        sweep.arguments = ["sweep", config, "--results", interrupted, "--workers", "1"]
        sweep.standardOutput = FileHandle.nullDevice
        sweep.standardError = FileHandle.nullDevice
        try sweep.run()
        // kill it once one run is done and the next one has written a checkpoint
        let midway = waitUntil(seconds: 120) {
            let done = runs(in: interrupted, holding: "stages.json")
            return done.count == 1 && runs(in: interrupted, holding: "checkpoints").contains { run in
                !done.contains(run) && !((try? FileManager.default.contentsOfDirectory(atPath: interrupted + "/tiny/\(run)/checkpoints")) ?? []).isEmpty
            }
        }
        kill(sweep.processIdentifier, SIGKILL)
        sweep.waitUntilExit()
        #expect(midway, "the sweep did not reach the middle in time")
        let finished = runs(in: interrupted, holding: "stages.json")
        #expect(finished.count == 1)
        // the worker dies with the sweep (no orphan keeps a lock)
        #expect(waitUntil(seconds: 10) {
            let (_, text) = (try? CLI.run(["sweep", config, "--results", interrupted, "--status"])) ?? (1, "running")
            return !text.contains("running")
        }, "a worker outlived the killed sweep")
        let (_, statusText) = try CLI.run(["sweep", config, "--results", interrupted, "--status"])
        #expect(statusText.contains("1 unfinished") && statusText.contains("1 done"), "\(statusText)")
        let stamps = finished.flatMap { run in ["stages.json", "model.safetensors", "evaluation.json"].map { interrupted + "/tiny/\(run)/\($0)" } }
        let before = stamps.map(modificationDate)

        let (again, log) = try CLI.run(["sweep", config, "--results", interrupted, "--workers", "2"])
        #expect(again == 0, "\(log)")
        #expect(log.contains("4 runs, 1 done") && log.contains("3 to run") && log.contains("continue"), "\(log)")
        #expect(stamps.map(modificationDate) == before, "a finished run was redone")
        #expect(runs(in: interrupted, holding: "stages.json").count == 4)
        // continued runs match the uninterrupted sweep exactly
        let whole = try summarizedCSVs(dir + "/whole"), resumed = try summarizedCSVs(interrupted)
        #expect(whole.runs == resumed.runs)
        #expect(whole.aggregate == resumed.aggregate)
        // a third start has nothing to do
        let (third, quiet) = try CLI.run(["sweep", config, "--results", interrupted])
        #expect(third == 0 && quiet.contains("4 done") && quiet.contains("0 to run"), "\(quiet)")
    }

    /// Bar: `Scripts/sweep-with-records` runs the chosen runs in the chosen order, records each
    /// finished one without its weights and checkpoints, skips recorded runs on the next call, and
    /// `summarize` gives the same tables from the records as from the run directories.
    @Test func sweepWithRecordsKeepsSummarisableRecords() throws {
        let dir = try temporaryFolder("sweep-records")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A literal-string name (TOML single quotes): the records follow the path `untangle run` prints.
        let config = try tinySweepConfig(in: dir, steps: 20)
        try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "name = \"tiny\"", with: "name = 'tiny'")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (results, records) = (dir + "/results", dir + "/records")
        let script = LocalSlurm.repository + "/Scripts/sweep-with-records"
        func withRecords(_ indices: [String]) throws -> (status: Int32, output: String) {
            try Products.run(URL(fileURLWithPath: "/usr/bin/env"), ["UNTANGLE=\(CLI.binary.path)", script, config, results, records] + indices)
        }
        func recorded() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: records)) ?? []).sorted() }

        let (first, log) = try withRecords(["3", "0"])
        #expect(first == 0, "\(log)")
        let (third, zeroth) = (log.range(of: "run 3 "), log.range(of: "run 0 "))
        #expect(recorded().count == 2 && third != nil && zeroth != nil && third!.lowerBound < zeroth!.lowerBound, "\(log)")
        for id in recorded() {
            let files = try FileManager.default.contentsOfDirectory(atPath: records + "/" + id)
            #expect(files.contains("stages.json") && files.contains("config.toml") && files.contains("metrics.json"), "\(files)")
            #expect(!files.contains("model.safetensors") && !files.contains("checkpoints"), "\(files)")
        }
        let firstRecorded = recorded()
        func stamps() -> [Date?] { firstRecorded.map { modificationDate(results + "/tiny/\($0)/stages.json") } }
        let before = stamps()

        let (second, again) = try withRecords([])
        #expect(second == 0, "\(again)")
        #expect(again.components(separatedBy: ": recorded").count - 1 == 2, "\(again)")
        #expect(recorded().count == 4 && !recorded().contains { $0.hasSuffix(".partial") })
        #expect(stamps() == before, "a recorded run was run again")

        let (status, output) = try CLI.run(["summarize", records, "--output", dir + "/from-records", "--no-figures"])
        #expect(status == 0, "\(output)")
        let fromRuns = try summarizedCSVs(results)
        #expect(try String(contentsOfFile: dir + "/from-records/runs.csv", encoding: .utf8) == fromRuns.runs)
        #expect(try String(contentsOfFile: dir + "/from-records/aggregate.csv", encoding: .utf8) == fromRuns.aggregate)

        let (bad, message) = try withRecords(["7"])
        #expect(bad != 0 && message.contains("no run with index 7"), "\(message)")
    }

    @Test func failedRunIsRecordedAndKept() throws {
        let dir = try temporaryFolder("sweep-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // dSprites has no labels, so the classify stage fails before training starts
        let config = try tinySweepConfig(in: dir, steps: 20, extra: "[explanation]\nclassify = true")
        let (status, output) = try CLI.run(["run", config, "--index", "2", "--results", dir])
        #expect(status != 0 && output.contains("explanation.classify needs a labelled data set"), "\(output)")
        let (_, report) = try CLI.run(["sweep", config, "--results", dir, "--status"])
        #expect(report.contains("failed") && report.contains("↳ train: dsprites: explanation.classify"), "\(report)")
        let (again, log) = try CLI.run(["sweep", config, "--results", dir, "--workers", "1"])
        #expect(again != 0 && log.contains("1 failed earlier (kept; --retry-failed runs them again)"), "\(log)")
        let (bad, message) = try CLI.run(["run", config, "--index", "9", "--results", dir])
        #expect(bad != 0 && message.contains("--index 9: the sweep has runs 0…3"), "\(message)")
    }
}

/// A single-node Slurm started by `Scripts/slurm-local` (installs it when missing).
enum LocalSlurm {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Whether Slurm runs here (started on first use); prints why not.
    static let available: Bool = {
        // system(3), not Foundation's Process: the script leaves daemons behind, and the test
        // must only wait for the script itself.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-local-\(UUID()).log").path
        let status = system("'\(repository)/Scripts/slurm-local' > '\(log)' 2>&1 < /dev/null")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if status != 0 { print("Slurm test skipped (exit status \(status)): \(text)") }
        return status == 0
    }()
}

@Suite struct SlurmCLITests {
    /// Bar: the Slurm path runs for real and gives the same summary as the local executor.
    @Test(.enabled(if: LocalSlurm.available, "Slurm cannot be installed or started here (Scripts/slurm-local says why)"))
    func slurmJobArrayMatchesLocalExecutor() throws {
        let dir = try temporaryFolder("sweep-slurm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try tinySweepConfig(in: dir, steps: 40)
        let (status, output) = try CLI.run(["sweep", config, "--results", dir + "/local"])
        #expect(status == 0, "\(output)")

        let (submitted, text) = try CLI.run(["sweep", config, "--results", dir + "/slurm", "--executor", "slurm"])
        #expect(submitted == 0 && text.contains("4 array tasks (0-3)") && text.contains("submitted job array"), "\(text)")
        let done = waitUntil(seconds: 300) { runs(in: dir + "/slurm", holding: "stages.json").count == 4 }
        let outputs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/slurm/tiny/slurm")) ?? []
        let taskLogs = outputs.filter { $0.hasSuffix(".out") }.compactMap { try? String(contentsOfFile: dir + "/slurm/tiny/slurm/" + $0, encoding: .utf8) }
        #expect(done, "the job array did not finish in 5 minutes; task output:\n\(taskLogs.joined(separator: "\n---\n"))")
        #expect(taskLogs.count == 4 && taskLogs.allSatisfy { $0.contains("done: ") })
        let (_, report) = try CLI.run(["sweep", config, "--results", dir + "/slurm", "--status"])
        #expect(report.contains("4 runs in \(dir)/slurm/tiny: 4 done"), "\(report)")
        let local = try summarizedCSVs(dir + "/local"), slurm = try summarizedCSVs(dir + "/slurm")
        #expect(local.runs == slurm.runs)
        #expect(local.aggregate == slurm.aggregate)
        // everything done: nothing to submit
        let (_, nothing) = try CLI.run(["sweep", config, "--results", dir + "/slurm", "--executor", "slurm"])
        #expect(nothing.contains("nothing to submit"), "\(nothing)")
    }

    /// Preemption: Slurm's warning signal (sent here by hand, as `--signal=B:USR1@N` would before
    /// the time limit) makes the task checkpoint, exit 76 and requeue itself; the requeued task
    /// resumes and ends with the same model as a run that was never interrupted. 1,000 steps take
    /// ~18 s in a debug build on an idle machine; the signal follows the first checkpoint (step 100).
    @Test(.enabled(if: LocalSlurm.available, "Slurm cannot be installed or started here (Scripts/slurm-local says why)"))
    func warningSignalCheckpointsRequeuesAndResumesBitIdentically() throws {
        let dir = try temporaryFolder("sweep-preempt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try preemptConfig(in: dir, steps: 1000, extra: "[sweep]\nseeds = [0]")
        #expect(try CLI.run(["run", config, "--index", "0", "--results", dir + "/local"]).status == 0)
        let (submitted, text) = try CLI.run(["sweep", config, "--results", dir + "/slurm", "--executor", "slurm"])
        let job = try #require(text.components(separatedBy: "submitted job array ").last?.prefix { $0.isNumber }, "\(text)")
        #expect(submitted == 0 && !job.isEmpty, "\(text)")
        let checkpointed = waitUntil(seconds: 120) {
            runs(in: dir + "/slurm", experiment: "preempt", holding: "checkpoints").contains { name in
                !((try? FileManager.default.contentsOfDirectory(atPath: dir + "/slurm/preempt/\(name)/checkpoints")) ?? []).isEmpty
            }
        }
        #expect(checkpointed, "the task never wrote a checkpoint")
        #expect(system("scancel --batch --signal=USR1 \(job)_0") == 0)
        let done = waitUntil(seconds: 400) { runs(in: dir + "/slurm", experiment: "preempt", holding: "stages.json").count == 1 }
        let outputs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/slurm/preempt/slurm")) ?? []
        let log = outputs.filter { $0.hasSuffix(".out") }.compactMap { try? String(contentsOfFile: dir + "/slurm/preempt/slurm/" + $0, encoding: .utf8) }
            .joined(separator: "\n---\n")
        #expect(done, "the requeued task did not finish; output:\n\(log)")
        #expect(log.contains("stopped by SIGUSR1 after step") && log.contains("requeueing job"), "\(log)")
        let local = try #require(runs(in: dir + "/local", experiment: "preempt", holding: "model.safetensors").first)
        let slurm = try #require(runs(in: dir + "/slurm", experiment: "preempt", holding: "model.safetensors").first)
        #expect(local == slurm)
        #expect(FileManager.default.contents(atPath: dir + "/local/preempt/\(local)/model.safetensors")
                == FileManager.default.contents(atPath: dir + "/slurm/preempt/\(slurm)/model.safetensors"))
    }
}
