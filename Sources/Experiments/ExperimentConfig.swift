import Datasets
import Foundation
import Models
import TensorCore

/// A training experiment, as written in `Experiments/<name>.toml`.
///
/// ```toml
/// [experiment]
/// name = "quickstart"          # run directories go to Results/<name>/<run-id>/
/// seed = 0
///
/// [data]
/// dataset = "dsprites"         # any DatasetSpec: dsprites, dsprites:FILE.npz, lesions, images:DIR
///
/// [model]
/// kind = "beta-vae"            # beta-vae | annealed-vae | factor-vae | dip-vae-1 | dip-vae-2 | beta-tcvae
///                              # | ada-gvae | ada-ml-vae (weakly supervised: pairs of images)
/// architecture = "conv"        # conv (dlib, 64×64) | mlp
/// hidden = [1200, 1200]        # mlp widths
/// latents = 10
/// beta = 4.0                   # β-VAE (4), β-TCVAE (6), Ada-GVAE / Ada-ML-VAE (1)
/// changed_factors = 1          # Ada-*: factors that differ within a pair, an integer k or "random"
/// capacity_max = 25.0          # AnnealedVAE Cmax (nats), reached after capacity_steps
/// capacity_steps = 100000
/// gamma = 1000.0               # AnnealedVAE γ (default 1000); FactorVAE γ (default 10)
/// lambda_od = 10.0             # DIP-VAE λod; lambda_d defaults to 10·λod (I) or λod (II)
///
/// [training]
/// steps = 300000
/// batch_size = 64              # images; pairs for Ada-GVAE / Ada-ML-VAE (2 × 64 images a step)
/// learning_rate = 1e-4         # Adam β1 0.9, β2 0.999, ε 1e-8 (beta1, beta2, epsilon)
/// threads = 2
/// checkpoint_every = 1000      # keep_checkpoints = 2 most recent
/// log_every = 1                # log.csv rows: means over this many steps
/// discriminator_learning_rate = 1e-4   # FactorVAE (β1 0.5, β2 0.9)
/// eval_every = 0               # > 0: score the model every N steps into curve.csv (learning curves)
/// eval_points = 2000           # ground-truth points each curve evaluation encodes
///
/// [evaluation]
/// held_out = 1024              # images of the final ELBO's fresh draw in metrics.json (no train/test split)
/// ```
/// Every key is optional except `experiment.name`; unknown keys are errors. These keys
/// define the run (its id); the stage settings (`evaluation.metrics`, `[explanation]`),
/// `[slurm]` and `[sweep]` are read by ``ExperimentPlan`` and do not change the id.
public struct ExperimentConfig: Equatable, Sendable {
    /// `experiment.name`: the directory under `Results/`.
    public var name: String
    /// `experiment.description`: free text (not part of the run id).
    public var description: String = ""
    /// `experiment.seed`: initialisation, data order, noise.
    public var seed: UInt64 = 0
    /// `data.dataset`: a `DatasetSpec` string.
    public var dataset: String = "dsprites"
    /// `model.architecture` (+ `model.hidden` for mlp).
    public var architecture: Architecture = .conv
    /// `model.latents`: Z.
    public var latentCount: Int = 10
    /// `model.kind` and its hyperparameters.
    public var objective = ObjectiveSettings(kind: .betaVAE)
    /// `model.changed_factors`: how many factors differ within a training pair (weakly supervised kinds only).
    public var changedFactors: ChangedFactors = .fixed(1)
    /// `training.steps` and `training.batch_size`.
    public var steps: Int = 300_000, batchSize: Int = 64
    /// `training.learning_rate`, `beta1`, `beta2`, `epsilon` (Adam).
    public var learningRate: Float = 1e-4, adamBeta1: Float = 0.9, adamBeta2: Float = 0.999, adamEpsilon: Float = 1e-8
    /// `training.threads`: Untangle's parallel loops (results are reproducible per thread count).
    public var threads: Int = 2
    /// `training.checkpoint_every`, `keep_checkpoints`, `log_every`.
    public var checkpointEvery: Int = 1000, keepCheckpoints: Int = 2, logEvery: Int = 1
    /// FactorVAE's discriminator Adam: `training.discriminator_learning_rate`, `discriminator_beta1`, `discriminator_beta2`.
    public var discriminatorLearningRate: Float = 1e-4, discriminatorBeta1: Float = 0.5, discriminatorBeta2: Float = 0.9
    /// `training.eval_every` (0: no learning curve) and `training.eval_points`, see ``LearningCurve``.
    public var evalEvery: Int = 0, evalPoints: Int = 2000
    /// `evaluation.held_out`: images of the final ELBO's draw — a fresh sample of the same data with
    /// its own seeded stream. Like disentanglement_lib, Untangle has no train/test split of the
    /// images, so the draw is not disjoint from training (on a small folder it is the training images).
    public var heldOut: Int = 1024

