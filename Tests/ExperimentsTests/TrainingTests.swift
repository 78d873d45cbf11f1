import Experiments
import Datasets
import Foundation
import ImageIO
import Models
import NN
import TensorCore
import Testing

/// A tiny, fast experiment on built-in dSprites (MLP, batch 8).
func tinyConfig(kind: String = "beta-vae", steps: Int = 24, extra: String = "") -> String {
    """
    [experiment]
    name = "tiny"
    seed = 5
    [model]
    kind = "\(kind)"
    architecture = "mlp"
    hidden = [24]
    latents = 3
    [training]
    steps = \(steps)
    batch_size = 8
    learning_rate = 1e-3
    checkpoint_every = 6
    log_every = 2
    threads = 1
    \(extra)
    [evaluation]
    held_out = 32
    """
}

/// log.csv without its timing columns (images/s and elapsed time differ between runs).
func lossColumns(_ run: RunDirectory) throws -> [String] {
    try String(contentsOfFile: run.logPath, encoding: .utf8).split(separator: "\n").map {
        $0.split(separator: ",").dropLast(2).joined(separator: ",")
    }
}

@Suite struct TrainingTests {
    let dir = temporaryDirectory()

    func trainer(_ text: String, root: String) throws -> Trainer {
        try Trainer(config: ExperimentConfig.load(path: writeConfig(text, in: dir, name: "\(UUID()).toml")), resultsRoot: root)
    }

    /// Before 0.4.0 `lesions` meant today's `hard` grid: a run written then keeps its data when a
    /// stage loads it or training resumes; a new run gets the standard grid.
    @Test func aLesionRunFromBefore040KeepsTheHardGrid() throws {
        let t = try trainer(tinyConfig(steps: 6, extra: "").replacingOccurrences(of: "[model]", with: "[data]\ndataset = \"lesions\"\n[model]"),
                            root: dir + "/lesions")
        try t.train()
        #expect((try TrainedRun(path: t.run.path).dataset as? Lesions)?.variant == .standard)
        let info = try String(contentsOfFile: t.run.runInfoPath, encoding: .utf8)
        try info.replacingOccurrences(of: "\"untangle_version\" : \"\(untangleVersion)\"", with: "\"untangle_version\" : \"0.3.0\"")
            .write(toFile: t.run.runInfoPath, atomically: true, encoding: .utf8)
        #expect(t.run.writtenByVersion == "0.3.0")
        #expect((try TrainedRun(path: t.run.path).dataset as? Lesions)?.variant == .hard)
        let resumed = try Trainer(config: try t.run.loadConfig(), resultsRoot: dir + "/lesions")
        #expect((resumed.dataset as? Lesions)?.variant == .hard)
    }

