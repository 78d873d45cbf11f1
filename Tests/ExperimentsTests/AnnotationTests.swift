import Datasets
import Experiments
import Foundation
import ImageIO
import Metrics
import TensorCore
import Testing

/// A user's own annotations as ground truth: CSV columns become factors for naming and metrics.
@Suite struct AnnotationTests {
    let dir = temporaryDirectory()

    @Test func columnsBecomeFactorsWithMissingCellsLeftOut() {
        let numeric = AnnotatedFactor(name: "size", cells: ["3", "4", "", "3", "5"])
        #expect(numeric.isNumeric && numeric.classNames == ["3", "4", "5"] && numeric.classes == [0, 1, nil, 0, 2] && numeric.missing == 1)
        let many = AnnotatedFactor(name: "mm", cells: (0..<100).map { String(Double($0) / 10) })
        #expect(many.isNumeric && many.classCount == AnnotatedFactor.maximumClasses)
        #expect(many.classes.compactMap { $0 } == (0..<100).map { $0 / 5 }, "equal-frequency bins, in value order")
        let text = AnnotatedFactor(name: "site", cells: ["b", "a", "b", ""])
        #expect(!text.isNumeric && text.classNames == ["a", "b"] && text.classes == [1, 0, 1, nil])
    }

    /// 120 images of one bright square whose brightness is annotated (`brightness`), a random
    /// `site` with a few empty cells, an identifier column and the label `bright`.
    func annotatedFolder() throws -> String {
        let path = dir + "/annotated"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 9)
        var csv = "file,brightness,site,id,bright\n"
        for k in 0..<120 {
            let level = 30 + Int(rng.next() % 220)
            var pixels = [UInt8](repeating: 0, count: 4096)
            for y in 20..<44 { for x in 20..<44 { pixels[y * 64 + x] = UInt8(level) } }
            let file = String(format: "img-%03d.png", k)
            try PNGFile.write(RasterImage(width: 64, height: 64, channels: 1, pixels: pixels), to: path + "/" + file)
            let site = k % 17 == 0 ? "" : ["north", "south", "east"][Int(rng.next() % 3)]
            csv += "\(file),\(level),\(site),patient-\(k),\(level > 140 ? "yes" : "no")\n"
        }
        try csv.write(toFile: path + "/labels.csv", atomically: true, encoding: .utf8)
        return path
    }

    @Test func probeNamesLatentsAfterTheUsersColumnsAndMetricsUseThem() throws {
        let folder = try annotatedFolder()
        let config = """
        [experiment]
        name = "annotated"
        [data]
        dataset = "images:\(folder)?labels=\(folder)/labels.csv&label=bright"
        [model]
        architecture = "mlp"
        hidden = [32]
        latents = 1
        beta = 1.0
        [training]
        steps = 300
        batch_size = 16
        learning_rate = 3e-3
        threads = 1
        [evaluation]
        held_out = 32
        """
        let trainer = try Trainer(config: ExperimentConfig.load(path: writeConfig(config, in: dir, name: "a.toml")), resultsRoot: dir + "/results")
        try trainer.train()
        let trained = try TrainedRun(path: trainer.run.path)
        let summary = try #require(trained.annotationSummary())
        #expect(summary.contains("brightness: numeric, 20 classes") && summary.contains("site: categorical, 3 classes, 8 of 120 cells missing"), "\(summary)")
        #expect(summary.contains("bright: not used (the label being predicted)") && summary.contains("id: not used"), "\(summary)")
        let names = try trained.probe(points: 1000)
        #expect(names.allSatisfy { $0.source == "annotation" })
        #expect(names.map(\.name) == ["brightness"], "\(names.map { "\($0.name) \($0.share)" })")
        #expect(!names.contains { $0.name.hasPrefix("site") }, "a random column names nothing: \(names.map(\.name))")
        let mi = try String(contentsOfFile: trainer.run.path + "/mi_matrix.csv", encoding: .utf8)
        #expect(mi.hasPrefix("latent,brightness,site\n"), "\(mi)")
        let (values, _) = try trained.evaluate(try MetricRegistry.parseList("mig,modularity"), seed: 0)
        let mig = try #require(values.first { $0.0 == "mig" }?.1)
        // One latent carries brightness (MI near its entropy), the random site carries nothing:
        // MIG averages the two factors' gaps, so about half of brightness's.
        #expect(mig > 0.2 && mig < 0.6, "MIG on the annotations \(mig)")
        expectConfigError("betavae", "factor grid") { _ = try trained.evaluate(try MetricRegistry.parseList("betavae")) }
    }
}
