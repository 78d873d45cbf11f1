import Datasets
import Foundation
import ImageIO
import TensorCore
import Testing

/// A user's own images with ground-truth masks: a `mask` column in the labels CSV makes a folder a
/// `MaskedDataset`; mask files are not images; a wrong or missing mask is named.
@Suite struct FolderMaskTests {
    /// Writes `count` standard lesions as PNGs with their masks under `masks/` and a labels CSV
    /// (`file,diagnosis,size,blur,mask`); returns the folder and the lesion indices used.
    static func lesionFolder(count: Int, maskSize: Int = 64, omitMaskOf: Int? = nil) throws -> (String, [Int]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-masks-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
        let lesions = Lesions()
        var rng = RandomGenerator(seed: 11)
        let indices = (0..<count).map { _ in rng.int(below: lesions.count) }
        var csv = "file,diagnosis,size,blur,mask\n"
        for (k, index) in indices.enumerated() {
            let name = String(format: "img%03d.png", k)
            try PNGFile.write(RasterImage(tensor: lesions.image(index)), to: dir + "/" + name)
            var mask = lesions.mask(index).reshaped([1, 64, 64])
            if maskSize != 64 { mask = Tensor.zeros([1, maskSize, maskSize]) }
            if k != omitMaskOf { try PNGFile.write(RasterImage(tensor: mask), to: dir + "/masks/" + name) }
            let c = lesions.classes(of: index)
            csv += "\(name),\(lesions.labelNames[lesions.label(of: index)]),\(lesions.factors[0].describe(c[0])),\(lesions.factors[1].describe(c[1])),"
            csv += k == omitMaskOf ? "\n" : "masks/\(name)\n"
        }
        try csv.write(toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
        return (dir, indices)
    }

    @Test func maskColumnGivesMasksThatAreNotImagesNorAnnotations() throws {
        let (dir, indices) = try FolderMaskTests.lesionFolder(count: 12)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = try #require(try DatasetSpec(parsing: "images:\(dir)?labels=\(dir)/labels.csv&label=diagnosis&rule=size+blur").open() as? ImageFolder)
        #expect(folder.count == 12, "the 12 mask PNGs under masks/ are not images of the set")
        #expect(folder.hasMasks && folder.maskedView != nil)
        #expect(folder.attributes["mask"] == nil && !folder.annotations.factors.map(\.name).contains("mask"))
        #expect(folder.ruleFactors == ["size", "blur"] && folder.ruleDescription.contains("size and blur"))
        let lesions = Lesions()
        for (k, index) in indices.enumerated() { #expect(folder.mask(k) == lesions.mask(index), "mask of image \(k)") }
        // Without a mask column: a labelled folder, but no masks to score saliency against.
        let plain = try ImageFolder(directory: dir + "/masks")
        #expect(!plain.hasMasks && plain.maskedView == nil)
    }

    @Test func aMissingOrMisSizedMaskOrAnUnknownRuleColumnIsNamed() throws {
        let (missing, _) = try FolderMaskTests.lesionFolder(count: 4, omitMaskOf: 2)
        defer { try? FileManager.default.removeItem(atPath: missing) }
        expectDataError("no mask for image 'img002.png'") { _ = try ImageFolder(directory: missing, labelsCSV: missing + "/labels.csv") }
        let (small, _) = try FolderMaskTests.lesionFolder(count: 3, maskSize: 32)
        defer { try? FileManager.default.removeItem(atPath: small) }
        expectDataError("masks/img000.png", "is 32×32 but the images are 64×64") { _ = try ImageFolder(directory: small, labelsCSV: small + "/labels.csv") }
        let (ok, _) = try FolderMaskTests.lesionFolder(count: 3)
        defer { try? FileManager.default.removeItem(atPath: ok) }
        expectDataError("rule factor 'border' is no column") {
            _ = try DatasetSpec(parsing: "images:\(ok)?labels=\(ok)/labels.csv&label=diagnosis&rule=size+border").open()
        }
        expectDataError("rule factor 'diagnosis' is the label itself") {
            _ = try ImageFolder(directory: ok, labelsCSV: ok + "/labels.csv", labelColumn: "diagnosis", ruleFactors: ["diagnosis"])
        }
    }
}
