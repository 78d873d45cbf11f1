import Foundation
import Metrics
import TensorCore
import Testing

@Suite struct ProbingTests {
    @Test func namingRuleOnAnMIMatrix() {
        // Entropies 1 each; z0 captures f0 alone, z1 mixes f0 and f1, z2 is inactive, z3's runner-up is
        // more than half the best, z4 knows too little of any factor.
        let mi: [[Double]] = [[0.9, 0.05, 0.05], [0.5, 0.45, 0.0], [0.8, 0.0, 0.0], [0.55, 0.30, 0.01], [0.05, 0.01, 0.01]]
        let names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: [1, 1, 1],
                                                 factorNames: ["shape", "scale", "posX"], kl: [2, 1.5, 0.001, 1, 1])
        #expect(names.map(\.name) == ["shape", "mixed(shape,scale)", "inactive", "mixed(shape,scale)", "unnamed"])
        #expect(Swift.abs(names[0].share - 0.9) < 1e-12 && Swift.abs(names[0].gap - 0.85) < 1e-12)
        #expect(names[0].runnerUp == "scale" && Swift.abs(names[0].runnerUpShare! - 0.05) < 1e-12)
        // The case: posY 0.48 nats beside the three-valued shape 0.08 is posY, not mixed.
        let posY = LatentNaming.fromGroundTruth(mutualInformation: [[0.08, 0.02, 0.48]], factorEntropies: [log(3), log(6), log(32)],
                                                factorNames: ["shape", "scale", "posY"], kl: [1])
        #expect(posY[0].name == "posY")
        #expect(LatentNaming.factor(of: "posX (2 of 3)") == "posX" && LatentNaming.factor(of: "mixed(a,b)") == "mixed(a,b)")
    }

    /// Names of synthetic codes `codes[latent][point]` against uniformly drawn factors posX, posY (32
    /// classes each) and shape (3), through the same MI estimate `probe` uses (20 bins, plug-in).
    func names(_ make: (_ x: Double, _ y: Double, _ shape: Double, _ rng: inout RandomGenerator) -> [Double]) -> [String] {
        var rng = RandomGenerator(seed: 11)
        let n = 10_000
        var factors = [[Int]](repeating: [], count: 3), codes: [[Float]] = []
        for _ in 0..<n {
            let c = [rng.int(below: 32), rng.int(below: 32), rng.int(below: 3)]
            for f in 0..<3 { factors[f].append(c[f]) }
            let z = make(Double(c[0]) / 31, Double(c[1]) / 31, Double(c[2]) / 2, &rng)
            if codes.isEmpty { codes = z.map { _ in [] } }
            for (l, v) in z.enumerated() { codes[l].append(Float(v)) }
        }
        let mi = Information.matrix(codes: codes.map { Information.discretize($0) }, factors: factors)
        return LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: factors.map(Information.entropy),
                                            factorNames: ["posX", "posY", "shape"], kl: codes.map { _ in 1 }).map(\.name)
    }

    @Test func namingKnownAnswersOnSyntheticCodes() {
        func noise(_ rng: inout RandomGenerator, _ s: Double = 0.01) -> Double { s * Double(rng.normal([1]).scalars[0]) }
        #expect(names { x, y, s, r in [x + noise(&r), y + noise(&r), s + noise(&r)] } == ["posX", "posY", "shape"], "identity")
        #expect(names { x, y, s, r in [s + noise(&r), x + noise(&r), y + noise(&r)] } == ["shape", "posX", "posY"], "permuted")
        let small = 15.0 * .pi / 180, half = 45.0 * .pi / 180
        #expect(names { x, y, _, _ in [cos(small) * x + sin(small) * y, -sin(small) * x + cos(small) * y] } == ["posX", "posY"],
                "a slight rotation keeps the names")
        let rotated = names { x, y, _, _ in [cos(half) * x + sin(half) * y, -sin(half) * x + cos(half) * y] }
        #expect(rotated.allSatisfy { $0.hasPrefix("mixed(") }, "a 45° rotation mixes posX and posY: \(rotated)")
        #expect(names { x, _, _, r in [x + noise(&r, 0.03), x + noise(&r, 0.1)] } == ["posX (1 of 2)", "posX (2 of 2)"],
                "a factor split over two latents")
        #expect(names { _, _, _, r in [noise(&r, 1), noise(&r, 1)] } == ["unnamed", "unnamed"], "pure noise")
        #expect(names { _, y, s, r in [y + 0.15 * s + noise(&r)] } == ["posY"], "a little shape beside much posY")
    }

    @Test func imagePropertiesOfKnownShapes() {
        var image = [Float](repeating: 0, count: 16 * 16)
        for x in 2..<14 { image[7 * 16 + x] = 1; image[8 * 16 + x] = 1 } // horizontal bar, rows 7–8
        let p = ImageProperties.measure(image[...], height: 16, width: 16)
        #expect(Swift.abs(p[0] - 7.5) < 1e-9 && Swift.abs(p[1] - 7.5) < 1e-9 && p[2] == 24)
        let dimmer = image.map { $0 * 0.4 }
        let q = ImageProperties.measure(dimmer[...], height: 16, width: 16)
        #expect(q[2] == 24 && Swift.abs(q[3] - 0.4 * p[3]) < 1e-9, "brightness changes the mean intensity, not the area")
        #expect(Swift.abs(p[4]) < 1e-9, "orientation of a horizontal bar is 0")
        #expect(p[5] > 0.9, "a bar is eccentric")
        var disk = [Float](repeating: 0, count: 32 * 32)
        for y in 0..<32 { for x in 0..<32 where pow(Double(x) - 15.5, 2) + pow(Double(y) - 15.5, 2) < 100 { disk[y * 32 + x] = 1 } }
        #expect(ImageProperties.measure(disk[...], height: 32, width: 32)[5] < 0.2)
    }

    @Test func namingFromTraversals() {
        let values = (0..<11).map { Double($0) }
        // Latent 0 moves the centroid x; latent 1 changes nothing monotone; latent 2 is inactive.
        let moving: [[Double]] = [values.map { 10 + $0 }, values.map { _ in 5 }, values.map { sin($0) }]
        let flat: [[Double]] = [values.map { sin($0 * 2) }, values.map { cos($0 * 3) }, values.map { _ in 1 }]
        let names = LatentNaming.fromTraversals(properties: [moving, flat, moving], propertyNames: ["centroidX", "centroidY", "area"],
                                                values: values, scales: [1, 1, 1], kl: [1, 1, 0])
        #expect(names.map(\.name) == ["centroidX", "unnamed", "inactive"])
        // Several monotone properties: the largest change in units of the data's spread decides, a near-tie is mixed.
        let both: [[Double]] = [values.map { 10 + $0 }, values.map { 20 + 0.9 * $0 }, values.map { _ in 1 }]
        let tie = LatentNaming.fromTraversals(properties: [both], propertyNames: ["centroidX", "centroidY", "area"],
                                              values: values, scales: [1, 1, 1], kl: [1])
        #expect(tie[0].name == "mixed(centroidX,centroidY)", "\(tie[0])")
        let scaled = LatentNaming.fromTraversals(properties: [both], propertyNames: ["centroidX", "centroidY", "area"],
                                                 values: values, scales: [1, 10, 1], kl: [1])
        #expect(scaled[0].name == "centroidX", "centroidY moves 9 px against a 10 px spread: small beside x")
        #expect(spearman([1, 2, 3], [10, 20, 35]) == 1 && spearman([1, 2, 3], [3, 2, 1]) == -1)
    }

    /// Known answers on real images: a synthetic set whose "latent" moves only the x position, only
    /// the brightness, or nothing, measured and named exactly as `probe` does.
    @Test func namingFromTraversalsOfSyntheticImages() {
        let (h, w) = (32, 32)
        func blob(x: Double, brightness: Double) -> [Float] {
            (0..<(h * w)).map { i in
                let (px, py) = (Double(i % w), Double(i / w))
                return Float(brightness * exp(-((px - x) * (px - x) + (py - 16) * (py - 16)) / 8))
            }
        }
        let values = (0..<11).map { -2 + 0.4 * Double($0) }
        let curves = { (render: (Double) -> [Float]) -> [[Double]] in
            let measured = values.map { ImageProperties.measure(render($0)[...], height: h, width: w) }
            return ImageProperties.names.indices.map { k in measured.map { $0[k] } }
        }
        // The data: blobs at x 8…24, brightness 0.3…1.
        var rng = RandomGenerator(seed: 1)
        let data = (0..<200).map { _ in
            ImageProperties.measure(blob(x: 8 + 16 * rng.uniformDouble(), brightness: 0.3 + 0.7 * rng.uniformDouble())[...], height: h, width: w)
        }
        let scales = ImageProperties.names.indices.map { k -> Double in
            let c = data.map { $0[k] }, m = c.reduce(0, +) / Double(c.count)
            return (c.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(c.count)).squareRoot()
        }
        let movesX = curves { v in blob(x: 16 + 3 * v, brightness: 0.7) }
        let brightens = curves { v in blob(x: 16, brightness: 0.65 + 0.15 * v) }
        let nothing = curves { _ in blob(x: 16, brightness: 0.7) }
        let names = LatentNaming.fromTraversals(properties: [movesX, brightens, nothing], propertyNames: ImageProperties.names,
                                                values: values, scales: scales, kl: [1, 1, 1])
        #expect(names.map(\.name) == ["centroidX", "meanIntensity", "unnamed"], "\(names)")
    }
}
