@testable import Datasets
import Foundation
import ImageIO
import TensorCore
import Testing

@Suite struct DSpritesTests {
    let data = DSprites()

    @Test func gridMatchesTheOfficialLayout() {
        #expect(data.count == 737_280)
        #expect(data.factorStrides == [245_760, 40_960, 1024, 32, 1])
        #expect(data.factors.map(\.classCount) == [3, 6, 40, 32, 32])
        #expect(Swift.abs(data.factors[2].values[39] - 2 * Double.pi) < 1e-12)
        #expect(data.index(of: [2, 5, 39, 31, 31]) == 737_279)
        #expect(data.classes(of: 1 * 245_760 + 2 * 40_960 + 3 * 1024 + 4 * 32 + 5) == [1, 2, 3, 4, 5])
        for index in [0, 1, 12_345, 737_279] { #expect(data.index(of: data.classes(of: index)) == index) }
    }

    @Test func everySingleFactorStepChangesAPixel() {
        // From many random base points, stepping any one factor by one class changes the image.
        var rng = RandomGenerator(seed: 1)
        for base in data.sampleClasses(60, rng: &rng) {
            let image = data.image(data.index(of: base))
            #expect(image.scalars.contains(1), "empty sprite at \(base)")
            for f in 0..<5 where base[f] + 1 < data.factors[f].classCount {
                var next = base
                next[f] += 1
                #expect(data.image(data.index(of: next)) != image, "step of \(data.factors[f].name) at \(base) changed nothing")
            }
        }
    }

    @Test func noSpriteLeavesTheFrame() {
        // Largest scale, every shape and orientation, at the four extreme positions.
        for shape in 0..<3 { for orientation in 0..<40 { for (x, y) in [(0, 0), (0, 31), (31, 0), (31, 31)] {
            let image = data.image(data.index(of: [shape, 5, orientation, x, y]))
            var border: Float = 0
            for k in 0..<64 { border += image[0, 0, k] + image[0, 63, k] + image[0, k, 0] + image[0, k, 63] }
            #expect(border == 0, "shape \(shape) orientation \(orientation) at (\(x), \(y)) touches the border")
        } } }
    }

    @Test func samplingIsSeededAndFixingHoldsAFactor() {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        #expect(data.sample(8, rng: &a).images == data.sample(8, rng: &b).images)
        let fixed = data.sampleClasses(64, fixing: 1, rng: &a)
        #expect(Set(fixed.map { $0[1] }).count == 1)
        #expect(Set(fixed.map { $0[3] }).count > 1)
    }
}

@Suite struct DSpritesFileTests {
    @Test func loadsTheNpzGridInCOrder() throws {
        for name in ["mini_dsprites.npz", "mini_dsprites_stored.npz"] {
            let data = try DSpritesFile(path: fixture(name))
            #expect(data.factors.map(\.classCount) == [3, 2, 2, 2, 2])
            #expect(data.factors[0].classNames == ["square", "ellipse", "heart"])
            #expect(data.factors[1].values == [0.5, 1.0])
            #expect(data.count == 48 && data.imageShape == [1, 64, 64])
            let raw = try ZipArchive(path: fixture(name)).array("imgs")
            let image = data.image(17)
            #expect(image.scalars == raw.bytes[(17 * 4096)..<(18 * 4096)].map { Float($0) })
        }
    }

    @Test func rejectsMisorderedOrMistypedFiles() {
        expectDataError("wrong_order.npz", "C order") { _ = try DSpritesFile(path: fixture("wrong_order.npz")) }
        expectDataError("wrong_dtype.npz", "uint8") { _ = try DSpritesFile(path: fixture("wrong_dtype.npz")) }
        expectDataError("truncated.npz") { _ = try DSpritesFile(path: fixture("truncated.npz")) }
        expectDataError("missing.npz", "no such file") { _ = try DSpritesFile(path: fixture("missing.npz")) }
    }
}

@Suite struct LesionsTests {
    let data = Lesions()

