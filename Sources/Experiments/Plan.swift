import Foundation
import Metrics

/// An experiment file as a whole: the run config (``ExperimentConfig``, which defines the
/// run id), the stages run after training, Slurm resources, and an optional sweep.
///
/// ```toml
/// [evaluation]
/// held_out = 2048                      # part of the run (see ExperimentConfig)
/// metrics = ["mig", "sap", "dci"]      # `untangle evaluate` metrics after training (default: none)
/// train_points = 10000                 # their sample sizes (dlib defaults)
/// eval_points = 5000
/// probe = true                         # name the latents (factors.json)
///
/// [explanation]                        # labelled data only (lesions, images:DIR?labels=…)
/// classify = true                      # tree, sparse logistic and pixel CNN (classifiers.json)
/// train = 4000                         # split sizes and the CNN's steps
/// test = 1000
/// cnn_steps = 1500
/// compare = true                       # saliency vs factors (compare/scores.csv); lesions only
/// compare_count = 100
///
/// [slurm]                              # --executor slurm: one array task per run
/// partition = "gpu"                    # default: the cluster's default partition
/// time = "04:00:00"                    # per task
/// memory = "8G"
/// cpus_per_task = 2                    # default: training.threads
/// max_parallel = 0                     # array throttle (%N); 0 = no limit
/// extra = ["--account=lab"]            # more #SBATCH lines
/// warning_seconds = 180                # SIGUSR1 this long before the time limit: checkpoint, requeue
///
/// [sweep]
/// seeds = [0, 1, 2]                    # experiment.seed values (innermost loop)
/// workers = 2                          # local worker processes (default cores ÷ training.threads)
/// [sweep.product]                      # every combination
/// "model.beta" = [1, 4, 16]
/// [sweep.zip]                          # advanced together, lists of equal length
/// "model.kind" = ["beta-vae", "beta-tcvae"]
/// "training.learning_rate" = [1e-4, 5e-4]
/// ```
/// Run `i` of the sweep is zip entry × product combination × seed in that nesting order
/// (first product key, sorted by name, slowest); its config is the file with those keys set.
public struct ExperimentPlan: Sendable {
    /// The config file and the `--set` overrides applied to it.
    public var source: String, overrides: [String]
    /// The config with no sweep values applied.
    public var base: ExperimentConfig
    /// What runs after training.
    public var stages: StageSettings
    /// Resources for the Slurm executor.
    public var slurm: SlurmSettings
    /// The sweep, if the file has one.
    public var sweep: SweepSpec?
    /// The parsed document with overrides (sweep points are applied to it).
    let root: [String: ConfigValue]

    /// Keys read by the plan rather than ``ExperimentConfig`` (sections may be shared).
    static var schema: [String: Set<String>] {
        RunStages.keys.merging(ownKeys) { $0.union($1) }
    }
    private static let ownKeys: [String: Set<String>] = [
        "slurm": ["partition", "time", "memory", "cpus_per_task", "max_parallel", "extra", "warning_seconds"],
        "sweep": ["seeds", "workers", "product", "zip"],
    ]

    /// Loads and validates `path` with `overrides` (`section.key=value`), including every sweep point.
    public static func load(path: String, overrides: [String] = []) throws -> ExperimentPlan {
        var root = try ConfigValue.readTOML(path)
        for o in overrides {
            guard let eq = o.firstIndex(of: "=") else { throw ConfigError("--set \(o)", "overrides are written section.key=value") }
            try ConfigValue.set(ConfigValue.parseOverride(String(o[o.index(after: eq)...])), at: String(o[..<eq]), in: &root)
        }
        return try ExperimentPlan(root: root, source: path, overrides: overrides)
    }

    init(root: [String: ConfigValue], source: String, overrides: [String]) throws {
        self.root = root
        self.source = source
        self.overrides = overrides
        base = try ExperimentConfig(root, source: source)
        let r = ConfigReader(root: root, source: source)
        stages = try StageSettings(r)
        slurm = try SlurmSettings(r, threads: base.threads)
        if case .table(let t)? = root["sweep"] {
            sweep = try SweepSpec(t, source: source)
        }
        _ = try points() // every point must be a valid config
    }

