import Datasets
import Foundation
import Metrics
import TensorCore

/// One stage of a run: what `untangle run` / `sweep` execute in order, what `summarize` reads and
/// what the run report shows all come from ``RunStages/all``. A stage declares the config keys it
/// reads and parses them into its own ``StageOptions``, so adding a stage is one new file (a type
/// conforming to this protocol, in `Sources/Experiments/Stages/`) and one line in that list.
public protocol RunStage: Sendable {
    /// The stage's settings, parsed from the experiment file.
    associatedtype Options: StageOptions
    /// The stage's name in logs and in `failed.json` (`train`, `evaluate`, `probe`, …).
    var name: String { get }
    /// Its one output file, relative to the run directory (`evaluation.json`, `compare/scores.csv`):
    /// what it writes, what `summarize` and the report read, what the explorer lists.
    var output: String { get }
    /// The keys it reads, by section (`["evaluation": ["probe"]]`); the config file is checked
    /// against the union of every stage's keys and ``ExperimentConfig``'s.
    var keys: [String: Set<String>] { get }
    /// Its settings from the experiment file (errors name the file and the key).
    func options(_ config: ConfigReader) throws -> Options
    /// Refuses, before any work, a data set the stage cannot run on (the capability it needs);
    /// `source` names the data set in the error (the config's `data.dataset`).
    func check(_ data: any ImageDataset, source: String) throws
    /// Runs the stage, writing its outputs into the run directory; returns the log line that says
    /// what it found.
    func run(_ context: StageContext, options: Options, log: @escaping (String) -> Void) throws -> String
    /// The scalars it contributes to `summarize`, read from its outputs (empty when it has not run).
    func scalars(_ run: RunDirectory) throws -> [String: Double]
    /// Its section of the run report, HTML (empty when it has nothing to show).
    func reportSection(_ trained: TrainedRun) throws -> String
}

extension RunStage {
    public var keys: [String: Set<String>] { [:] }
    public func check(_ data: any ImageDataset, source: String) throws {}
    public func scalars(_ run: RunDirectory) throws -> [String: Double] { [:] }
    public func reportSection(_ trained: TrainedRun) throws -> String { "" }

    /// Runs the stage with its options from `settings` (the list holds `any RunStage`).
    func execute(_ context: StageContext, settings: StageSettings, log: @escaping (String) -> Void) throws -> String {
        try run(context, options: settings[self], log: log)
    }

    /// A meter whose progress lines go to the run's log as "`name`: …" (plain lines: the log is a file).
    func logMeter(_ log: @escaping (String) -> Void) -> WorkMeter {
        ConsoleProgress.meter(isTerminal: false, write: { log("\(name): " + $0) })
    }

    /// Parses this stage's options into `settings`.
    func parse(_ config: ConfigReader, into settings: inout StageSettings) throws {
        settings.options[name] = try options(config)
    }
}

/// A stage's settings: whether it runs, and what of them goes into `stages.json`.
public protocol StageOptions: Sendable {
    /// Whether the run executes the stage.
    var isEnabled: Bool { get }
    /// The settings' entries in the stage fingerprint (``StageSettings/fingerprint``): a change
    /// reruns the stages after training. Empty for stages whose settings are part of the run id.
    var fingerprint: [String: ConfigValue] { get }
}

/// The options of a stage that is always on and has no settings of its own.
public struct AlwaysOn: StageOptions {
    public var isEnabled: Bool { true }
    public var fingerprint: [String: ConfigValue] { [:] }
}

/// Every stage, in the order a run executes them.
public enum RunStages {
    public static let all: [any RunStage] = [TrainStage(), CurveStage(), EvaluateStage(), ProbeStage(), ClassifyStage(), CompareStage()]

    /// The config keys all stages read, by section.
    static var keys: [String: Set<String>] {
        all.reduce(into: [:]) { out, stage in out.merge(stage.keys) { $0.union($1) } }
    }
}

/// The settings of every stage of one experiment file (``RunStages/all``), by stage name.
public struct StageSettings: Sendable {
    var options: [String: any StageOptions] = [:]

    /// Parses every stage's options from the document.
    init(_ config: ConfigReader) throws {
        for stage in RunStages.all { try stage.parse(config, into: &self) }
    }

    /// The options of `stage`.
    public subscript<S: RunStage>(_ stage: S) -> S.Options {
        guard let o = options[stage.name] as? S.Options else { preconditionFailure("no options parsed for stage \(stage.name)") }
        return o
    }

    /// Whether the settings ask for `stage`.
    public func isEnabled(_ stage: any RunStage) -> Bool { options[stage.name]?.isEnabled ?? false }

    /// The settings as TOML text — every stage's ``StageOptions/fingerprint`` entries in one
    /// table — recorded in `stages.json`; a change reruns the stages.
    public var fingerprint: String {
        var t: [String: ConfigValue] = [:]
        for stage in RunStages.all { t.merge(options[stage.name]?.fingerprint ?? [:]) { $1 } }
        return ConfigValue.table(t).description
    }
}

/// What a stage works on: the run's config and directory, the data set, and — once training is
/// done — the trained model, each opened once and shared by the stages of one pipeline.
public final class StageContext {
    /// The run's config.
    public let config: ExperimentConfig
    /// The run directory.
    public let run: RunDirectory
    /// The results root the run lives under.
    public let resultsRoot: String
    private var openedDataset: (any ImageDataset)?
    private var openedRun: TrainedRun?

    init(config: ExperimentConfig, run: RunDirectory, resultsRoot: String) {
        self.config = config
        self.run = run
        self.resultsRoot = resultsRoot
    }

    /// The config's data set (opened on first use).
    public func dataset() throws -> any ImageDataset {
        if let openedDataset { return openedDataset }
        let data = try TrainedRun.openDataset(config, run: run)
        openedDataset = data
        return data
    }

    /// The finished run (opened on first use, with the config's thread count).
    public func trained() throws -> TrainedRun {
        if let openedRun { return openedRun }
        Parallel.setThreadCount(config.threads)
        let t = try TrainedRun(path: run.path)
        openedRun = t
        return t
    }
}