    @Test(arguments: Lesions.Variant.allCases)
    func labelRuleAndMasks(variant: Lesions.Variant) {
        let data = Lesions(variant: variant)
        let names = data.factors.map(\.name)
        let size = names.firstIndex(of: "size")!, blur = names.firstIndex(of: "blur")!
        var rng = RandomGenerator(seed: 4)
        var malignant = 0
        for classes in data.sampleClasses(400, rng: &rng) {
            let index = data.index(of: classes)
            // The rule, from the factor values themselves.
            let expected = data.factors[size].values[classes[size]] >= 8.5 && data.factors[blur].values[classes[blur]] >= 3 ? 1 : 0
            #expect(data.label(of: index) == expected)
            malignant += expected
            // The mask area grows with πab.
            let (a, b) = data.radii(classes: classes)
            let area = Double(data.mask(index).sumDouble())
            #expect(Swift.abs(area - Double.pi * a * b) < 0.25 * Double.pi * a * b + 6)
            // The whole mask lies inside the image.
            #expect(area > 0)
        }
        let share = variant == .standard ? 2.0 / 7 : 0.25
        #expect(Swift.abs(Double(malignant) / 400 - share) < 0.07, "\(variant): \(malignant)/400 malignant, expected ≈ \(share)")
    }

    @Test func standardVariantIsRoundWithFewerNuisanceFactors() throws {
        #expect(data.factors.map(\.name) == ["size", "blur", "posX", "posY", "texture"])
        #expect(data.count == 7 * 6 * 8 * 8 * 4)
        #expect(Lesions(variant: .hard).count == 6 * 4 * 8 * 8 * 8 * 4 * 4 * 5)
        #expect(try (DatasetSpec(parsing: "lesions?variant=hard").open() as? Lesions)?.variant == .hard)
        expectDataError("unknown variant 'easy'") { _ = try DatasetSpec(parsing: "lesions?variant=easy").open() }
        // A run from before 0.4.0 meant today's hard grid by `lesions`; a new run means the standard one.
        let plain = try DatasetSpec(parsing: "lesions")
        #expect(plain.asWritten(byVersion: "0.3.0").description == "lesions?variant=hard")
        #expect(plain.asWritten(byVersion: "0").description == "lesions?variant=hard")
        #expect(plain.asWritten(byVersion: "0.4.0").description == "lesions")
        #expect(try DatasetSpec(parsing: "lesions?variant=standard").asWritten(byVersion: "0.2.0").description == "lesions?variant=standard")
        #expect(try DatasetSpec(parsing: "dsprites").asWritten(byVersion: "0.2.0").description == "dsprites")
        // Size and blur change the image (squared error, what a reconstruction loss sees) far more than
        // the nuisance texture does.
        func change(_ a: [Int], _ b: [Int]) -> Double {
            let x = data.image(data.index(of: a)).scalars, y = data.image(data.index(of: b)).scalars
            return zip(x, y).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        }
        let base = [3, 2, 4, 4, 1]
        let bySize = change(base, [6, 2, 4, 4, 1]), byBlur = change(base, [3, 5, 4, 4, 1]), byTexture = change(base, [3, 2, 4, 4, 2])
        #expect(bySize > 10 * byTexture && byBlur > 5 * byTexture, "size \(bySize), blur \(byBlur), texture \(byTexture)")
    }

    @Test(arguments: Lesions.Variant.allCases)
    func lesionIsBrighterInsideItsMaskAndTextureIsANuisance(variant: Lesions.Variant) {
        let data = Lesions(variant: variant)
        let names = data.factors.map(\.name)
        var classes = data.factors.map { $0.classCount / 2 }
        classes[names.firstIndex(of: "blur")!] = 0
        if let contrast = names.firstIndex(of: "contrast") { classes[contrast] = 3 }
        let index = data.index(of: classes)
        let image = data.image(index), mask = data.mask(index)
        var inside = 0.0, outside = 0.0, nIn = 0.0, nOut = 0.0
        for i in 0..<4096 {
            if mask.scalars[i] > 0 { inside += Double(image.scalars[i]); nIn += 1 } else { outside += Double(image.scalars[i]); nOut += 1 }
        }
        #expect(inside / nIn - outside / nOut > 0.3)
        // Changing only the texture leaves label and mask unchanged but changes the image.
        let texture = names.firstIndex(of: "texture")!
        classes[texture] = (classes[texture] + 1) % data.factors[texture].classCount
        let other = data.index(of: classes)
        #expect(data.label(of: other) == data.label(of: index) && data.mask(other) == mask)
        #expect(data.image(other) != image)
        #expect(image.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func labelNoiseFlipsAboutTheRequestedShareDeterministically() {
        let noisy = Lesions(labelNoise: 0.2, noiseSeed: 1)
        var flips = 0
        for index in stride(from: 0, to: noisy.count, by: 3) where noisy.label(of: index) != data.label(of: index) { flips += 1 }
        let share = Double(flips) / Double((noisy.count + 2) / 3)
        #expect(Swift.abs(share - 0.2) < 0.02)
        #expect(noisy.label(of: 1234) == Lesions(labelNoise: 0.2, noiseSeed: 1).label(of: 1234))
    }
}

@Suite struct ImageFolderTests {
    @Test func readsGreySixteenBitAndRGBWithLabels() throws {
        let folder = try ImageFolder(directory: fixture("folder"), labelsCSV: fixture("folder/labels.csv"), labelColumn: "diagnosis")
        #expect(folder.files == ["a_grey8.png", "b_grey16.png", "c_rgb.png"])
        #expect(folder.imageShape == [3, 2, 4], "an RGB file makes the set RGB")
        #expect(folder.labelNames == ["benign", "malignant"])
        #expect((0..<3).map { folder.label(of: $0) } == [0, 1, 0])
        #expect(folder.attributes["age"] == ["40", "51", "33"])
        let grey = folder.image(0)
        #expect(grey[0, 0, 1] == Float(85) / 255 && grey[2, 0, 1] == grey[0, 0, 1])
        let sixteen = folder.image(1)
        #expect(sixteen[0, 0, 1] == 1 && sixteen[0, 0, 0] == 0)
        let rgb = folder.image(2)
        #expect(rgb[0, 0, 0] == 1 && rgb[1, 0, 0] == 0 && rgb[2, 1, 3] == 1)
    }