    /// Every run of the sweep (one point, the base config, without a sweep).
    public func points() throws -> [SweepPoint] {
        guard let sweep else { return [SweepPoint(index: 0, assignments: [], config: base)] }
        var out: [SweepPoint] = []
        var seen: [String: Int] = [:]
        for assignments in sweep.assignments() {
            var document = root
            document["sweep"] = nil
            for (key, value) in assignments { try ConfigValue.set(value, at: key, in: &document) }
            let index = out.count
            let label = assignments.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let config = try ExperimentConfig(document, source: "\(source) (sweep run \(index): \(label))")
            if let earlier = seen[config.runID] {
                throw ConfigError(source, "sweep runs \(earlier) and \(index) resolve to the same run \(config.runID) (\(label)): a swept key the model ignores?")
            }
            seen[config.runID] = index
            out.append(SweepPoint(index: index, assignments: assignments, config: config))
        }
        return out
    }

    /// Run `index` of the sweep, or the config as written (sweep ignored) when `index` is nil.
    public func point(_ index: Int?) throws -> SweepPoint {
        guard let index else { return SweepPoint(index: 0, assignments: [], config: base) }
        guard sweep != nil else { throw ConfigError(source, "has no [sweep]; run it without --index") }
        let all = try points()
        guard all.indices.contains(index) else { throw ConfigError(source, "--index \(index): the sweep has runs 0…\(all.count - 1)") }
        return all[index]
    }

    /// The experiment's directory under `resultsRoot`.
    public func experimentDirectory(resultsRoot: String) -> String {
        (resultsRoot as NSString).appendingPathComponent(base.name)
    }
}

/// One run of a sweep: its index (the Slurm array task id), the swept values, and its config.
public struct SweepPoint: Sendable {
    /// Position in the sweep (the Slurm array task id).
    public var index: Int
    /// `section.key` → value, in sweep order.
    public var assignments: [(key: String, value: ConfigValue)]
    /// The run's full config (sweep values applied).
    public var config: ExperimentConfig
    /// `beta=4 seed=1`: the swept values with short key names.
    public var label: String {
        assignments.isEmpty ? "(base config)"
            : assignments.map { "\($0.key.split(separator: ".").last!)=\($0.value)" }.joined(separator: " ")
    }
}

/// The `[sweep]` section: value lists combined as a product and/or zip, plus seeds.
public struct SweepSpec: Sendable, Equatable {
    /// `experiment.seed` values; empty: the base seed only.
    public var seeds: [Int] = []
    /// Local worker processes (`nil`: cores ÷ `training.threads`).
    public var workers: Int?
    /// Keys (sorted) and value lists combined as a Cartesian product.
    public var product: [Axis] = []
    /// Keys (sorted) and equal-length lists advanced together.
    public var zip: [Axis] = []

    /// A swept key and its values.
    public struct Axis: Sendable, Equatable {
        /// `section.key` and the values it takes.
        public var key: String, values: [ConfigValue]
    }

    init(_ table: [String: ConfigValue], source: String) throws {
        let r = ConfigReader(root: ["sweep": .table(table)], source: source)
        seeds = try r.integers("sweep.seeds", atLeast: 0) ?? []
        guard Set(seeds).count == seeds.count else { throw ConfigError(source, "sweep.seeds: \(seeds) repeats a seed") }
        workers = try r.integer("sweep.workers", atLeast: 1)
        product = try SweepSpec.axes(table["product"], name: "sweep.product", source: source)
        zip = try SweepSpec.axes(table["zip"], name: "sweep.zip", source: source)
        if let n = zip.first?.values.count, let bad = zip.first(where: { $0.values.count != n }) {
            throw ConfigError(source, "sweep.zip: lists must have equal lengths (\(zip[0].key) has \(n), \(bad.key) has \(bad.values.count))")
        }
        let keys = (product + zip).map(\.key) + (seeds.isEmpty ? [] : ["experiment.seed"])
        if let twice = keys.first(where: { k in keys.filter { $0 == k }.count > 1 }) {
            throw ConfigError(source, "sweep: \(twice) is swept twice (product, zip or seeds)")
        }
        guard !(product.isEmpty && zip.isEmpty && seeds.isEmpty) else {
            throw ConfigError(source, "[sweep] needs seeds, [sweep.product] or [sweep.zip]")
        }
    }

