import Foundation
import NN
import TensorCore

/// A run directory `Results/<experiment>/<run-id>/`, written once per run:
///
/// | file | written |
/// |---|---|
/// | `config.toml` | the resolved config (every default filled in), at creation |
/// | `run.json` | run id, seed, git commit and SHA-256 of the executable, threads, version, start time, at creation |
/// | `log.csv` | one row per `log_every` steps, appended at each checkpoint |
/// | `checkpoints/step-NNNNNNNN.safetensors` | model, optimiser state and RNG state (the newest `keep_checkpoints`) |
/// | `model.safetensors` | final weights (loadable with `safetensors.numpy.load_file`) |
/// | `metrics.json` | held-out ELBO parts; written last, it marks the run complete |
/// | `reconstructions.png` | by `untangle reconstruct` |
public struct RunDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// The directory for `config` under `resultsRoot`.
    public init(resultsRoot: String, config: ExperimentConfig) {
        path = (resultsRoot as NSString).appendingPathComponent("\(config.name)/\(config.runID)")
    }

    /// An existing run directory (it must hold `config.toml`).
    public init(existing path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigError(path, "no such run directory")
        }
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("config.toml")) else {
            throw ConfigError(path, "not a run directory (no config.toml)")
        }
        self.path = path
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var configPath: String { file("config.toml") }
    public var runInfoPath: String { file(RunInfo.fileName) }

    /// The untangle version that started this run (`run.json`'s `untangle_version`): today's when
    /// the run has not started yet, `"0"` for a run.json without one (or a damaged one).
    public var writtenByVersion: String {
        guard FileManager.default.fileExists(atPath: runInfoPath) else { return untangleVersion }
        return RunInfo.read(runInfoPath)?.untangleVersion ?? "0"
    }
    public var logPath: String { file("log.csv") }
    public var checkpointsPath: String { file("checkpoints") }
    public var modelPath: String { file("model.safetensors") }
    public var metricsPath: String { file("metrics.json") }

    /// Whether the run finished (its `metrics.json` exists).
    public var isComplete: Bool { FileManager.default.fileExists(atPath: metricsPath) }
    /// Whether the directory exists at all.
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// The run's resolved config.
    public func loadConfig() throws -> ExperimentConfig {
        try ExperimentConfig(ConfigValue.readTOML(configPath), source: configPath)
    }

    /// Checkpoint path for `step`.
    public func checkpointPath(step: Int) -> String {
        (checkpointsPath as NSString).appendingPathComponent(String(format: "step-%08d.safetensors", step))
    }

    /// Steps of the checkpoints present, ascending.
    public func checkpointSteps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsPath)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("step-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst(5).dropLast(12))
        }.sorted()
    }

    /// The git commit of the build that is running, `+dirty` when its work tree has uncommitted
    /// changes, or "unknown": the repository the executable was built in (`REPO/.build/…`, as
    /// `swift run` and `swift test` run it) when there is one, else the working directory's.
    /// A copied binary (a study's pinned build) has no repository: its `run.json` still names
    /// it exactly by ``executableSHA256``.
    public static func gitCommit(executable: String? = executablePath) -> String {
        func git(_ arguments: [String], in directory: String?) -> String? {
            guard let result = try? ChildProcess.run(["git"] + arguments, in: directory), result.status == 0 else { return nil }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var directories: [String?] = [nil]
        if let executable, let build = executable.range(of: "/.build/") {
            directories.insert(String(executable[..<build.lowerBound]), at: 0)
        }
        for directory in directories {
            guard let commit = git(["rev-parse", "HEAD"], in: directory) else { continue }
            let dirty = !(git(["status", "--porcelain", "--untracked-files=no"], in: directory) ?? "").isEmpty
            return commit + (dirty ? "+dirty" : "")
        }
        return "unknown"
    }

    /// The running executable's resolved path (`/proc/self/exe`), nil where it cannot be read.
    public static let executablePath: String? = {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }()

    /// SHA-256 (hex) of the running executable's bytes, computed once per process: `run.json`'s
    /// `executable_sha256`, which names the exact build that made a run even when the binary
    /// was copied out of its repository. Nil where the executable cannot be read.
    public static let executableSHA256: String? = executablePath.flatMap { try? SHA256Hex.of(file: $0) }
}

extension RunDirectory {
    /// The JSON object in `file`: nil when there is no such file; a `ConfigError` naming the file
    /// when it exists but is not a JSON object (a damaged side file is never silently ignored).
    public static func jsonObject(at file: String) throws -> [String: Any]? {
        guard let data = try BoundedFile.readIfPresent(file, limit: BoundedFile.Limit.record, as: ConfigError.init) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigError(file, "is not a JSON object (damaged? rerun the stage that writes it, with --overwrite where it asks)")
        }
        return object
    }

    /// The JSON object in `RUN/name` (see ``jsonObject(at:)``).
    public func jsonObject(_ name: String) throws -> [String: Any]? { try RunDirectory.jsonObject(at: file(name)) }

    /// `RUN/name` decoded as `T`: nil when absent; a `ConfigError` naming the file and the decoding
    /// problem when it exists but does not decode.
    public func decode<T: Decodable>(_ type: T.Type, from name: String) throws -> T? {
        guard let data = try BoundedFile.readIfPresent(file(name), limit: BoundedFile.Limit.record, as: ConfigError.init) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw ConfigError(file(name), "cannot be read (\(error)); damaged? rerun the stage that writes it")
        }
    }
}

/// Writes a JSON object atomically with sorted keys (deterministic bytes).
func writeJSON(_ object: [String: Any], to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(data + Data("\n".utf8), to: path)
}