    @Test func runDirectoryHoldsEverything() throws {
        let t = try trainer(tinyConfig(), root: dir + "/a")
        let metrics = try #require(try t.train())
        for path in [t.run.configPath, t.run.runInfoPath, t.run.logPath, t.run.modelPath, t.run.metricsPath] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        #expect(t.run.checkpointSteps() == [18, 24], "the newest keep_checkpoints = 2")
        #expect(try lossColumns(t.run).count == 1 + 12)
        #expect(metrics.klPerLatent.count == 3 && metrics.reconstruction > 0 && metrics.elbo < 0)
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: t.run.runInfoPath))) as! [String: Any]
        #expect(info["seed"] as? Int == 5 && (info["git_commit"] as? String)?.isEmpty == false)
        // The build that made the run: the test runner lives in this repository's .build, so its commit
        // is this checkout's HEAD, and the executable's digest is the SHA-256 of its bytes.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let head = try ChildProcess.run(["git", "rev-parse", "HEAD"], in: repository)
        if head.status == 0 {  // a checkout (not an exported tree)
            let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((info["git_commit"] as? String)?.hasPrefix(commit) == true, "\(info["git_commit"] ?? "none") vs \(commit)")
        }
        let executable = try #require(info["executable"] as? String)
        #expect(FileManager.default.fileExists(atPath: executable) && executable.contains("/.build/"))
        #expect(info["executable_sha256"] as? String == (try SHA256Hex.of(file: executable)))
        #expect(try SHA256Hex.of(file: executable) != (try SHA256Hex.of(file: t.run.configPath)))
        // The weights load as plain safetensors and match the model.
        let (tensors, _) = try Safetensors.read(t.run.modelPath)
        #expect(tensors["encoder.fc1.weight"] == t.model.parameters[0].value)
        // Written once: a second train refuses, keeping the finished run.
        #expect(throws: TrainingError.self) { try trainer(tinyConfig(), root: dir + "/a").train() }
        #expect(throws: TrainingError.self) { try trainer(tinyConfig(), root: dir + "/a").train(resume: true) }
        #expect(try trainer(tinyConfig(), root: dir + "/a").train(overwrite: true) == metrics)
    }

    @Test(arguments: ["beta-vae", "factor-vae", "ada-gvae"])
    func sameSeedGivesBitIdenticalRunsAndResumeMatchesAnUninterruptedRun(kind: String) throws {
        let extra = kind == "factor-vae" ? "discriminator_learning_rate = 1e-3" : ""
        let a = try trainer(tinyConfig(kind: kind, extra: extra), root: dir + "/x")
        let b = try trainer(tinyConfig(kind: kind, extra: extra), root: dir + "/y")
        try a.train()
        try b.train()
        #expect(try lossColumns(a.run) == lossColumns(b.run))
        #expect(FileManager.default.contents(atPath: a.run.modelPath) == FileManager.default.contents(atPath: b.run.modelPath))

        let c = try trainer(tinyConfig(kind: kind, extra: extra), root: dir + "/z")
        #expect(try c.train(stopAfter: 12) == nil)
        #expect(!c.run.isComplete && c.run.checkpointSteps().last == 12)
        let resumed = try trainer(tinyConfig(kind: kind, extra: extra), root: dir + "/z")
        try resumed.train(resume: true)
        #expect(try lossColumns(resumed.run) == lossColumns(a.run))
        #expect(FileManager.default.contents(atPath: resumed.run.modelPath) == FileManager.default.contents(atPath: a.run.modelPath))
        #expect(FileManager.default.contents(atPath: resumed.run.metricsPath) == FileManager.default.contents(atPath: a.run.metricsPath))
    }

    @Test func learningCurvesAreTheSameWithOrWithoutAResume() throws {
        let extra = "eval_every = 12\neval_points = 100"
        let a = try trainer(tinyConfig(kind: "ada-ml-vae", extra: extra), root: dir + "/curve-a")
        try a.train()
        let path = { (t: Trainer) in (t.run.path as NSString).appendingPathComponent(LearningCurve.fileName) }
        let points = try LearningCurve.read(path(a))
        #expect(points.map(\.step) == [0, 12, 24])
        #expect(points.map(\.imagesSeen) == [0, 192, 384], "pairs: 2 × batch 8 images a step")
        #expect(points.allSatisfy { $0.names.count == 3 && $0.values.count == LearningCurve.metricColumns.count })
        #expect(points.last!.trainSeconds > 0 && points.last!.trainCPUSeconds > 0 && points.allSatisfy { $0.evalSeconds > 0 })
        // The codes are kept: 100 training + 50 evaluation points, Z 3, and their 5 factor classes.
        let codes = try NPYArray.read((a.run.path as NSString).appendingPathComponent("curve/codes-00000012.npy"))
        let factors = try NPYArray.read((a.run.path as NSString).appendingPathComponent("curve/factors.npy"))
        #expect(codes.shape == [150, 3] && codes.dtype == .float32 && factors.shape == [150, 5] && factors.dtype == .int64)
        #expect(points[0].value("active_units") == 0 || points[0].value("active_units")! <= 3)

        // Rescoring from the kept codes with the same definitions gives the same rows; damaged codes are named.
        _ = try LearningCurve.rescore(run: a.run.path)
        #expect(try LearningCurve.read(path(a)) == points, "as written (6 significant digits)")
        let factorsPath = (a.run.path as NSString).appendingPathComponent("curve/factors.npy")
        let kept = try #require(FileManager.default.contents(atPath: factorsPath))
        try NPYArray(int64: [Int64](repeating: 99, count: 150 * 5), shape: [150, 5]).write(to: factorsPath)
        #expect { try LearningCurve.rescore(run: a.run.path) } throws: { "\($0)".contains(factorsPath) && "\($0)".contains("outside") }
        try kept.write(to: URL(fileURLWithPath: factorsPath))
        // summarize: the scores reached within 3, 10 and 30 minutes (a tiny run ends within all three: its last point).
        let written = try ExperimentSummary(directory: dir + "/curve-a/tiny").write(figures: false)
        let budgets = try String(contentsOfFile: try #require(written.first { $0.hasSuffix("budgets.csv") }), encoding: .utf8)
        let rows = budgets.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 4 && rows[0].prefix(6) == ["group", "budget_minutes", "n", "minutes", "images_seen", "mig.median"])
        #expect(rows.dropFirst().map { $0[1] } == ["3", "10", "30"] && rows.dropFirst().allSatisfy { $0[2] == "1" && $0[4] == "384" })
        #expect(Double(rows[1][5])! == points.last!.value("mig")!, "n = 1: the median is the run's last score")

        // The curve stage after training: a complete curve is reported and summarised; a gap is an error naming the file.
        let planPath = writeConfig(tinyConfig(kind: "ada-ml-vae", extra: extra), in: dir, name: "curve.toml")
        let plan = try ExperimentPlan.load(path: planPath)
        var lines: [String] = []
        try RunPipeline(config: plan.base, stages: plan.stages, resultsRoot: dir + "/curve-a").execute { lines.append($0) }
        #expect(lines.contains { $0.hasPrefix("curve: 3 points, MIG ") }, "\(lines)")
        let scalars = try CurveStage().scalars(a.run)
        #expect(scalars["curve.final.mig"] == points.last!.value("mig") && scalars["curve.best.mig"] == points.map { $0.value("mig")! }.max())
        let complete = try String(contentsOfFile: path(a), encoding: .utf8)
        try (complete.split(separator: "\n").enumerated().filter { $0.offset != 2 }.map { String($0.element) }.joined(separator: "\n") + "\n")
            .write(toFile: path(a), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: (a.run.path as NSString).appendingPathComponent("stages.json"))
        #expect { try RunPipeline(config: plan.base, stages: plan.stages, resultsRoot: dir + "/curve-a").execute() }
            throws: { "\($0)".contains(path(a)) && "\($0)".contains("missing 12") }
        try complete.write(toFile: path(a), atomically: true, encoding: .utf8)

        let b = try trainer(tinyConfig(kind: "ada-ml-vae", extra: extra), root: dir + "/curve-b")
        #expect(try b.train(stopAfter: 12) == nil)
        // A crash after a curve row whose checkpoint was lost: the row must not be kept twice.
        try (String(contentsOfFile: path(b), encoding: .utf8) + LearningCurve.line(points[2]) + "\n")
            .write(toFile: path(b), atomically: true, encoding: .utf8)
        try trainer(tinyConfig(kind: "ada-ml-vae", extra: extra), root: dir + "/curve-b").train(resume: true)
        let resumed = try LearningCurve.read(path(b))
        #expect(resumed.map(\.step) == points.map(\.step))
        #expect(resumed.map(\.values) == points.map(\.values) && resumed.map(\.names) == points.map(\.names))
        // Corrupt curves are named.
        try "step,nonsense\n".write(toFile: path(b), atomically: true, encoding: .utf8)
        #expect { try LearningCurve.read(path(b)) } throws: { "\($0)".contains(path(b)) && "\($0)".contains("line 1") }
    }

    @Test func pairObjectivesNeedAFactorGrid() throws {
        let folder = dir + "/folder"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for k in 0..<4 {
            try PNGFile.write(RasterImage(tensor: Tensor(repeating: Float(k) / 4, shape: [1, 8, 8])), to: folder + "/\(k).png")
        }
        let text = tinyConfig(kind: "ada-gvae").replacingOccurrences(of: "[model]", with: "[data]\ndataset = \"images:\(folder)\"\n[model]")
        #expect { try trainer(text, root: dir + "/pairs") } throws: { "\($0)".contains("no factor grid to draw pairs from") }
        #expect { try trainer(tinyConfig(kind: "ada-gvae", extra: "").replacingOccurrences(of: "latents = 3", with: "latents = 3\nchanged_factors = 9"), root: dir + "/pairs") }
            throws: { "\($0)".contains("model.changed_factors") && "\($0)".contains("5 factors") }
    }

    @Test func divergenceStopsWithAMessageAndKeepsTheLastGoodCheckpoint() throws {
        let t = try trainer(tinyConfig(steps: 50).replacingOccurrences(of: "learning_rate = 1e-3", with: "learning_rate = 1e30")
            .replacingOccurrences(of: "checkpoint_every = 6\nlog_every = 2", with: "checkpoint_every = 1\nlog_every = 1"), root: dir + "/nan")
        do {
            try t.train()
            Issue.record("expected divergence")
        } catch let error as TrainingError {
            #expect(error.description.contains("training diverged at step"))
            #expect(error.description.contains("last good checkpoint"))
        }
        #expect(!t.run.isComplete)
        let kept = try #require(t.run.checkpointSteps().last)
        let (tensors, _) = try Safetensors.read(t.run.checkpointPath(step: kept))
        #expect(tensors.values.allSatisfy { !$0.hasNonFinite })
    }

    @Test func corruptOrMismatchedCheckpointsAreRejectedNamingTheTensor() throws {
        let t = try trainer(tinyConfig(steps: 10), root: dir + "/bad")
        try t.train(stopAfter: 6)
        let path = t.run.checkpointPath(step: 6)
        let good = try #require(FileManager.default.contents(atPath: path))
        func expectRejected(_ bytes: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                try trainer(tinyConfig(steps: 10), root: dir + "/bad").train(resume: true)
                Issue.record("expected rejection containing \(fragment)", sourceLocation: sourceLocation)
            } catch let error as Safetensors.FormatError {
                #expect(error.description.contains(path) && error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
            }
        }
        try expectRejected(good.prefix(good.count - 100), "truncated")
        try expectRejected(good.prefix(4), "truncated")
        var badHeader = good
        badHeader.replaceSubrange(8..<12, with: Data("XXXX".utf8))
        try expectRejected(badHeader, "header is not a JSON object")
        // A checkpoint whose tensor has the wrong shape.
        var (tensors, metadata) = try Safetensors.read(writeTemp(good))
        tensors["decoder.fc1.weight"] = Tensor.zeros([2, 2])
        try expectRejected(Safetensors.serialize(tensors, metadata: metadata), "tensor 'decoder.fc1.weight' has shape [2, 2]")
        tensors.removeValue(forKey: "decoder.fc1.weight")
        try expectRejected(Safetensors.serialize(tensors, metadata: metadata), "tensor 'decoder.fc1.weight' is missing")
        metadata["run_id"] = "000000000000"
        try expectRejected(Safetensors.serialize(try Safetensors.read(writeTemp(good)).tensors, metadata: metadata), "belongs to run")
    }

    func writeTemp(_ data: Data) -> String {
        let path = dir + "/\(UUID()).safetensors"
        try! data.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func reconstructionsAreWritten() throws {
        let t = try trainer(tinyConfig(steps: 6), root: dir + "/rec")
        try t.train()
        let trained = try TrainedRun(path: t.run.path)
        let png = try trained.writeReconstructions(count: 4)
        #expect(FileManager.default.fileExists(atPath: png))
        #expect(trained.encodeMeans(trained.heldOutImages(5)).shape == [5, 3])
    }
}