    /// Flattens a `[sweep.product]`-style table (quoted `"model.beta"` keys or nested tables)
    /// into sorted axes; every key must be a run key (``ExperimentConfig`` schema).
    static func axes(_ value: ConfigValue?, name: String, source: String) throws -> [Axis] {
        guard let value else { return [] }
        guard case .table(let table) = value else { throw ConfigError(source, "\(name) must be a table of key = [values]") }
        var out: [Axis] = []
        func walk(_ t: [String: ConfigValue], prefix: String) throws {
            for (k, v) in t {
                let key = prefix.isEmpty ? k : prefix + "." + k
                switch v {
                case .table(let inner): try walk(inner, prefix: key)
                case .array(let values):
                    guard !values.isEmpty else { throw ConfigError(source, "\(name).\(key): empty value list") }
                    out.append(Axis(key: key, values: values))
                default: throw ConfigError(source, "\(name).\(key): expected a list of values, got \(v)")
                }
            }
        }
        try walk(table, prefix: "")
        for axis in out {
            let parts = axis.key.split(separator: ".").map(String.init)
            guard parts.count == 2, ExperimentConfig.schema[parts[0]]?.contains(parts[1]) == true, axis.key != "experiment.name" else {
                throw ConfigError(source, "\(name): '\(axis.key)' is not a run key that can be swept (e.g. model.beta, training.learning_rate)")
            }
        }
        return out.sorted { $0.key < $1.key }
    }

    /// The assignments of every run, in run-index order.
    func assignments() -> [[(key: String, value: ConfigValue)]] {
        var out: [[(key: String, value: ConfigValue)]] = []
        let zipCount = zip.first?.values.count ?? 1
        let combinations = product.reduce(1) { $0 * $1.values.count }
        for z in 0..<zipCount {
            for c in 0..<combinations {
                var base: [(key: String, value: ConfigValue)] = zip.map { ($0.key, $0.values[z]) }
                var rest = c
                var picks: [(key: String, value: ConfigValue)] = []
                for axis in product.reversed() { // the first axis varies slowest
                    picks.insert((axis.key, axis.values[rest % axis.values.count]), at: 0)
                    rest /= axis.values.count
                }
                base += picks
                if seeds.isEmpty {
                    out.append(base)
                } else {
                    for s in seeds { out.append(base + [("experiment.seed", .integer(s))]) }
                }
            }
        }
        return out
    }
}

/// `[slurm]`: the resources of each array task.
public struct SlurmSettings: Sendable, Equatable {
    /// `#SBATCH --partition` (none: the default), `--time`, `--mem`, `--cpus-per-task`, the `%N` array throttle.
    public var partition: String?, time = "04:00:00", memory = "8G", cpusPerTask: Int, maxParallel = 0
    /// Extra `#SBATCH` options, one per line.
    public var extra: [String] = []
    /// Seconds before the time limit at which Slurm sends the task's script SIGUSR1
    /// (`#SBATCH --signal=B:USR1@N`): training checkpoints, stops with status 76, and the task
    /// requeues itself (`--requeue`) to resume where it stopped. 0: no warning signal.
    public var warningSeconds = 180

    init(_ r: ConfigReader, threads: Int) throws {
        partition = try r.string("slurm.partition")
        time = try r.string("slurm.time") ?? time
        guard time.allSatisfy({ $0.isNumber || $0 == ":" || $0 == "-" }) else {
            throw ConfigError(r.source, "slurm.time: '\(time)' is not a Slurm time (e.g. 04:00:00 or 1-00:00:00)")
        }
        memory = try r.string("slurm.memory") ?? memory
        cpusPerTask = try r.integer("slurm.cpus_per_task", atLeast: 1) ?? threads
        maxParallel = try r.integer("slurm.max_parallel", atLeast: 0) ?? maxParallel
        extra = try r.strings("slurm.extra") ?? []
        warningSeconds = try r.integer("slurm.warning_seconds", atLeast: 0) ?? warningSeconds
        guard warningSeconds <= 65535 else { throw ConfigError(r.source, "slurm.warning_seconds: at most 65535 (Slurm's limit), got \(warningSeconds)") }
    }
}

extension ConfigReader {
    /// An array of strings.
    public func strings(_ path: String) throws -> [String]? {
        guard let v = value(path) else { return nil }
        guard case .array(let a) = v else { throw ConfigError(source, "\(path): expected a list of strings, got \(v)") }
        return try a.map {
            guard case .string(let s) = $0 else { throw ConfigError(source, "\(path): entries must be strings, got \($0)") }
            return s
        }
    }

    /// A boolean.
    public func boolean(_ path: String) throws -> Bool? {
        guard let v = value(path) else { return nil }
        guard case .boolean(let b) = v else { throw ConfigError(source, "\(path): expected true or false, got \(v)") }
        return b
    }
}
