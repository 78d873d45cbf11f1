import Foundation
import Testing

/// A config (experiment `preempt`) for a small MLP run that takes a few seconds per thousand
/// steps, checkpointing every 100 steps; `extra` is appended (e.g. a [sweep] section).
func preemptConfig(in dir: String, steps: Int, extra: String = "") throws -> String {
    let path = dir + "/preempt-\(steps).toml"
    try """
    [experiment]
    name = "preempt"
    [model]
    architecture = "mlp"
    hidden = [32]
    latents = 3
    [training]
    steps = \(steps)
    batch_size = 16
    threads = 1
    checkpoint_every = 100
    log_every = 20
    [evaluation]
    held_out = 16
    \(extra)
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// What a user sees when a run is interrupted, busy, unfinished or asked twice — through the binary.
@Suite struct TrustCLITests {
    func config(in dir: String, steps: Int) throws -> String { try preemptConfig(in: dir, steps: steps) }


    /// Starts `untangle` with `arguments`; the caller waits for it.
    func start(_ arguments: [String], output: String, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func onlyRun(in root: String) throws -> String {
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: root + "/preempt").first)
        return root + "/preempt/" + name
    }

    /// The run directory under `root/preempt` once the training process has made it, else nil —
    /// for polling loops, where `onlyRun`'s `#require` would record a failure for every look
    /// taken between the experiment folder appearing and its run folder appearing.
    func runOnceMade(in root: String) -> String? {
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: root + "/preempt"))?.first else { return nil }
        return root + "/preempt/" + name
    }

    @Test(arguments: ["SIGTERM", "SIGUSR1"])
    func aSignalCheckpointsStopsWith76AndTheResumeIsBitIdentical(signalName: String) throws {
        let dir = try temporaryFolder("preempt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let steps = 800
        let path = try config(in: dir, steps: steps)
        // The uninterrupted reference.
        #expect(try CLI.run(["train", "--config", path, "--results", dir + "/whole"]).status == 0)
        // The same run, stopped by a signal soon after its first checkpoint, then resumed.
        let log = dir + "/stopped.log"
        let process = try start(["train", "--config", path, "--results", dir + "/stopped"], output: log)
        let deadline = Date().addingTimeInterval(120)
        var run: String?
        while Date() < deadline, process.isRunning {
            if let r = runOnceMade(in: dir + "/stopped"),
               (try? FileManager.default.contentsOfDirectory(atPath: r + "/checkpoints"))?.isEmpty == false { run = r; break }
            usleep(5_000)
        }
        let stopped = try #require(run, "no checkpoint appeared: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self))")
        kill(process.processIdentifier, signalName == "SIGTERM" ? SIGTERM : SIGUSR1)
        process.waitUntilExit()
        let output = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        // 800 steps take ~14 s (debug build, idle machine) and the signal comes right after the first
        // checkpoint (step 100): a run that finishes anyway has ignored it.
        #expect(process.terminationStatus == 76, "\(output)")
        #expect(output.contains("stopped by \(signalName) after step"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: stopped + "/metrics.json"))
        let (resumed, resumedOutput) = try CLI.run(["train", "--config", path, "--results", dir + "/stopped", "--resume"])
        #expect(resumed == 0, "\(resumedOutput)")
        let whole = try onlyRun(in: dir + "/whole")
        #expect(FileManager.default.contents(atPath: whole + "/model.safetensors") == FileManager.default.contents(atPath: stopped + "/model.safetensors"))
        let losses = { (run: String) in
            try String(contentsOfFile: run + "/log.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").dropLast(2) }
        }
        #expect(try losses(whole) == losses(stopped), "log.csv differs after a stop between log rows")
    }

    @Test func stagesOnARunAnotherProcessTrainsExit75NamingIt() throws {
        let dir = try temporaryFolder("busy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try config(in: dir, steps: 200_000)
        let process = try start(["train", "--config", path, "--results", dir], output: dir + "/train.log")
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var run: String?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, run == nil {
            if let r = runOnceMade(in: dir), FileManager.default.fileExists(atPath: r + "/log.csv") { run = r }
            usleep(10_000)
        }
        let busy = try #require(run)
        for command in [["evaluate", busy], ["probe", busy], ["report", busy], ["traverse", busy, "--allow-unfinished"],
                        ["train", "--config", path, "--results", dir, "--resume"]] {
            let (status, output) = try CLI.run(command)
            #expect(status == 75, "\(command): \(output)")
            #expect(output.contains("pid \(process.processIdentifier)") && output.contains("train"), "\(command): \(output)")
        }
    }

    @Test func aLazyFolderEmptiedMidRunStopsWith65AndARecordOfTheFailure() throws {
        let dir = try temporaryFolder("lazy-stop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 200 64×64 PNGs (2.4 MiB counted as RGB): read lazily under a 16 MiB budget (an eighth: 2 MiB).
        let (made, madeOutput) = try CLI.run(["data", "show", "dsprites", "--count", "200", "--output", dir + "/data"])
        #expect(made == 0, "\(madeOutput)")
        let images = dir + "/data/dsprites-samples"
        let path = try preemptConfig(in: dir, steps: 200_000, extra: "[data]\ndataset = \"images:\(images)\"")
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "log_every = 20", with: "log_every = 20\neval_points = 100")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let log = dir + "/run.log"
        let process = try start(["run", path, "--results", dir + "/results"], output: log, environment: ["UNTANGLE_MEMORY_BUDGET": "16M"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var run: String?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, run == nil, process.isRunning {
            if let r = runOnceMade(in: dir + "/results"),
               ((try? FileManager.default.contentsOfDirectory(atPath: r + "/checkpoints")) ?? []).contains(where: { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }) {
                run = r
            }
            usleep(10_000)
        }
        let training = try #require(run, "no checkpoint appeared: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self))")
        for file in try FileManager.default.contentsOfDirectory(atPath: images) { try FileManager.default.removeItem(atPath: images + "/" + file) }
        let stopBy = Date().addingTimeInterval(60)
        while process.isRunning, Date() < stopBy { usleep(10_000) }
        #expect(!process.isRunning, "still training after its images were removed")
        guard !process.isRunning else { return }
        let output = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        #expect(process.terminationStatus == 65, "\(output)")
        #expect(output.contains("became unreadable after the folder was opened") && output.contains(images), "\(output)")
        // The run says why it stopped, in which stage, and its checkpoints are still there.
        let record = String(decoding: FileManager.default.contents(atPath: training + "/failed.json") ?? Data(), as: UTF8.self)
        #expect(record.contains("\"stage\" : \"train\"") && record.contains("the image folder changed while the run read it")
                && record.contains(images), "\(record)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: training + "/checkpoints")) ?? []).contains { $0.hasSuffix(".safetensors") })
    }

    @Test func unfinishedRunsAreRefusedWithTheWayToFinishThem() throws {
        let dir = try temporaryFolder("unfinished")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try config(in: dir, steps: 100_000)
        let process = try start(["train", "--config", path, "--results", dir], output: dir + "/train.log")
        var run: String?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, run == nil {
            // A finished checkpoint, not the temporary of one being written (killed mid-write, that
            // temporary is removed as debris by the next command, leaving no checkpoint at all).
            if let r = runOnceMade(in: dir),
               ((try? FileManager.default.contentsOfDirectory(atPath: r + "/checkpoints")) ?? []).contains(where: { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }) {
                run = r
            }
            usleep(10_000)
        }
        kill(process.processIdentifier, SIGKILL) // as a crash or an OOM kill would
        process.waitUntilExit()
        let unfinished = try #require(run)
        let (status, output) = try CLI.run(["evaluate", unfinished, "--metrics", "mig"])
        #expect(status == 1 && output.contains("training has not finished") && output.contains("--resume") && !output.contains("USAGE"), "\(output)")
        let (look, lookOutput) = try CLI.run(["traverse", unfinished, "--allow-unfinished", "--steps", "3"])
        #expect(look == 0, "\(lookOutput)")
    }

    @Test func askingTwiceOrForZeroThreadsIsAClearErrorWithoutUsage() throws {
        let (dir, run) = try CLI.tinyRun("twice", steps: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CLI.run(["evaluate", run, "--metrics", "mig", "--train", "100", "--eval", "50"]).status == 0)
        let (again, message) = try CLI.run(["evaluate", run, "--metrics", "mig"])
        #expect(again == 1 && message.contains("--overwrite") && !message.contains("USAGE"), "\(message)")
        for command in ["report", "traverse", "probe", "evaluate"] {
            let (status, output) = try CLI.run([command, run, "--threads", "0"])
            #expect(status == 64 && output.contains("--threads must be positive"), "\(command): \(output)")
        }
    }
}
