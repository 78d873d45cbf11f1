import Foundation
import TensorCore

// The small records a run's pipeline leaves in its directory, typed: what they hold is read and
// written in one place each instead of as `[String: Any]` at every reader.

/// `RUN/stages.json`: the run finished every stage with these settings. `stages` is the settings'
/// fingerprint (`StageSettings.fingerprint`); a run whose fingerprint differs from the current
/// settings' runs its stages again. Files written before `run_id` and `finished` existed hold
/// `stages` alone, and still read.
struct StagesRecord: Codable, Equatable {
    /// The file's name in a run directory.
    static let fileName = "stages.json"

    let stages: String
    let runID: String?
    let finished: String?

    enum CodingKeys: String, CodingKey { case stages, runID = "run_id", finished }

    /// The record at `path`; `nil` when the file is absent or is not such a record.
    static func read(_ path: String) -> StagesRecord? { readRecord(path) }

    /// Writes the record atomically (sorted keys, so the same record gives the same bytes).
    func write(to path: String) throws { try writeRecord(self, to: path) }
}

/// `RUN/run.json`: which run this is and what made it, written once when the directory is created.
/// `executable` and `executable_sha256` (the exact build, also for a copied binary) exist since
/// 2026-12-04; `untangle_version` and `blas` may be missing from older files; all still read.
struct RunInfo: Codable, Equatable {
    /// The file's name in a run directory.
    static let fileName = "run.json"

    let runID: String
    let experiment: String
    let seed: Int
    let threads: Int
    /// `git rev-parse HEAD` of the build, `+dirty` with uncommitted changes, or `unknown`.
    let gitCommit: String
    let untangleVersion: String?
    let executable: String?
    let executableSHA256: String?
    /// ISO 8601, UTC.
    let started: String
    /// ``BLAS/configuration`` of the machine that trained it.
    let blas: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", experiment, seed, threads, gitCommit = "git_commit", untangleVersion = "untangle_version"
        case executable, executableSHA256 = "executable_sha256", started, blas
    }

    /// The record at `path`; `nil` when the file is absent or is not such a record.
    static func read(_ path: String) -> RunInfo? { readRecord(path) }

    /// Writes the record atomically (sorted keys).
    func write(to path: String) throws { try writeRecord(self, to: path) }
}

/// `RUN/failed.json`: the last attempt at the run stopped with an error — in which stage, what it
/// said, when and on which host. Removed when the next attempt starts.
struct FailureRecord: Codable, Equatable {
    /// The file's name in a run directory.
    static let fileName = "failed.json"

    let stage: String
    let error: String
    let time: String?
    let host: String?

    /// The record at `path`; `nil` when the file is absent or is not such a record.
    static func read(_ path: String) -> FailureRecord? { readRecord(path) }

    /// Writes the record atomically (sorted keys).
    func write(to path: String) throws { try writeRecord(self, to: path) }

    /// A record of `error` in `stage`, stamped with the current time and this host.
    static func now(stage: String, error: String) -> FailureRecord {
        FailureRecord(stage: stage, error: error, time: ISO8601DateFormatter().string(from: Date()),
                      host: ProcessInfo.processInfo.hostName)
    }

    /// Writes the record, ignoring a failed write: the failure it records is being reported anyway.
    func writeQuietly(to path: String) { try? write(to: path) }

    /// `stage: error`, as sweeps and `reconstruct` print it.
    var summary: String { "\(stage): \(error)" }
}

private func readRecord<R: Decodable>(_ path: String) -> R? {
    guard let data = try? BoundedFile.readIfPresent(path, limit: BoundedFile.Limit.record) else { return nil }
    return try? JSONDecoder().decode(R.self, from: data)
}

private func writeRecord<R: Encodable>(_ record: R, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try AtomicFile.write(try encoder.encode(record) + Data("\n".utf8), to: path)
}
