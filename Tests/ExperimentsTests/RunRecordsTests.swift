@testable import Experiments
import Foundation
import Testing

/// `stages.json` and `failed.json` as typed records: round trips, the files earlier versions wrote,
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
}
