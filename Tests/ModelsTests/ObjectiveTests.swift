import Autodiff
import Foundation
import Models
import NN
import TensorCore
import TestSupport
import Testing

@Suite struct ObjectiveTests {
    /// TC by its definition, in Double, for codes z with posterior parameters μ, log σ².
    func referenceTC(z: [[Double]], mean: [[Double]], logVariance: [[Double]]) -> Double {
        let b = z.count, d = z[0].count
        func logN(_ x: Double, _ m: Double, _ lv: Double) -> Double { -0.5 * (log(2 * .pi) + lv + (x - m) * (x - m) / exp(lv)) }
        func lse(_ v: [Double]) -> Double { let m = v.max()!; return m + log(v.reduce(0) { $0 + exp($1 - m) }) }
        var total = 0.0
        for j in 0..<b {
            let joint = lse((0..<b).map { i in (0..<d).reduce(0) { $0 + logN(z[j][$1], mean[i][$1], logVariance[i][$1]) } })
            let marginals = (0..<d).reduce(0.0) { acc, l in acc + lse((0..<b).map { i in logN(z[j][l], mean[i][l], logVariance[i][l]) }) }
            total += joint - marginals
        }
        return total / Double(b)
    }

    @Test func totalCorrelationMatchesItsDefinitionAndHasGradients() {
        let z: [[Double]] = [[0.5, -1], [1.5, 0.2], [-0.3, 0.8]]
        let mean: [[Double]] = [[0.4, -0.9], [1.2, 0.1], [-0.2, 0.7]]
        let logVariance: [[Double]] = [[-1, -0.5], [0, -2], [-0.3, -1]]
        let t = Tape(recording: false)
        func v(_ a: [[Double]]) -> Variable { t.constant(Tensor(shape: [3, 2], scalars: a.flatMap { $0.map(Float.init) })) }
        let tc = totalCorrelation(codes: v(z), mean: v(mean), logVariance: v(logVariance)).value.scalar
        #expect(Swift.abs(Double(tc) - referenceTC(z: z, mean: mean, logVariance: logVariance)) < 1e-4)
        let bad = GradientCheck().mismatches([awayFromZero([4, 3], seed: 1), awayFromZero([4, 3], seed: 2), awayFromZero([4, 3], seed: 3)]) {
            totalCorrelation(codes: $0[0], mean: $0[1], logVariance: $0[2])
        }
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func dipPenaltyOnAFixedMean() {
        // μ rows (1, 0), (−1, 0), (1, 2), (−1, −2): mean 0, Cov = [[1, 1], [1, 2]] (biased).
        let t = Tape(recording: false)
        let mean = t.constant(Tensor(shape: [4, 2], scalars: [1, 0, -1, 0, 1, 2, -1, -2]))
        let cov = batchCovariance(mean)
        #expect(cov.value.scalars == [1, 1, 1, 2])
        // λod·(1² + 1²) + λd·((1 − 1)² + (2 − 1)²) = 2·3 + 5·1.
        #expect(dipPenalty(covariance: cov, lambdaOffDiagonal: 3, lambdaDiagonal: 5).value.scalar == 11)
        let bad = GradientCheck().mismatches([awayFromZero([5, 3], seed: 4)]) {
            dipPenalty(covariance: batchCovariance($0[0]), lambdaOffDiagonal: 2, lambdaDiagonal: 7)
        }
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func crossEntropyAndPermutation() {
        let t = Tape(recording: false)
        let logits = t.constant(Tensor(shape: [2, 2], scalars: [0, 0, 2, 0]))
        let expected = (log(2.0) + (log(exp(2.0) + 1) - 2)) / 2
        #expect(Swift.abs(Double(crossEntropy(logits: logits, target: 0).value.scalar) - expected) < 1e-6)
        let bad = GradientCheck().mismatches([awayFromZero([3, 4], seed: 5)]) { crossEntropy(logits: $0[0], target: 2) }
        #expect(bad.isEmpty, "\(bad)")
        // Per-row labels (the pixel CNN's loss): known value and finite-difference gradient.
        let rowWise = (log(2.0) + (log(exp(2.0) + 1) - 0)) / 2 // row 0 → class 0, row 1 → class 1
        #expect(Swift.abs(Double(softmaxCrossEntropy(logits: logits, labels: [0, 1]).value.scalar) - rowWise) < 1e-6)
        let badRows = GradientCheck().mismatches([awayFromZero([3, 4], seed: 6)]) { softmaxCrossEntropy(logits: $0[0], labels: [2, 0, 3]) }
        #expect(badRows.isEmpty, "\(badRows)")
        var rng = RandomGenerator(seed: 1)
        let z = Tensor(shape: [50, 2], scalars: (0..<100).map(Float.init))
        let p = permuteDimensions(z, rng: &rng)
        for l in 0..<2 {
            let column = { (t: Tensor) in (0..<50).map { t.scalars[$0 * 2 + l] } }
            #expect(column(p).sorted() == column(z).sorted() && column(p) != column(z))
        }
    }

    @Test func defaultsFollowDisentanglementLib() {
        #expect(ObjectiveSettings(kind: .annealedVAE).gamma == 1000)
        #expect(ObjectiveSettings(kind: .factorVAE).gamma == 10)
        #expect(ObjectiveSettings(kind: .dipVAE1, lambdaOffDiagonal: 2).lambdaDiagonal == 20)
        #expect(ObjectiveSettings(kind: .dipVAE2, lambdaOffDiagonal: 2).lambdaDiagonal == 2)
    }

    @Test func annealedCapacityScheduleAndBetaWeighting() {
        // With a fixed batch and noise, the objectives' totals follow their formulas from the parts.
        let model = VAE(architecture: .mlp(hidden: [16]), imageShape: [1, 8, 8], latentCount: 3, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let x = rng.uniform([4, 1, 8, 8]).map { $0 > 0.5 ? 1 : 0 }
        let noise = rng.normal([4, 3])
        func terms(_ s: ObjectiveSettings, step: Int) -> (Float, Float, Float, Float?) {
            let t = Tape(recording: false)
            let r = model.objective(s, x: t.constant(x), noise: noise, step: step)
            return (r.total.value.scalar, r.reconstruction.value.scalar, r.klPerLatent.value.scalars.reduce(0, +), r.extra?.value.scalar)
        }
        let (total, rec, kl, _) = terms(ObjectiveSettings(kind: .betaVAE, beta: 3), step: 1)
        #expect(Swift.abs(total - (rec + 3 * kl)) < 1e-3)
        let annealed = ObjectiveSettings(kind: .annealedVAE, capacityMax: 10, capacitySteps: 100, gamma: 2)
        let (t50, r50, kl50, gap50) = terms(annealed, step: 50)
        #expect(Swift.abs(gap50! - Swift.abs(kl50 - 5)) < 1e-4, "C = 10·50/100 = 5")
        #expect(Swift.abs(t50 - (r50 + 2 * gap50!)) < 1e-3)
        let (_, _, kl500, gap500) = terms(annealed, step: 500)
        #expect(Swift.abs(gap500! - Swift.abs(kl500 - 10)) < 1e-4, "C saturates at Cmax")
        let (tTC, rTC, klTC, tc) = terms(ObjectiveSettings(kind: .betaTCVAE, beta: 6), step: 1)
        #expect(Swift.abs(tTC - (rTC + klTC + 5 * tc!)) < 1e-3)
    }
}
