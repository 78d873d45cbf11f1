import Datasets
import Foundation
import Metrics
import TensorCore
import Testing

/// The BetaVAE and FactorVAE scores encode each grid image once (``CodePool``) and score exactly
/// as encoding every draw, point by point, did.
@Suite struct CodePoolTests {
    let grid = FactorGrid(classCounts: [4, 5, 3])

    /// A per-image deterministic code: each factor's class plus fixed noise of the image, and a
    /// pure-noise latent; counts the images it is asked for.
    final class Encoder: @unchecked Sendable {
        let grid: FactorGrid
        var images = 0
        init(grid: FactorGrid) { self.grid = grid }
        func callAsFunction(_ classes: [[Int]]) -> Tensor {
            images += classes.count
            return Tensor(shape: [classes.count, 4], scalars: classes.flatMap { c -> [Float] in
                var rng = RandomGenerator(seed: UInt64(grid.index(of: c)))
                let noise = rng.normal([4]).scalars
                return [Float(c[0]) + 0.3 * noise[0], Float(c[1]) + 0.3 * noise[1], Float(c[2]) + 0.3 * noise[2], noise[3]]
            })
        }
    }

    func metrics(_ encoder: Encoder) -> DisentanglementMetrics {
        var m = DisentanglementMetrics(space: grid, representation: { encoder($0) }, seed: 5)
        (m.trainCount, m.evalCount, m.batchSize) = (200, 100, 8)
        return m
    }

    @Test func betaVAEScoreEncodesEachImageOnceAndMatchesThePointByPointScore() {
        let encoder = Encoder(grid: grid)
        let m = metrics(encoder)
        let pooled = m.betaVAEScore()
        #expect(encoder.images == m.pool.count && m.pool.count <= grid.gridSize, "\(encoder.images) images encoded for \(m.pool.count) distinct")

        // The definition, encoding every point's 2 × 8 images as drawn.
        var rng = RandomGenerator(seed: 5).fork(1)
        let direct = Encoder(grid: grid)
        func points(_ count: Int) -> (x: [Float], y: [Int]) {
            var x: [Float] = [], y: [Int] = []
            for _ in 0..<count {
                let k = rng.int(below: 3)
                var first = grid.sampleClasses(8, rng: &rng)
                var second = grid.sampleClasses(8, rng: &rng)
                for i in 0..<8 { second[i][k] = first[i][k] }
                first += second
                let codes = direct(first)
                var feature = [Float](repeating: 0, count: 4)
                for i in 0..<8 { for l in 0..<4 { feature[l] += abs(codes.scalars[i * 4 + l] - codes.scalars[(i + 8) * 4 + l]) / 8 } }
                x += feature
                y.append(k)
            }
            return (x, y)
        }
        let train = points(200), eval = points(100)
        let model = LogisticRegression(x: train.x, featureCount: 4, y: train.y, classCount: 3)
        #expect(direct.images == 300 * 16 && direct.images > 10 * encoder.images)
        #expect(pooled.train == model.accuracy(train.x, train.y) && pooled.eval == model.accuracy(eval.x, eval.y))
        #expect(pooled.eval > 0.6, "the factors are in the codes: the score is informative, not chance (1/3)")
    }

    @Test func factorVAEScoreEncodesEachImageOnceAndMatchesTheVoteByVoteScore() {
        let encoder = Encoder(grid: grid)
        let m = metrics(encoder)
        let pooled = m.factorVAEScore()
        #expect(encoder.images == m.pool.count, "\(encoder.images) images encoded for \(m.pool.count) distinct")

        var rng = RandomGenerator(seed: 5).fork(2)
        let direct = Encoder(grid: grid)
        func rows(_ t: Tensor) -> [[Float]] { (0..<t.shape[0]).map { Array(t.scalars[($0 * 4)..<($0 * 4 + 4)]) } }
        func variances(_ r: [[Float]]) -> [Double] {
            (0..<4).map { l in
                let mean = r.reduce(0.0) { $0 + Double($1[l]) } / Double(r.count)
                return r.reduce(0.0) { $0 + pow(Double($1[l]) - mean, 2) } / Double(max(r.count - 1, 1))
            }
        }
        let global = variances(rows(direct(grid.sampleClasses(200, rng: &rng))))
        let active = global.indices.filter { global[$0].squareRoot() >= 0.05 }
        func votes(_ count: Int) -> [[Int]] {
            var table = [[Int]](repeating: [0, 0, 0], count: 4)
            for _ in 0..<count {
                let k = rng.int(below: 3)
                let v = variances(rows(direct(grid.sampleClasses(8, fixing: k, rng: &rng))))
                table[active.min { v[$0] / global[$0] < v[$1] / global[$1] }!][k] += 1
            }
            return table
        }
        let train = votes(200), eval = votes(100)
        let classifier = train.map { row in row.indices.max { row[$0] < row[$1] }! }
        let trainAccuracy = Double(train.reduce(0) { $0 + $1.max()! }) / 200
        let evalAccuracy = Double(eval.enumerated().reduce(0) { $0 + $1.element[classifier[$1.offset]] }) / 100
        #expect(pooled.train == trainAccuracy && pooled.eval == evalAccuracy && pooled.activeLatents == active.count)
        #expect(pooled.eval > 0.6)
    }

    @Test func prefetchEncodesOnlyNewIndicesInFirstSeenOrder() {
        var asked: [[Int]] = []
        let pool = CodePool(space: grid, representation: { classes in
            asked += classes
            return Tensor(shape: [classes.count, 1], scalars: classes.map { Float(self.grid.index(of: $0)) })
        }, batchSize: 2)
        pool.prefetch([7, 3, 7, 9])
        pool.prefetch([3, 11, 9])
        #expect(asked.map { grid.index(of: $0) } == [7, 3, 9, 11])
        #expect(pool.count == 4 && Array(pool.code(11)) == [11] && Array(pool.code(7)) == [7])
    }
}
