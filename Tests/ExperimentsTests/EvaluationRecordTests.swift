import Experiments
import Foundation
import Testing

/// `evaluation.json` through its one type: the flat layout disentanglement_lib's readers expect,
/// a lossless round trip, and damaged files named rather than half-read.
@Suite struct EvaluationRecordTests {
    /// A directory that `RunDirectory(existing:)` accepts.
    func runDirectory() throws -> RunDirectory {
        let path = temporaryDirectory()
        try "".write(toFile: path + "/config.toml", atomically: true, encoding: .utf8)
        return try RunDirectory(existing: path)
    }

    let record = EvaluationRecord(trainPoints: 10_000, evalPoints: 5_000, batchSize: 64, seed: 3,
                                  scores: ["mig": 0.3094, "dci.disentanglement": 0.125, "active_units": 7],
                                  seconds: ["encode-sample": 2.5, "mig": 0.01])

    @Test func roundTripsAndStaysFlat() throws {
        let run = try runDirectory()
        let path = try record.write(to: run)
        #expect(try EvaluationRecord.read(from: run) == record)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(Set(object.keys) == ["train_points", "eval_points", "batch_size", "seed", "seconds", "mig", "dci.disentanglement", "active_units"])
        #expect(object["mig"] as? Double == 0.3094 && object["seed"] as? Int == 3)
        #expect((object["seconds"] as? [String: Double])?["encode-sample"] == 2.5)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.range(of: "\"active_units\"")!.lowerBound < text.range(of: "\"batch_size\"")!.lowerBound, "sorted keys")
    }

    @Test func anUnevaluatedRunHasNoRecord() throws {
        #expect(try EvaluationRecord.read(from: try runDirectory()) == nil)
    }

    @Test(arguments: [
        "{\"mig\": 0.3, \"seconds\": {}, \"eval_points\": 5, \"batch_size\": 64, \"seed\": 0}",                          // no train_points
        "{\"mig\": \"high\", \"seconds\": {}, \"train_points\": 9, \"eval_points\": 5, \"batch_size\": 64, \"seed\": 0}",  // a score not a number
        "{\"mig\": 0.3, \"seconds\": 4, \"train_points\": 9, \"eval_points\": 5, \"batch_size\": 64, \"seed\": 0}",        // seconds not an object
        "[1, 2",
    ])
    func aDamagedRecordIsNamed(text: String) throws {
        let run = try runDirectory()
        try text.write(toFile: run.path + "/evaluation.json", atomically: true, encoding: .utf8)
        expectConfigError("evaluation.json", "cannot be read") { _ = try EvaluationRecord.read(from: run) }
    }
}