    @Test func resizesByCentreCropAndAreaAveraging() throws {
        let folder = try ImageFolder(directory: fixture("mixed_sizes"), resize: true, size: 64)
        #expect(folder.imageShape == [1, 64, 64])
        let image = RasterImage(width: 4, height: 2, channels: 1, pixels: [0, 100, 200, 255, 0, 100, 200, 255])
        let small = ImageFolder.cropAndResize(image, to: 1)
        #expect(small.pixels == [150], "centre 2×2 crop [100, 200; 100, 200] averages to 150")
        #expect(ImageFolder.cropAndResize(image, to: 4).pixels[0] == 100)
    }

    /// A file of a lazily read folder removed or resized mid-run stops the command with this message
    /// and status 65 (`render` cannot throw), not a crash; checked by hand with an 11,000-image
    /// folder whose files were deleted during `untangle train` (exit 65, checkpoints intact).
    @Test func aFolderChangedMidRunStopsWithAMessageNamingTheFile() {
        let message = ImageFolder.stopMessage(DataError("/data/x/img-7.png", "is 32×32 now, 64×64 when the folder was opened"))
        #expect(message.hasPrefix("Error: /data/x/img-7.png: is 32×32 now, 64×64 when the folder was opened"))
        #expect(message.contains("nothing finished was lost") && message.contains("--resume"))
    }

    @Test func clearErrorsNamingTheFile() {
        expectDataError("b.png", "3×3", "a.png") { _ = try ImageFolder(directory: fixture("mixed_sizes")) }
        expectDataError("not_png/b.png", "unreadable image") { _ = try ImageFolder(directory: fixture("not_png")) }
        // A FIFO named like an image would block libpng for ever: refused at once, named; the message
        // says the path once.
        let withPipe = NSTemporaryDirectory() + "pipe-folder-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: withPipe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: withPipe) }
        try? FileManager.default.copyItem(atPath: fixture("folder/a_grey8.png"), toPath: withPipe + "/a.png")
        #expect(mkfifo(withPipe + "/b.png", 0o600) == 0)
        expectDataError("pipe-folder", "b.png: unreadable image: is not a regular file") { _ = try ImageFolder(directory: withPipe) }
        expectDataError("missing_label.csv", "missing label", "b_grey16.png") {
            _ = try ImageFolder(directory: fixture("folder"), labelsCSV: fixture("folder/missing_label.csv"), labelColumn: "diagnosis")
        }
        expectDataError("missing_row.csv", "no row for image 'b_grey16.png'") {
            _ = try ImageFolder(directory: fixture("folder"), labelsCSV: fixture("folder/missing_row.csv"), labelColumn: "diagnosis")
        }
        expectDataError("no column 'grade'") {
            _ = try ImageFolder(directory: fixture("folder"), labelsCSV: fixture("folder/labels.csv"), labelColumn: "grade")
        }
        expectDataError("nowhere", "no such directory") { _ = try ImageFolder(directory: fixture("nowhere")) }
    }
}

@Suite struct DatasetSpecTests {
    @Test func parsesKindsPathsAndOptions() throws {
        #expect(try DatasetSpec(parsing: "dsprites").open() is DSprites)
        #expect(try DatasetSpec(parsing: "dsprites:\(fixture("mini_dsprites.npz"))").open() is DSpritesFile)
        let lesions = try DatasetSpec(parsing: "lesions?noise=0.1&seed=2").open() as? Lesions
        #expect(lesions?.labelNoise == 0.1 && lesions?.noiseSeed == 2)
        let spec = try DatasetSpec(parsing: "images:\(fixture("folder"))?labels=\(fixture("folder/labels.csv"))&label=diagnosis")
        #expect((try spec.open() as? ImageFolder)?.labelNames == ["benign", "malignant"])
    }

