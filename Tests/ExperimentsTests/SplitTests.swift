import Datasets
import Experiments
import Foundation
import ImageIO
import TensorCore
import Testing

/// Splits that fit a folder: stratified fractions for small finite data sets, refusals that name
/// the counts, never a score on an empty or single-class set.
@Suite struct SplitTests {
    let dir = temporaryDirectory()

    /// A folder of `perClass` dark and `perClass` bright 64×64 images with `labels.csv` (`cls`).
    func folder(_ name: String, perClass: [Int]) throws -> String {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 3)
        var csv = "file,cls\n"
        for (c, n) in perClass.enumerated() {
            for k in 0..<n {
                let base = c == 0 ? 40 : 200
                let pixels = (0..<4096).map { _ in UInt8(min(255, base + Int(rng.next() % 40))) }
                let file = "c\(c)-\(k).png"
                try PNGFile.write(RasterImage(width: 64, height: 64, channels: 1, pixels: pixels), to: path + "/" + file)
                csv += "\(file),\(c == 0 ? "no" : "yes")\n"
            }
        }
        try csv.write(toFile: path + "/labels.csv", atomically: true, encoding: .utf8)
        return path
    }

    func trainedRun(on folder: String) throws -> TrainedRun {
        let config = """
        [experiment]
        name = "folder"
        [data]
        dataset = "images:\(folder)?labels=\(folder)/labels.csv&label=cls"
        [model]
        architecture = "mlp"
        hidden = [16]
        latents = 2
        beta = 1.0
        [training]
        steps = 60
        batch_size = 16
        threads = 1
        [evaluation]
        held_out = 16
        """
        let trainer = try Trainer(config: ExperimentConfig.load(path: writeConfig(config, in: dir, name: "\(UUID()).toml")), resultsRoot: dir + "/results")
        try trainer.train()
        return try TrainedRun(path: trainer.run.path)
    }

    @Test func aSmallFolderIsSplitByClassNotSampledEmpty() throws {
        let trained = try trainedRun(on: try folder("sixty", perClass: [35, 25]))
        var lines: [String] = []
        let bundle = try trained.classify(trainCount: 4000, testCount: 1000, cnnSteps: 2) { lines.append($0) }
        #expect(bundle.splitRule == "stratified")
        #expect(bundle.testCount == 7 + 5 && bundle.trainCount == 28 + 20, "\(bundle.trainCount)/\(bundle.testCount)")
        #expect(lines.contains { $0.contains("48 training and 12 test images (stratified split)") }, "\(lines)")
        #expect(bundle.scores.values.allSatisfy { $0.balancedAccuracy > 0 })
        // 25 images in the smallest class: too few for one test set, so 5-fold cross-validation too,
        // every fold holding both classes (dealt round-robin: 7 dark and 5 bright images per fold).
        let cv = try #require(bundle.crossValidation)
        #expect(Set(cv.keys) == ["tree", "logistic", "cnn"] && cv.values.allSatisfy { $0.count == 5 })
        #expect(lines.filter { $0.contains("cross-validation fold") && $0.contains("12 test images") }.count == 5, "\(lines)")
        #expect(TrainedRun.classifierSummary(bundle).contains("5-fold stratified cross-validation"))
    }

    @Test func aLargeEnoughFolderHasNoCrossValidation() throws {
        let trained = try trainedRun(on: try folder("large", perClass: [150, 150]))
        let bundle = try trained.classify(trainCount: 4000, testCount: 1000, cnnSteps: 2)
        #expect(bundle.splitRule == "stratified" && bundle.crossValidation == nil)
    }

    @Test func classesTooSmallToSplitAreRefusedNamingTheCounts() throws {
        let trained = try trainedRun(on: try folder("six", perClass: [3, 3]))
        expectConfigError("class 'no' has 3 images", "no 3, yes 3", "at least 15 per class") {
            _ = try trained.classify(trainCount: 50, testCount: 10, cnnSteps: 2)
        }
    }
}
