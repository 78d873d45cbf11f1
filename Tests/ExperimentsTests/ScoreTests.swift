import Datasets
import Experiments
import Foundation
import TensorCore
import Testing

/// `untangle score` on codes written as .npy, with expected values from the metrics' definitions.
@Suite struct ScoreTests {
    let dir = temporaryDirectory()
    /// 1,500 points of three binary factors drawn uniformly.
    let factors: [[Int]] = {
        var rng = RandomGenerator(seed: 8)
        return (0..<1500).map { _ in (0..<3).map { _ in rng.int(below: 2) } }
    }()

    func scores(_ codes: [[Float]]) throws -> [String: Double] {
        let codesPath = dir + "/codes-\(UUID()).npy", factorsPath = dir + "/factors.npy"
        try NPYArray(float32: codes.flatMap { $0 }, shape: [codes.count, codes[0].count]).write(to: codesPath)
        try NPYArray(int64: factors.flatMap { $0.map(Int64.init) }, shape: [factors.count, 3]).write(to: factorsPath)
        let sample = try ExternalCodes.load(codes: codesPath, factors: factorsPath)
        #expect(sample.trainCodes.count == 1000 && sample.evalCodes.count == 500 && sample.classCounts == [2, 2, 2])
        return Dictionary(ExternalCodes.score(sample), uniquingKeysWith: { a, _ in a })
    }

    @Test func knownAnswersOnExternalCodes() throws {
        var rng = RandomGenerator(seed: 9)
        let identity = factors.map { c in c.map { Float($0) + 0.01 * rng.normal([1]).scalars[0] } }
        let s = try scores(identity)
        // Each latent holds all of its factor's H = log 2 nats and nothing of the others.
        #expect(s["mig"]! > 0.95 && s["modularity"]! > 0.95 && s["dci.disentanglement"]! > 0.9)
        // SAP on binary factors: matching latent 1, the others chance (½): 0.5.
        #expect(Swift.abs(s["sap"]! - 0.5) < 0.06)

        var shuffler = RandomGenerator(seed: 10)
        let shuffled = shuffler.permutation(identity.count).map { identity[$0] }
        let t = try scores(shuffled)
        #expect(t["mig"]! < 0.05 && t["sap"]! < 0.06, "codes unrelated to the factors")

        let duplicated = identity.map { $0 + $0 }
        let d = try scores(duplicated)
        #expect(d["mig"]! == 0 && d["sap"]! == 0, "two equal latents per factor: no gap")

        let zeros = identity.map { $0.map { _ in Float(0) } }
        let z = try scores(zeros)
        #expect(z["mig"]! == 0 && z["sap"]! == 0 && z["modularity"]! == 0, "no information anywhere")

        let padded = identity.map { $0 + [Float](repeating: 7, count: 3) }
        let p = try scores(padded)
        #expect(Swift.abs(p["modularity"]! - s["modularity"]! / 2) < 1e-9, "three constant latents score 0 each")
    }

    @Test func badFilesAreNamed() throws {
        let codes = dir + "/c.npy", factors = dir + "/f.npy"
        try NPYArray(float32: [1, 2, 3, 4], shape: [4]).write(to: codes)
        try NPYArray(int64: [0, 1, 0], shape: [3]).write(to: factors)
        #expect { try ExternalCodes.load(codes: codes, factors: factors) } throws: { "\($0)".contains(factors) && "\($0)".contains("3 rows") }
        try NPYArray(float32: [1, .nan, 3], shape: [3]).write(to: codes)
        #expect { try ExternalCodes.load(codes: codes, factors: factors) } throws: { "\($0)".contains("NaN") }
    }
}
