import Experiments
import Foundation
import Models
import Testing

func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-\(UUID())").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func writeConfig(_ text: String, in directory: String, name: String = "config.toml") -> String {
    let path = (directory as NSString).appendingPathComponent(name)
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Expects a `ConfigError` containing every fragment.
func expectConfigError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a ConfigError containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as ConfigError {
        for f in fragments { #expect(error.description.contains(f), "'\(error)' lacks '\(f)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct ConfigTests {
    let dir = temporaryDirectory()

    @Test func parsesDefaultsAndOverrides() throws {
        let path = writeConfig("""
        [experiment]
        name = "study"
        seed = 3
        [model]
        kind = "dip-vae-1"
        lambda_od = 2
        architecture = "mlp"
        hidden = [32, 16]
        [training]
        steps = 100
        """, in: dir)
        let c = try ExperimentConfig.load(path: path, overrides: ["training.learning_rate=3e-4", "model.latents=6", "data.dataset=lesions"])
        #expect(c.name == "study" && c.seed == 3 && c.steps == 100 && c.latentCount == 6 && c.dataset == "lesions")
        #expect(c.objective.kind == .dipVAE1 && c.objective.lambdaOffDiagonal == 2 && c.objective.lambdaDiagonal == 20)
        #expect(c.architecture == .mlp(hidden: [32, 16]) && c.learningRate == 3e-4 && c.batchSize == 64)
    }

    @Test func resolvedConfigRoundTripsWithTheSameRunID() throws {
        let path = writeConfig("[experiment]\nname = \"a\"\n[model]\nkind = \"factor-vae\"\n", in: dir)
        let c = try ExperimentConfig.load(path: path)
        let again = try ExperimentConfig(ConfigValue.parseTOML(c.resolvedTOML, source: "resolved"), source: "resolved")
        #expect(again == c && again.runID == c.runID)
        #expect(c.resolvedTOML.contains("learning_rate = 0.0001") && c.resolvedTOML.contains("beta1 = 0.9\n"))
        let other = try ExperimentConfig.load(path: path, overrides: ["model.gamma=20"])
        #expect(other.runID != c.runID && c.runID.count == 12)
    }

    @Test func weakSupervisionAndCurveKeys() throws {
        let path = writeConfig("[experiment]\nname = \"a\"\n[model]\nkind = \"ada-gvae\"\nchanged_factors = \"random\"\n[training]\neval_every = 50\n", in: dir, name: "weak.toml")
        let c = try ExperimentConfig.load(path: path)
        #expect(c.objective.kind == .adaGVAE && c.objective.beta == 1 && c.changedFactors == .random && c.imagesPerStep == 128)
        #expect(c.evalEvery == 50 && c.evalPoints == 2000)
        let again = try ExperimentConfig(ConfigValue.parseTOML(c.resolvedTOML, source: "resolved"), source: "resolved")
        #expect(again == c && again.runID == c.runID)
        #expect(try ExperimentConfig.load(path: path, overrides: ["model.changed_factors=2"]).changedFactors == .fixed(2))
        // Keys that are off leave the resolved config, and so the run ids of older configs, as they were.
        let plain = try ExperimentConfig.load(path: writeConfig("[experiment]\nname = \"a\"\n", in: dir, name: "plain.toml"))
        #expect(!plain.resolvedTOML.contains("eval_every") && !plain.resolvedTOML.contains("changed_factors"))
        let zero = writeConfig("[experiment]\nname = \"a\"\n[model]\nkind = \"ada-gvae\"\nchanged_factors = 0\n", in: dir, name: "zero.toml")
        expectConfigError("zero.toml", "model.changed_factors: expected an integer ≥ 1 or \"random\"") { _ = try ExperimentConfig.load(path: zero) }
        let unsupervised = writeConfig("[experiment]\nname = \"a\"\n[model]\nchanged_factors = 1\n", in: dir, name: "unsup.toml")
        expectConfigError("unsup.toml", "applies only to the weakly supervised kinds") { _ = try ExperimentConfig.load(path: unsupervised) }
    }

    @Test func rejectsBadConfigsNamingFileAndKey() {
        let bad = writeConfig("[experiment]\nname = \"a\"\n[model]\nbta = 4\n", in: dir, name: "typo.toml")
        expectConfigError("typo.toml", "unknown key model.bta") { _ = try ExperimentConfig.load(path: bad) }
        let type = writeConfig("[experiment]\nname = \"a\"\n[training]\nsteps = \"many\"\n", in: dir, name: "type.toml")
        expectConfigError("type.toml", "training.steps: expected an integer") { _ = try ExperimentConfig.load(path: type) }
        let syntax = writeConfig("[experiment\nname = 1\n", in: dir, name: "syntax.toml")
        expectConfigError("syntax.toml", "line 1") { _ = try ExperimentConfig.load(path: syntax) }
        let kind = writeConfig("[experiment]\nname = \"a\"\n[model]\nkind = \"gan\"\n", in: dir, name: "kind.toml")
        expectConfigError("model.kind: 'gan'") { _ = try ExperimentConfig.load(path: kind) }
        let range = writeConfig("[experiment]\nname = \"a\"\n[training]\nbeta2 = 1.0\n", in: dir, name: "range.toml")
        expectConfigError("training.beta2: must be < 1.0") { _ = try ExperimentConfig.load(path: range) }
        let misaligned = writeConfig("[experiment]\nname = \"a\"\n[training]\ncheckpoint_every = 5\nlog_every = 2\n", in: dir, name: "align.toml")
        expectConfigError("must be a multiple of training.log_every") { _ = try ExperimentConfig.load(path: misaligned) }
        let escape = writeConfig("[experiment]\nname = \"..\"\n", in: dir, name: "escape.toml")
        expectConfigError("escape.toml", "not start with '.'") { _ = try ExperimentConfig.load(path: escape) }
        let huge = writeConfig("[experiment]\nname = \"a\"\n[training]\nlearning_rate = 1e300\n", in: dir, name: "huge.toml")
        expectConfigError("huge.toml", "training.learning_rate: must be a finite 32-bit float") { _ = try ExperimentConfig.load(path: huge) }
        expectConfigError("experiment.name is required") {
            _ = try ExperimentConfig.load(path: writeConfig("[model]\nlatents = 3\n", in: dir, name: "noname.toml"))
        }
        expectConfigError("no such config file") { _ = try ExperimentConfig.load(path: dir + "/missing.toml") }
        // A file far larger than any config (a data file passed by mistake) is refused before it is
        // read, not parsed at ~6 bytes of memory per byte; a directory is named as one.
        let oversized = writeConfig("# " + String(repeating: "x", count: 2 << 20) + "\n", in: dir, name: "oversized.toml")
        expectConfigError("oversized.toml", "is 2.0 MiB, more than the 1.0 MiB allowed") { _ = try ExperimentConfig.load(path: oversized) }
        expectConfigError(dir, "is a directory") { _ = try ExperimentConfig.load(path: dir) }
        let ok = writeConfig("[experiment]\nname = \"a\"\n", in: dir, name: "ok.toml")
        expectConfigError("--set steps", "section.key") { _ = try ExperimentConfig.load(path: ok, overrides: ["steps=3"]) }
        expectConfigError("unknown section [sweeps]") { _ = try ExperimentConfig.load(path: ok, overrides: ["sweeps.seeds=3"]) }
        // training one config still validates the file's sweep and Slurm sections
        expectConfigError("sweep.seeds: expected a non-empty array") { _ = try ExperimentConfig.load(path: ok, overrides: ["sweep.seeds=3"]) }
        expectConfigError("slurm.memory: expected a string") { _ = try ExperimentConfig.load(path: ok, overrides: ["slurm.memory=3"]) }
    }
}
