import Autodiff
import Datasets
@testable import Models
import TensorCore
import TestSupport
import Testing

/// `ConvEncoder.posteriorWithoutGradients` computes conv1–conv3 only where an image is not blank and
/// must give the dense encoder's codes bit for bit (with the packed GEMM kernel; under OpenBLAS it is the
/// dense encoder).
@Suite struct BlankSkippingTests {
    /// A dlib conv VAE with non-zero biases (a fresh one has zero biases, so the all-zero image's
    /// activations would be zeros and a wrong background would go unseen).
    func model(channels: Int) -> VAE {
        let model = VAE(architecture: .conv, imageShape: [channels, 64, 64], latentCount: 6, seed: 11)
        var rng = RandomGenerator(seed: 5)
        for p in model.encoder.parameters where p.name.hasSuffix(".bias") {
            p.value = rng.uniform(p.value.shape).map { $0 * 0.2 - 0.1 }
        }
        return model
    }

    func dense(_ model: VAE, _ x: Tensor) -> (Tensor, Tensor) {
        let (mean, logVariance) = model.encoder(Tape(recording: false).constant(x))
        return (mean.value, logVariance.value)
    }

    /// Images whose non-zero pixels sit everywhere a window can: dSprites' corners and largest sprites,
    /// blank, single pixels on every border and corner, two far-apart pixels, one pixel per conv3 row
    /// boundary, and a noise image with no blank pixel.
    func images(channels: Int) -> Tensor {
        var planes: [[Float]] = []
        let sprites = DSprites()
        var rng = RandomGenerator(seed: 2)
        let edgeCases = [0, sprites.count - 1] + (0..<22).map { _ in Int(rng.uniform([1]).scalar * Float(sprites.count - 1)) }
        for index in edgeCases {
            var plane = [Float](repeating: 0, count: 4096)
            plane.withUnsafeMutableBufferPointer { sprites.render(index, into: $0.baseAddress!) }
            planes.append(plane)
        }
        planes.append([Float](repeating: 0, count: 4096))
        for (y, x) in [(0, 0), (0, 63), (63, 0), (63, 63), (0, 31), (63, 40), (20, 0), (45, 63), (5, 10), (58, 60)] {
            var plane = [Float](repeating: 0, count: 4096)
            plane[y * 64 + x] = 0.75
            planes.append(plane)
        }
        for y in [2, 3, 4, 5, 10, 11, 12, 13, 50, 51, 52, 53] {
            var plane = [Float](repeating: 0, count: 4096)
            plane[y * 64 + y] = 1
            planes.append(plane)
        }
        var apart = [Float](repeating: 0, count: 4096)
        apart[3 * 64 + 7] = 1; apart[60 * 64 + 55] = -0.5
        planes.append(apart)
        planes.append(rng.uniform([4096]).scalars.map { $0 + 0.01 })
        // Colour images: the sprite in one channel, its shifted copy in another.
        let single = planes.flatMap { $0 }
        guard channels > 1 else { return Tensor(shape: [planes.count, 1, 64, 64], scalars: single) }
        var scalars: [Float] = []
        for plane in planes {
            for c in 0..<channels { scalars += c == 0 ? plane : Array(plane[(64 * c)...]) + [Float](repeating: 0, count: 64 * c) }
        }
        return Tensor(shape: [planes.count, channels, 64, 64], scalars: scalars)
    }

    @Test(arguments: [1, 3], [1, 2])
    func skippingBlankRegionsGivesTheDenseCodesBitForBit(channels: Int, threads: Int) {
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(1) }
        let model = model(channels: channels)
        let x = images(channels: channels)
        let (mean, logVariance) = dense(model, x)
        let (fastMean, fastLogVariance) = model.encoder.posteriorWithoutGradients(x)
        if ConvEncoder.skipsBlankRegions {
            for b in 0..<x.shape[0] {
                let (want, got) = (mean.slice(axis: 0, b..<(b + 1)), fastMean.slice(axis: 0, b..<(b + 1)))
                #expect(want == got, "image \(b), \(channels) channels, \(threads) threads: \(got.scalars) against \(want.scalars)")
            }
            #expect(logVariance == fastLogVariance)
        } else {
            #expect(maxAbsDifference(mean, fastMean) == 0, "without the packed kernel the dense encoder runs")
        }
    }

    @Test func reachedCellsAreExactlyTheCellsWhoseFieldMeetsThePixels() {
        for first in 0..<64 {
            for last in first..<64 {
                let want = (0..<8).filter { r in 8 * r - 3 <= last && 8 * r + 10 >= first }
                let got = ReachedCells.cells(first: first, last: last)
                #expect(Array(got) == want, "pixels \(first)…\(last)")
            }
        }
        #expect(ReachedCells.cells(first: .max, last: -1).isEmpty)
    }

    @Test func dSpritesImagesReachFewerCellsThanTheWholeGrid() {
        let sprites = DSprites()
        var plane = [Float](repeating: 0, count: 4096)
        var total = 0, images = 0
        for index in stride(from: 0, to: sprites.count, by: 997) {
            plane.withUnsafeMutableBufferPointer { sprites.render(index, into: $0.baseAddress!) }
            let cells = plane.withUnsafeBufferPointer { ReachedCells(image: $0.baseAddress!, channels: 1) }
            #expect(cells.size.cells >= 4 && cells.size.cells <= 49, "image \(index): \(cells)")
            total += cells.size.cells
            images += 1
        }
        #expect(Double(total) / Double(images) < 32, "mean \(Double(total) / Double(images)) of 64 cells")
    }
}
