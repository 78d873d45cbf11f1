import Metrics
import TensorCore
import Testing

/// Fits that run concurrently give what one thread gives: a random forest's trees (each on its own
/// forked stream) and the explicitness fits of both variants and all factors.
@Suite struct ConcurrentFitTests {
    /// 600 codes of 4 latents; factor 0 (3 classes) read off latent 0, factor 1 (5 classes) off latents 1 and 2.
    func sample(_ count: Int, seed: UInt64) -> (codes: [[Float]], factors: [[Int]]) {
        var rng = RandomGenerator(seed: seed)
        let z = rng.normal([count, 4]).scalars
        let codes = (0..<count).map { Array(z[($0 * 4)..<($0 * 4 + 4)]) }
        let factors = codes.map { c in [min(2, max(0, Int((c[0] + 1.5)))), min(4, max(0, Int((c[1] + c[2] + 2.5))))] }
        return (codes, factors)
    }

    func withThreads<T>(_ n: Int, _ body: () -> T) -> T {
        Parallel.setThreadCount(n)
        defer { Parallel.setThreadCount(1) }
        return body()
    }

    @Test func aForestGrownOnSeveralThreadsIsTheOneThreadForest() {
        let (codes, factors) = sample(600, seed: 3)
        let x = codes.flatMap { $0 }, y = factors.map { $0[1] }
        func grow() -> RandomForest { RandomForest(x: x, featureCount: 4, y: y, classCount: 5, treeCount: 9, maximumDepth: 5, seed: 17) }
        let one = withThreads(1, grow), three = withThreads(3, grow)
        #expect(one.featureImportances == three.featureImportances)
        #expect(one.predict(x) == three.predict(x))
        #expect(one.trees.map(\.featureImportances) == three.trees.map(\.featureImportances))
        #expect(Set(one.trees.map(\.featureImportances)).count > 1, "the trees differ from each other (own streams)")
    }

    @Test func explicitnessOfBothVariantsAtOnceIsEachAlone() {
        let (train, trainFactors) = sample(600, seed: 5), (eval, evalFactors) = sample(300, seed: 6)
        let s = CodeSample(trainCodes: train, trainFactors: trainFactors, evalCodes: eval, evalFactors: evalFactors, classCounts: [3, 5])
        let alone = withThreads(1) { [s.explicitness(), s.explicitness(standardized: true)] }
        let together = withThreads(2) { s.explicitness(variants: [false, true]) }
        #expect(alone == together)
        #expect(alone.allSatisfy { $0 > 0.7 && $0 <= 1 }, "\(alone): the factors are readable from the codes")
    }
}
