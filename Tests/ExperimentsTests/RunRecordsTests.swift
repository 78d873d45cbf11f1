@testable import Experiments
import Foundation
import Testing

/// `stages.json`, `failed.json` and `run.json` as typed records: round trips, the files earlier versions wrote,
/// and damaged files read as absent.
@Suite struct RunRecordsTests {
    let dir = temporaryDirectory()

    @Test func recordsRoundTripWithSortedKeys() throws {
        let stages = StagesRecord(stages: "train|evaluate:mig", runID: "0123456789ab", finished: "2026-12-06T21:00:00Z")
        try stages.write(to: dir + "/stages.json")
        #expect(StagesRecord.read(dir + "/stages.json") == stages)
        let text = try String(contentsOfFile: dir + "/stages.json", encoding: .utf8)
        #expect(text.contains("\"run_id\"") && text.range(of: "finished")!.lowerBound < text.range(of: "run_id")!.lowerBound
                && text.range(of: "run_id")!.lowerBound < text.range(of: "\"stages\"")!.lowerBound, "\(text)")
        let failure = FailureRecord(stage: "evaluate", error: "disk full: /results/x", time: "2026-12-06T21:00:00Z", host: "node7")
        try failure.write(to: dir + "/failed.json")
        #expect(FailureRecord.read(dir + "/failed.json") == failure)
        #expect(failure.summary == "evaluate: disk full: /results/x")
        #expect(try String(contentsOfFile: dir + "/failed.json", encoding: .utf8).contains("/results/x"))
    }

    /// A `stages.json` of `stages` alone (as tests and early versions wrote) and a `failed.json` without
    /// time or host still read; a damaged or missing file reads as no record.
    @Test func olderAndDamagedFiles() throws {
        try Data(#"{"stages": "train"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/old-stages.json"))
        #expect(StagesRecord.read(dir + "/old-stages.json") == StagesRecord(stages: "train", runID: nil, finished: nil))
        try Data(#"{"stage": "train", "error": "NaN at step 12", "extra": 1}"#.utf8).write(to: URL(fileURLWithPath: dir + "/old-failed.json"))
        #expect(FailureRecord.read(dir + "/old-failed.json")?.summary == "train: NaN at step 12")
        try Data(#"{"stages": "tra"#.utf8).write(to: URL(fileURLWithPath: dir + "/cut.json"))
        #expect(StagesRecord.read(dir + "/cut.json") == nil && FailureRecord.read(dir + "/cut.json") == nil)
        #expect(StagesRecord.read(dir + "/absent.json") == nil)
    }

    /// `run.json` as the versions before 2026-12-04 wrote it (no executable fields) reads, and the
    /// version it names is the one a run directory reports; a damaged one reads as version "0".
    @Test func runInfoOfEveryVersionReads() throws {
        let old = #"{"blas": "OpenBLAS", "experiment": "quickstart", "git_commit": "abc", "run_id": "0123456789ab", "seed": 2, "started": "2026-12-02T10:00:00Z", "threads": 2, "untangle_version": "0.3.0"}"#
        let run = dir + "/runinfo"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try Data("[experiment]\nname = \"quickstart\"\n".utf8).write(to: URL(fileURLWithPath: run + "/config.toml"))
        let directory = try RunDirectory(existing: run)
        #expect(directory.writtenByVersion == untangleVersion, "no run.json yet: today's version")
        try Data(old.utf8).write(to: URL(fileURLWithPath: run + "/run.json"))
        let info = try #require(RunInfo.read(run + "/run.json"))
        #expect(info.seed == 2 && info.executableSHA256 == nil && info.untangleVersion == "0.3.0")
        #expect(directory.writtenByVersion == "0.3.0")
        let now = RunInfo(runID: "0123456789ab", experiment: "q", seed: 0, threads: 1, gitCommit: "unknown", untangleVersion: "9.9.9",
                          executable: "/opt/bin/untangle", executableSHA256: "ff", started: "2026-12-06T23:00:00Z", blas: nil)
        try now.write(to: run + "/run.json")
        #expect(RunInfo.read(run + "/run.json") == now && directory.writtenByVersion == "9.9.9")
        #expect(try String(contentsOfFile: run + "/run.json", encoding: .utf8).contains("\"executable\" : \"/opt/bin/untangle\""))
        try Data("{\"run_id\": ".utf8).write(to: URL(fileURLWithPath: run + "/run.json"))
        #expect(directory.writtenByVersion == "0")
    }
}
