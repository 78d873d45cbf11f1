import Foundation
import Metrics
import Testing

@Suite struct ProbingTests {
    @Test func namingRuleWithGroundTruth() {
        // Entropies 1 each; z0 captures f0 alone, z1 mixes f0 and f1, z2 is inactive, z3 has a small gap.
        let mi: [[Double]] = [[0.9, 0.05, 0.05], [0.5, 0.45, 0.0], [0.8, 0.0, 0.0], [0.55, 0.44, 0.01]]
        let names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: [1, 1, 1],
                                                 factorNames: ["shape", "scale", "posX"], kl: [2, 1.5, 0.001, 1])
        #expect(names.map(\.name) == ["shape", "mixed(shape,scale)", "inactive", "shape"])
        #expect(Swift.abs(names[0].share - 0.9) < 1e-12 && Swift.abs(names[0].gap - 0.85) < 1e-12)
        // Normalisation by entropy: the same raw MI counts more for a low-entropy factor.
        let normalised = LatentNaming.fromGroundTruth(mutualInformation: [[0.5, 0.6]], factorEntropies: [0.5, 3],
                                                      factorNames: ["a", "b"], kl: [1])
        #expect(normalised[0].name == "a")
    }

    @Test func imagePropertiesOfKnownShapes() {
        var image = [Float](repeating: 0, count: 16 * 16)
        for x in 2..<14 { image[7 * 16 + x] = 1; image[8 * 16 + x] = 1 } // horizontal bar, rows 7–8
        let p = ImageProperties.measure(image[...], height: 16, width: 16)
        #expect(Swift.abs(p[0] - 7.5) < 1e-9 && Swift.abs(p[1] - 7.5) < 1e-9 && p[2] == 24)
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
                                                values: values, kl: [1, 1, 0])
        #expect(names.map(\.name) == ["centroidX", "unnamed", "inactive"])
        #expect(spearman([1, 2, 3], [10, 20, 35]) == 1 && spearman([1, 2, 3], [3, 2, 1]) == -1)
    }
}