    /// Defaults with the given experiment name.
    public init(name: String) { self.name = name }

    /// Sections and keys a config may contain.
    static let schema: [String: Set<String>] = [
        "experiment": ["name", "description", "seed"],
        "data": ["dataset"],
        "model": ["kind", "architecture", "hidden", "latents", "beta", "capacity_max", "capacity_steps", "gamma",
                  "lambda_od", "lambda_d", "changed_factors"],
        "training": ["steps", "batch_size", "learning_rate", "beta1", "beta2", "epsilon", "threads", "checkpoint_every",
                     "keep_checkpoints", "log_every", "discriminator_learning_rate", "discriminator_beta1",
                     "discriminator_beta2", "eval_every", "eval_points"],
        "evaluation": ["held_out"],
    ]

    /// Loads `path`, applies `overrides` (`section.key=value`), and validates everything
    /// (the stage, Slurm and sweep sections too); returns the base config, sweep not applied.
    public static func load(path: String, overrides: [String] = []) throws -> ExperimentConfig {
        try ExperimentPlan.load(path: path, overrides: overrides).base
    }

    /// Builds and validates a config from a parsed document; errors name `source` and the key.
    public init(_ root: [String: ConfigValue], source: String) throws {
        let known = ExperimentConfig.schema.merging(ExperimentPlan.schema) { $0.union($1) }
        for (section, value) in root {
            guard let keys = known[section] else {
                throw ConfigError(source, "unknown section [\(section)] (known: \(known.keys.sorted().joined(separator: ", ")))")
            }
            guard case .table(let table) = value else { throw ConfigError(source, "'\(section)' must be a [section]") }
            if let bad = table.keys.sorted().first(where: { !keys.contains($0) }) {
                throw ConfigError(source, "unknown key \(section).\(bad) (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        let r = ConfigReader(root: root, source: source)
        guard let name = try r.string("experiment.name") else { throw ConfigError(source, "experiment.name is required") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
            // No leading dot: "." and ".." would put run directories beside or above the results folder.
            throw ConfigError(source, "experiment.name '\(name)' must be letters, digits, '-', '_' or '.', and not start with '.'")
        }
        self.init(name: name)
        description = try r.string("experiment.description") ?? ""
        seed = UInt64(try r.integer("experiment.seed", atLeast: 0) ?? 0)
        dataset = try r.string("data.dataset") ?? dataset
        do { _ = try DatasetSpec(parsing: dataset) } catch let error as DataError { // caught here, before any run starts
            throw ConfigError(source, "data.dataset: \(error.problem)")
        }
        switch try r.string("model.architecture") ?? "conv" {
        case "conv": architecture = .conv
        case "mlp": architecture = .mlp(hidden: try r.integers("model.hidden", atLeast: 1) ?? [1200, 1200])
        case let other: throw ConfigError(source, "model.architecture: '\(other)' is not conv or mlp")
        }
        latentCount = try r.integer("model.latents", atLeast: 1) ?? latentCount
        let kindName = try r.string("model.kind") ?? "beta-vae"
        guard let kind = ModelKind(rawValue: kindName) else {
            throw ConfigError(source, "model.kind: '\(kindName)' is not one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        objective = ObjectiveSettings(kind: kind, beta: try r.float("model.beta", atLeast: 0),
                                      capacityMax: try r.float("model.capacity_max", atLeast: 0),
                                      capacitySteps: try r.integer("model.capacity_steps", atLeast: 1),
                                      gamma: try r.float("model.gamma", atLeast: 0),
                                      lambdaOffDiagonal: try r.float("model.lambda_od", atLeast: 0),
                                      lambdaDiagonal: try r.float("model.lambda_d", atLeast: 0))
        switch r.value("model.changed_factors") {
        case nil: break
        case .string("random")?: changedFactors = .random
        case .integer(let k)? where k >= 1: changedFactors = .fixed(k)
        case let other?: throw ConfigError(source, "model.changed_factors: expected an integer ≥ 1 or \"random\", got \(other)")
        }
        if r.value("model.changed_factors") != nil && !kind.trainsOnPairs {
            throw ConfigError(source, "model.changed_factors applies only to the weakly supervised kinds (ada-gvae, ada-ml-vae), not \(kind.rawValue)")
        }
        steps = try r.integer("training.steps", atLeast: 1) ?? steps
        batchSize = try r.integer("training.batch_size", atLeast: 2) ?? batchSize
        learningRate = try r.float("training.learning_rate", above: 0) ?? learningRate
        adamBeta1 = try r.float("training.beta1", atLeast: 0, below: 1) ?? adamBeta1
        adamBeta2 = try r.float("training.beta2", atLeast: 0, below: 1) ?? adamBeta2
        adamEpsilon = try r.float("training.epsilon", above: 0) ?? adamEpsilon
        threads = try r.integer("training.threads", atLeast: 1) ?? threads
        checkpointEvery = try r.integer("training.checkpoint_every", atLeast: 1) ?? checkpointEvery
        keepCheckpoints = try r.integer("training.keep_checkpoints", atLeast: 1) ?? keepCheckpoints
        logEvery = try r.integer("training.log_every", atLeast: 1) ?? logEvery
        guard checkpointEvery % logEvery == 0 else {
            throw ConfigError(source, "training.checkpoint_every (\(checkpointEvery)) must be a multiple of training.log_every (\(logEvery)), so that a resumed run logs exactly as an uninterrupted one")
        }
        discriminatorLearningRate = try r.float("training.discriminator_learning_rate", above: 0) ?? discriminatorLearningRate
        discriminatorBeta1 = try r.float("training.discriminator_beta1", atLeast: 0, below: 1) ?? discriminatorBeta1
        discriminatorBeta2 = try r.float("training.discriminator_beta2", atLeast: 0, below: 1) ?? discriminatorBeta2
        evalEvery = try r.integer("training.eval_every", atLeast: 0) ?? evalEvery
        evalPoints = try r.integer("training.eval_points", atLeast: 100) ?? evalPoints
        heldOut = try r.integer("evaluation.held_out", atLeast: 1) ?? heldOut
        try checkMemory(source: source)
    }

    /// Refuses sizes whose memory would exceed ``MemoryBudget`` before anything is built: the
    /// model and a training batch (``Architecture/estimatedTrainingBytes(imageShape:latentCount:batchImages:)``,
    /// with the smallest image, 1×64×64; the trainer checks again with the data set's real shape), and
    /// the held-out and curve point sets.
    func checkMemory(source: String, imageShape: [Int] = [1, 64, 64]) throws {
        let training = architecture.estimatedTrainingBytes(imageShape: imageShape, latentCount: latentCount, batchImages: imagesPerStep)
        if let excess = MemoryBudget.excess(training ?? Int.max) {
            throw ConfigError(source, "model.latents = \(latentCount)\(architecture == .conv ? "" : ", model.hidden") with training.batch_size = \(batchSize): training \(excess)")
        }
        for (key, count) in [("evaluation.held_out", heldOut), ("training.eval_points", evalPoints)] {
            if let excess = MemoryBudget.excess(count: count, bytesEach: imageShape.checkedByteCount(elementSize: MemoryLayout<Float>.size) ?? Int.max) {
                throw ConfigError(source, "\(key) = \(count): its images \(excess)")
            }
        }
    }

    /// Images the model sees per training step: `batch_size`, twice that for pair objectives.
    public var imagesPerStep: Int { objective.kind.trainsOnPairs ? 2 * batchSize : batchSize }

    /// The fully resolved config (every default filled in), as a document.
    public var resolved: [String: ConfigValue] {
        var model: [String: ConfigValue] = [
            "kind": .string(objective.kind.rawValue), "latents": .integer(latentCount),
        ]
        switch architecture {
        case .conv: model["architecture"] = .string("conv")
        case .mlp(let hidden):
            model["architecture"] = .string("mlp")
            model["hidden"] = .array(hidden.map { .integer($0) })
        }
        switch objective.kind {
        case .betaVAE: model["beta"] = .number(objective.beta)
        case .betaTCVAE: model["beta"] = .number(objective.beta)
        case .adaGVAE, .adaMLVAE:
            model["beta"] = .number(objective.beta)
            switch changedFactors {
            case .fixed(let k): model["changed_factors"] = .integer(k)
            case .random: model["changed_factors"] = .string("random")
            }
        case .annealedVAE:
            model["capacity_max"] = .number(objective.capacityMax)
            model["capacity_steps"] = .integer(objective.capacitySteps)
            model["gamma"] = .number(objective.gamma)
        case .factorVAE: model["gamma"] = .number(objective.gamma)
        case .dipVAE1, .dipVAE2:
            model["lambda_od"] = .number(objective.lambdaOffDiagonal)
            model["lambda_d"] = .number(objective.lambdaDiagonal)
        }
        var training: [String: ConfigValue] = [
            "steps": .integer(steps), "batch_size": .integer(batchSize), "learning_rate": .number(learningRate),
            "beta1": .number(adamBeta1), "beta2": .number(adamBeta2), "epsilon": .number(adamEpsilon),
            "threads": .integer(threads), "checkpoint_every": .integer(checkpointEvery),
            "keep_checkpoints": .integer(keepCheckpoints), "log_every": .integer(logEvery),
        ]
        if evalEvery > 0 { // only then, so that run ids of configs without curves stay as they were
            training["eval_every"] = .integer(evalEvery)
            training["eval_points"] = .integer(evalPoints)
        }
        if objective.kind == .factorVAE {
            training["discriminator_learning_rate"] = .number(discriminatorLearningRate)
            training["discriminator_beta1"] = .number(discriminatorBeta1)
            training["discriminator_beta2"] = .number(discriminatorBeta2)
        }
        var experiment: [String: ConfigValue] = ["name": .string(name), "seed": .integer(Int(seed))]
        if !description.isEmpty { experiment["description"] = .string(description) }
        return ["experiment": .table(experiment), "data": .table(["dataset": .string(dataset)]), "model": .table(model),
                "training": .table(training), "evaluation": .table(["held_out": .integer(heldOut)])]
    }

    /// The resolved config as TOML text (deterministic: sorted keys).
    public var resolvedTOML: String { ConfigValue.renderTOML(resolved) }

    /// A stable run id: 12 hex digits of the FNV-1a 64-bit hash of the resolved TOML,
    /// excluding the free-text description.
    public var runID: String {
        var copy = self
        copy.description = ""
        return shortHash(copy.resolvedTOML.utf8)
    }
}

/// 12 hex digits of the FNV-1a 64-bit hash of `bytes`: run ids and config snapshot names.
func shortHash<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return String(String(hash, radix: 16).leftPadded(to: 16).prefix(12))
}

extension ConfigValue {
    /// A float config value holding the shortest decimal that round-trips `value` (0.9, not 0.8999999761…).
    static func number(_ value: Float) -> ConfigValue { .float(Double("\(value)") ?? Double(value)) }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

/// Typed, validated access to `section.key` values; errors name the file and the key.
public struct ConfigReader {
    /// The parsed document and the file it came from (named in every error).
    public let root: [String: ConfigValue], source: String

    /// The value at `section.key`, nil when absent.
    public func value(_ path: String) -> ConfigValue? {
        let parts = path.split(separator: ".").map(String.init)
        guard case .table(let t)? = root[parts[0]] else { return nil }
        return t[parts[1]]
    }

    /// A string value.
    public func string(_ path: String) throws -> String? {
        guard let v = value(path) else { return nil }
        guard case .string(let s) = v else { throw ConfigError(source, "\(path): expected a string, got \(v)") }
        return s
    }

    /// An integer ≥ `minimum`.
    public func integer(_ path: String, atLeast minimum: Int) throws -> Int? {
        guard let v = value(path) else { return nil }
        guard case .integer(let i) = v else { throw ConfigError(source, "\(path): expected an integer, got \(v)") }
        guard i >= minimum else { throw ConfigError(source, "\(path): must be ≥ \(minimum), got \(i)") }
        return i
    }

    /// A non-empty array of integers ≥ `minimum`.
    public func integers(_ path: String, atLeast minimum: Int) throws -> [Int]? {
        guard let v = value(path) else { return nil }
        guard case .array(let a) = v, !a.isEmpty else { throw ConfigError(source, "\(path): expected a non-empty array of integers, got \(v)") }
        return try a.map {
            guard case .integer(let i) = $0, i >= minimum else { throw ConfigError(source, "\(path): entries must be integers ≥ \(minimum), got \($0)") }
            return i
        }
    }

    /// A finite 32-bit number with optional bounds (≥ `minimum`, > `lower`, < `upper`).
    public func float(_ path: String, atLeast minimum: Float? = nil, above lower: Float? = nil, below upper: Float? = nil) throws -> Float? {
        guard let v = value(path) else { return nil }
        let x: Double
        switch v {
        case .float(let d): x = d
        case .integer(let i): x = Double(i)
        default: throw ConfigError(source, "\(path): expected a number, got \(v)")
        }
        let f = Float(x)
        // Finite as a Float too: 1e300 is a finite Double but Float(1e300) is ∞.
        guard x.isFinite, f.isFinite else { throw ConfigError(source, "\(path): must be a finite 32-bit float (|x| < 3.4e38), got \(v)") }
        if let minimum, f < minimum { throw ConfigError(source, "\(path): must be ≥ \(minimum), got \(v)") }
        if let lower, f <= lower { throw ConfigError(source, "\(path): must be > \(lower), got \(v)") }
        if let upper, f >= upper { throw ConfigError(source, "\(path): must be < \(upper), got \(v)") }
        return f
    }
}
