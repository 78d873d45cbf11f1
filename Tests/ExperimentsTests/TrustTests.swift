import Datasets
@testable import Experiments
import Foundation
import Models
import NN
import TensorCore
import Testing

/// The trust boundary of run directories and configs: sizes refused before they allocate,
/// unfinished runs refused by the stages, damaged side files named, leftovers cleaned.
@Suite struct TrustTests {
    let dir = temporaryDirectory()

    func trainer(_ text: String, root: String) throws -> Trainer {
        try Trainer(config: ExperimentConfig.load(path: writeConfig(text, in: dir, name: "\(UUID()).toml")), resultsRoot: root)
    }

    @Test func configSizesThatCannotFitAreRefusedWhenTheConfigLoads() {
        let base = "[experiment]\nname = \"big\"\n"
        expectConfigError("model.latents = 100000000", "memory budget") {
            _ = try ExperimentConfig.load(path: writeConfig(base + "[model]\nlatents = 100000000\n", in: dir, name: "z.toml"))
        }
        expectConfigError("training.batch_size = 100000000", "memory budget") {
            _ = try ExperimentConfig.load(path: writeConfig(base + "[training]\nbatch_size = 100000000\n", in: dir, name: "b.toml"))
        }
        expectConfigError("model.hidden", "memory budget") {
            _ = try ExperimentConfig.load(path: writeConfig(base + "[model]\narchitecture = \"mlp\"\nhidden = [2000000000]\n", in: dir, name: "h.toml"))
        }
        expectConfigError("evaluation.held_out = 1000000000000", "memory budget") {
            _ = try ExperimentConfig.load(path: writeConfig(base + "[evaluation]\nheld_out = 1000000000000\n", in: dir, name: "e.toml"))
        }
        // The data set is parsed when the config loads, so a sweep's --dry-run already refuses a typo.
        expectConfigError("data.dataset", "dsprite") {
            _ = try ExperimentConfig.load(path: writeConfig(base + "[data]\ndataset = \"dsprite\"\n", in: dir, name: "d.toml"))
        }
        // The defaults and the study configs fit comfortably.
        #expect(throws: Never.self) { _ = try ExperimentConfig.load(path: writeConfig(base, in: dir, name: "ok.toml")) }
    }

