import Autodiff
import Experiments
import Foundation
import Metrics
import Testing

@Suite struct EvaluationTests {
    let dir = temporaryDirectory()

    @Test func evaluateAndProbeATinyRun() throws {
        let t = try Trainer(config: ExperimentConfig.load(path: writeConfig(tinyConfig(steps: 12), in: dir)), resultsRoot: dir)
        try t.train()
        let trained = try TrainedRun(path: t.run.path)
        let (values, seconds) = try trained.evaluate(MetricRegistry.all, trainCount: 200, evalCount: 100, batchSize: 8)
        let names = Set(values.map(\.0))
        for key in ["betavae.eval_accuracy", "factorvae.eval_accuracy", "mig", "sap", "dci.disentanglement", "dci.completeness",
                    "modularity", "explicitness", "gaussian_total_correlation", "mutual_info_score", "active_units"] {
            #expect(names.contains(key), "\(key)")
        }
        #expect(values.allSatisfy { $0.1.isFinite })
        #expect(seconds.count >= MetricRegistry.all.count)
        let record = trained.evaluationRecord(values: values, seconds: seconds, trainCount: 200, evalCount: 100, batchSize: 8, seed: 0)
        try record.write(to: trained.run)
        let read = try #require(try EvaluationRecord.read(from: trained.run))
        #expect(read == record && read.scores.count == values.count && read.trainPoints == 200 && read.batchSize == 8)
        #expect(Set(read.seconds.keys) == Set(seconds.map(\.0)))

        let probed = try trained.probe(renames: [1: "my-name"], points: 300)
        #expect(probed.count == 3 && probed[1].name == "my-name" && probed[1].source == "user")
        #expect(FileManager.default.fileExists(atPath: t.run.path + "/factors.json"))
        let csv = try String(contentsOfFile: t.run.path + "/mi_matrix.csv", encoding: .utf8)
        #expect(csv.hasPrefix("latent,shape,scale,orientation,posX,posY") && csv.split(separator: "\n").count == 4)
        #expect(TrainedRun.nameTable(probed).contains("my-name"))
    }

    /// Encoding in pieces of `encodingPiece` images gives each image the code one encoder call
    /// over the whole batch gives it (within float rounding), in order, for a batch that is not a
    /// multiple of the piece, and an empty batch gives `[0, Z]`.
    @Test func encodingInPiecesMatchesOneCall() throws {
        let t = try Trainer(config: ExperimentConfig.load(path: writeConfig(tinyConfig(steps: 2), in: dir)), resultsRoot: dir)
        try t.train()
        let trained = try TrainedRun(path: t.run.path)
        let n = trained.encodingPiece * 2 + 5
        let x = trained.heldOutImages(n)
        let (mean, logVariance) = trained.encodePosterior(x)
        let tape = Tape(recording: false)
        let whole = trained.model.encoder(tape.constant(x))
        #expect(mean.shape == [n, 3] && logVariance.shape == [n, 3])
        #expect(zip(mean.scalars, whole.mean.value.scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(zip(logVariance.scalars, whole.logVariance.value.scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(trained.encodeMeans(x).scalars == mean.scalars)
        #expect(trained.encodePosterior(x.slice(axis: 0, 0..<0)).mean.shape == [0, 3])
    }

    @Test func metricListsAreValidated() throws {
        #expect(try MetricRegistry.parseList("mig, dci").map(\.name) == ["mig", "dci"])
        #expect(try MetricRegistry.parseList("all").count == MetricRegistry.all.count)
        #expect(throws: UnknownMetric.self) { try MetricRegistry.parseList("mig,foo") }
    }
}