    @Test func rejectsUnknownKindsAndOptions() {
        expectDataError("unknown data set 'mnist'") { _ = try DatasetSpec(parsing: "mnist") }
        expectDataError("unknown option 'size'") { _ = try DatasetSpec(parsing: "lesions?size=3") }
        expectDataError("noise must lie in [0, 0.5)") { _ = try DatasetSpec(parsing: "lesions?noise=0.7").open() }
        expectDataError("images needs a directory") { _ = try DatasetSpec(parsing: "images") }
    }
}

@Suite struct PNGTests {
    @Test func writeThenReadRoundTripsBytesAndIsDeterministic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-png-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = RasterImage(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 14) })
        let (p1, p2) = (dir + "/a.png", dir + "/b.png")
        try PNGFile.write(image, to: p1)
        try PNGFile.write(image, to: p2)
        #expect(try PNGFile.read(p1) == image)
        #expect(FileManager.default.contents(atPath: p1) == FileManager.default.contents(atPath: p2))
        #expect(try PNGFile.read(p1, channels: 1).channels == 1)
        let grid = ImageGrid.tile(Tensor.ones([5, 1, 4, 4]), columns: 2, spacing: 1)
        #expect(grid.shape == [1, 3 * 4 + 4, 2 * 4 + 3])
    }
}

@Suite struct PairSamplingTests {
    func differences(_ a: [Int], _ b: [Int]) -> Int { zip(a, b).filter { $0 != $1 }.count }

    @Test func fixedKPairsDifferInExactlyKFactors() {
        let grid = FactorGrid(classCounts: [3, 1, 5, 2, 4])
        for k in 1...4 {
            var rng = RandomGenerator(seed: UInt64(k))
            let (first, second) = grid.samplePairClasses(500, changing: .fixed(k), rng: &rng)
            for (a, b) in zip(first, second) {
                #expect(differences(a, b) == k)
                #expect(a[1] == 0 && b[1] == 0, "a one-class factor never changes")
                for (f, c) in b.enumerated() { #expect(c >= 0 && c < grid.factors[f].classCount) }
            }
            // Every variable factor is the changed one sometimes.
            if k == 1 {
                let changed = Set(zip(first, second).map { a, b in a.indices.first { a[$0] != b[$0] }! })
                #expect(changed == [0, 2, 3, 4])
            }
        }
    }

    @Test func randomKCoversOneToFMinusOneAndIsSeeded() {
        let grid = FactorGrid(classCounts: [3, 6, 4, 8])
        var rng = RandomGenerator(seed: 9)
        let (first, second) = grid.samplePairClasses(2000, changing: .random, rng: &rng)
        let ks = zip(first, second).map { differences($0, $1) }
        #expect(Set(ks) == [1, 2, 3])
        for k in 1...3 {
            let fraction: Double = Double(ks.filter { $0 == k }.count) / 2000
            #expect(Swift.abs(fraction - 1.0 / 3) < 0.05)
        }
        var again = RandomGenerator(seed: 9)
        let repeated = grid.samplePairClasses(2000, changing: .random, rng: &again)
        #expect(repeated.first == first && repeated.second == second)
    }

    @Test func pairBatchStacksFirstImagesThenPartners() {
        let data = DSprites()
        var rng = RandomGenerator(seed: 2)
        var copy = rng
        let batch = data.samplePairBatch(3, changing: .fixed(1), rng: &rng)
        let (first, second) = data.samplePairClasses(3, changing: .fixed(1), rng: &copy)
        #expect(batch.shape == [6, 1, 64, 64])
        #expect(batch.scalars == data.images(classes: first + second).scalars)
    }
}