    @Test func trainingEstimateCountsTheDlibModel() throws {
        // The dlib conv VAE, Z 10, 1×64×64: 4 conv + 3 FC encoder layers, 2 FC + 4 deconv decoder layers.
        let p = try #require(Models.Architecture.conv.parameterCount(imageShape: [1, 64, 64], latentCount: 10))
        #expect(p == 1 * 16 * 32 + 32 + 32 * 16 * 32 + 32 + 32 * 4 * 64 + 64 + 64 * 4 * 64 + 64 + 1024 * 256 + 256 + 2 * (256 * 10 + 10)
                + 10 * 256 + 256 + 256 * 1024 + 1024 + 64 * 16 * 64 + 64 + 64 * 16 * 32 + 32 + 32 * 16 * 32 + 32 + 32 * 16 * 1 + 1)
        #expect(Models.Architecture.conv.parameterCount(imageShape: [1, 64, 64], latentCount: Int.max / 2) == nil)
    }

    @Test func stagesRefuseAnUnfinishedRunUnlessAskedAndSayHowToFinishIt() throws {
        let t = try trainer(tinyConfig(), root: dir + "/unfinished")
        #expect(try t.train(stopAfter: 12) == nil)
        do {
            _ = try TrainedRun(path: t.run.path)
            Issue.record("an unfinished run was opened as if finished")
        } catch let error as UnfinishedRun {
            #expect(error.description.contains("step 12 of 24") && error.description.contains("--resume")
                    && error.description.contains("--allow-unfinished"), "\(error)")
        }
        do {
            let look = try TrainedRun(path: t.run.path, allowUnfinished: true)
            #expect(look.model.parameters.count > 0)
        }
        // A finished run's record without its weights says so (not "no metrics.json").
        #expect(try t.train(resume: true) != nil)
        try FileManager.default.removeItem(atPath: t.run.modelPath)
        do {
            _ = try TrainedRun(path: t.run.path)
            Issue.record("a run without weights was opened")
        } catch let error as UnfinishedRun {
            #expect(error.description.contains("model.safetensors, are missing") && !error.description.contains("no metrics.json")
                    && error.description.contains("--allow-unfinished to use its checkpoint of step 24"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: t.run.checkpointsPath)
        do {
            _ = try TrainedRun(path: t.run.path)
            Issue.record("a run without weights was opened")
        } catch let error as UnfinishedRun {
            #expect(error.description.contains("model.safetensors, are missing") && !error.description.contains("--allow-unfinished"), "\(error)")
        }
    }

    /// The `--results` an unfinished run's message suggests, for every way a user can name the run:
    /// `r` and `.` (which crashed the message before: Foundation traps on a path without a slash).
    @Test func theSuggestedResultsRootForRelativeAndAbsoluteRunPaths() {
        let cwd = "/home/u/Results/exp"
        #expect(UnfinishedRun.resultsRoot(ofRun: "r", workingDirectory: cwd) == "/home/u/Results")
        #expect(UnfinishedRun.resultsRoot(ofRun: "r/", workingDirectory: cwd) == "/home/u/Results")
        #expect(UnfinishedRun.resultsRoot(ofRun: ".", workingDirectory: cwd + "/r") == "/home/u/Results")
        #expect(UnfinishedRun.resultsRoot(ofRun: "Results/exp/r", workingDirectory: "/home/u") == "Results")
        #expect(UnfinishedRun.resultsRoot(ofRun: "exp/r", workingDirectory: "/home/u/Results") == ".")
        #expect(UnfinishedRun.resultsRoot(ofRun: "../exp/r", workingDirectory: cwd) == "/home/u/Results")
        #expect(UnfinishedRun.resultsRoot(ofRun: "/data/runs/exp/r", workingDirectory: cwd) == "/data/runs")
        #expect(UnfinishedRun.resultsRoot(ofRun: "/exp/r", workingDirectory: cwd) == "/")
    }

    /// A weakly supervised objective on a factor grid where pairs cannot differ as asked is refused
    /// when the trainer opens the data, naming the key (it was a precondition crash when no factor
    /// had a second class).
    @Test func pairObjectivesOnAGridWithoutEnoughVaryingFactorsAreRefused() throws {
        struct Flat: GroundTruthDataset {
            let factors: [Factor]
            var name: String { "flat" }
            var imageShape: [Int] { [1, 4, 4] }
            var count: Int { gridSize }
            func render(_ index: Int, into out: UnsafeMutablePointer<Float>) { out.update(repeating: 0, count: 16) }
        }
        let config = { (extra: String) in try ExperimentConfig.load(path: writeConfig(tinyConfig(kind: "ada-gvae").replacingOccurrences(of: "latents = 3", with: "latents = 3\n" + extra), in: dir, name: "\(UUID()).toml")) }
        let none = Flat(factors: [Factor(name: "a", values: [0]), Factor(name: "b", values: [1])])
        expectConfigError("model.kind", "no factor of") { _ = try Trainer(config: config(""), resultsRoot: dir + "/flat", dataset: none) }
        let one = Flat(factors: [Factor(name: "a", values: [0, 1]), Factor(name: "b", values: [1])])
        expectConfigError("model.changed_factors", "2 factors cannot differ", "has 1 factor with more than one class") {
            _ = try Trainer(config: config("changed_factors = 2"), resultsRoot: dir + "/flat", dataset: one)
        }
        #expect(throws: Never.self) { _ = try Trainer(config: config("changed_factors = 1"), resultsRoot: dir + "/flat", dataset: one) }
    }

    /// Counts given on the command line are checked against the memory budget before anything is
    /// allocated (`evaluate --batch 1000000000` aborted on a failed allocation; `--points`, `--count`,
    /// `--steps`, `--train` grew until the machine swapped); counts that fit still run.
    @Test func countsBeyondTheMemoryBudgetAreRefusedNamingTheOption() throws {
        let t = try trainer(tinyConfig(steps: 6), root: dir + "/counts")
        #expect(try t.train() != nil)
        let trained = try TrainedRun(path: t.run.path)
        let huge = 1 << 40
        expectConfigError("--points \(huge)", "memory budget") { _ = try trained.probe(points: huge) }
        expectConfigError("--train \(huge)", "memory budget") { _ = try trained.evaluate([], trainCount: huge) }
        expectConfigError("--eval \(huge)", "memory budget") { _ = try trained.evaluate([], evalCount: huge) }
        expectConfigError("--batch \(huge)", "memory budget") { _ = try trained.evaluate([], batchSize: huge) }
        expectConfigError("--count \(huge)", "memory budget") { _ = try trained.writeReconstructions(count: huge) }
        expectConfigError("--steps \(huge)", "memory budget") { _ = try trained.writeTraversals(steps: huge) }
        expectConfigError("--train \(huge)", "memory budget") { _ = try trained.classify(trainCount: huge) }
        expectConfigError("--count \(Int.max)", "memory budget") { _ = try trained.writeReconstructions(count: Int.max) } // overflow
        #expect(throws: Never.self) { _ = try trained.writeReconstructions(count: 3) }
    }

    @Test func leftoversOfInterruptedWritesAreRemovedOnTheNextStart() throws {
        let t = try trainer(tinyConfig(), root: dir + "/leftovers")
        #expect(try t.train(stopAfter: 12) == nil)
        // What a kill -9 during a checkpoint write leaves (pid 2^22 + 1 is above Linux's pid_max default).
        let stale = [t.run.checkpointsPath + "/.step-00000018.safetensors.tmp-4194305", t.run.path + "/.index.html.tmp-4194305"]
        for path in stale { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path)) }
        try trainer(tinyConfig(), root: dir + "/leftovers").train(resume: true)
        for path in stale { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind") }
    }

    @Test func aCheckpointWithFlippedBitsIsNotResumedFrom() throws {
        let t = try trainer(tinyConfig(), root: dir + "/flipped")
        #expect(try t.train(stopAfter: 12) == nil)
        let path = t.run.checkpointPath(step: 12)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 100] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            try trainer(tinyConfig(), root: dir + "/flipped").train(resume: true)
            Issue.record("a damaged checkpoint was resumed from")
        } catch let error as Safetensors.FormatError {
            #expect(error.path == path && error.description.contains("the checkpoint of step 6 is also there: remove this one"), "\(error)")
        }
        #expect(!t.run.isComplete)
        // Removed, the run resumes from the older checkpoint and finishes.
        try FileManager.default.removeItem(atPath: path)
        #expect(try trainer(tinyConfig(), root: dir + "/flipped").train(resume: true) != nil)
    }

    @Test func damagedSideFilesAreNamedNotIgnored() throws {
        let t = try trainer(tinyConfig(), root: dir + "/side")
        try t.train()
        let trained = try TrainedRun(path: t.run.path)
        try "{ not json".write(toFile: t.run.path + "/factors.json", atomically: true, encoding: .utf8)
        expectConfigError("factors.json") { _ = try trained.latentNames() }
        try FileManager.default.removeItem(atPath: t.run.path + "/factors.json")
        try "[1, 2".write(toFile: t.run.path + "/evaluation.json", atomically: true, encoding: .utf8)
        #expect(try RunDirectory(existing: t.run.path).jsonObject("metrics.json") != nil)
        expectConfigError("evaluation.json", "not a JSON object") { _ = try RunDirectory(existing: t.run.path).jsonObject("evaluation.json") }
    }

    @Test func slurmScriptIsValidBashWithPreemptionHandling() throws {
        let path = writeConfig(tinyConfig() + "\n[sweep]\nseeds = [0, 1]\n[slurm]\nwarning_seconds = 120\n", in: dir, name: "slurm.toml")
        let executor = SweepExecutor(plan: try ExperimentPlan.load(path: path), resultsRoot: dir + "/slurm", executable: "/opt/untangle")
        let (script, _) = try #require(try executor.slurmScript(snapshot: try executor.snapshot()))
        #expect(script.contains("#SBATCH --signal=B:USR1@120") && script.contains("#SBATCH --requeue"))
        let file = dir + "/check.sbatch"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", file]
        try bash.run()
        bash.waitUntilExit()
        #expect(bash.terminationStatus == 0, "bash -n rejects the job script:\n\(script)")
    }

    @Test func firstProgressLineHasAFiniteETA() throws {
        let t = try trainer(tinyConfig(steps: 30), root: dir + "/eta")
        var first: Double?
        try t.train { u in if first == nil { first = u.secondsRemaining } }
        let eta = try #require(first)
        #expect(eta.isFinite && eta < 3600, "first ETA \(eta) s")
    }
}
