import Autodiff
import Foundation
import Models
import NN
import TensorCore
import TestSupport
import Testing

@Suite struct WeakObjectiveTests {
    func t(_ rows: [[Float]]) -> Tensor { Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 }) }

    @Test func divergenceIsTwiceTheGaussianKL() {
        // q1 = N(0, 1), q2 = N(1, 4): 2·KL = σ1²/σ2² + (μ2 − μ1)²/σ2² − 1 + log σ2² − log σ1² = ¼ + ¼ − 1 + log 4.
        let d = pairDivergence(mean1: t([[0, 2]]), logVariance1: t([[0, -1]]), mean2: t([[1, 2]]), logVariance2: t([[Float(log(4.0)), -1]]))
        #expect(Swift.abs(Double(d.scalars[0]) - (0.5 - 1 + log(4.0))) < 1e-6)
        #expect(d.scalars[1] == 0, "identical posteriors do not diverge")
    }

    @Test func adaptiveThresholdSplitsAtTheMidpoint() {
        // Row 0: min 0.1, max 5, τ = 2.55 → 5 and 2.6 changed. Row 1: τ = 2 exactly → the value at τ counts as changed.
        // Row 2: all equal → nothing can be told apart, all shared.
        let mask = adaptiveSharedMask(divergence: t([[0.1, 5, 0.2, 2.6], [0, 4, 2, 1.9], [3, 3, 3, 3]]))
        #expect(mask.scalars == [1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1])
    }

    /// A pair whose second latent clearly changed and the rest barely moved (δ far from τ).
    func pairInputs() -> [Tensor] {
        [t([[0.3, -1.0, 0.5], [0.1, 0.4, -0.2]]), t([[-0.5, -0.2, 0.1], [0.3, -0.7, -1.1]]),
         t([[0.32, 1.5, 0.48], [-1.9, 0.42, -0.21]]), t([[-0.45, -0.9, 0.12], [0.1, -0.6, -1.0]])]
    }

    @Test func groupAndMultiLevelAveragingFollowTheirFormulas() {
        let x = pairInputs()
        let tape = Tape(recording: false)
        for averaging in [PairAveraging.group, .multiLevel] {
            let p = aggregatePair(mean1: tape.constant(x[0]), logVariance1: tape.constant(x[1]), mean2: tape.constant(x[2]),
                                  logVariance2: tape.constant(x[3]), averaging: averaging)
            #expect(p.shared.scalars == [1, 0, 1, 0, 1, 1], "row 0: latent 1 changed; row 1: latent 0 changed")
            for i in 0..<6 {
                let (m1, v1, m2, v2) = (Double(x[0].scalars[i]), exp(Double(x[1].scalars[i])), Double(x[2].scalars[i]), exp(Double(x[3].scalars[i])))
                let (mean, variance): (Double, Double)
                switch averaging {
                case .group: (mean, variance) = ((m1 + m2) / 2, (v1 + v2) / 2)
                case .multiLevel:
                    let v = 2 * v1 * v2 / (v1 + v2)
                    (mean, variance) = ((m1 / v1 + m2 / v2) * v / 2, v)
                }
                let shared = p.shared.scalars[i] == 1
                #expect(Swift.abs(Double(p.mean1.value.scalars[i]) - (shared ? mean : m1)) < 1e-5)
                #expect(Swift.abs(Double(p.mean2.value.scalars[i]) - (shared ? mean : m2)) < 1e-5)
                #expect(Swift.abs(Double(p.logVariance1.value.scalars[i]) - (shared ? log(variance) : log(v1))) < 1e-5)
                #expect(Swift.abs(Double(p.logVariance2.value.scalars[i]) - (shared ? log(variance) : log(v2))) < 1e-5)
            }
        }
    }

    @Test func aggregationGradientsMatchFiniteDifferences() {
        for averaging in [PairAveraging.group, .multiLevel] {
            let bad = GradientCheck(epsilon: 1e-3).mismatches(pairInputs()) { v in
                let p = aggregatePair(mean1: v[0], logVariance1: v[1], mean2: v[2], logVariance2: v[3], averaging: averaging)
                return Variable.concatenate([p.mean1, p.logVariance1, p.mean2, p.logVariance2], axis: 1)
            }
            #expect(bad.isEmpty, "\(averaging): \(bad)")
        }
    }

    @Test func identicalPairsReduceToTheBetaVAEObjective() {
        // Both images equal → equal posteriors → every latent shared and the average is each
        // image's own posterior: the pair objective is the β-VAE objective on the 2B images.
        let model = VAE(architecture: .mlp(hidden: [16]), imageShape: [1, 8, 8], latentCount: 3, seed: 3)
        var rng = RandomGenerator(seed: 4)
        let half = rng.uniform([3, 1, 8, 8]).map { $0 > 0.5 ? 1 : 0 }
        let x = Tensor.concatenate([half, half], axis: 0)
        let noise = rng.normal([6, 3])
        for kind in [ModelKind.adaGVAE, .adaMLVAE] {
            let tape = Tape(recording: false)
            let pair = model.objective(ObjectiveSettings(kind: kind, beta: 2), x: tape.constant(x), noise: noise, step: 1)
            let plain = model.objective(ObjectiveSettings(kind: .betaVAE, beta: 2), x: tape.constant(x), noise: noise, step: 1)
            #expect(Swift.abs(pair.total.value.scalar - plain.total.value.scalar) < 1e-3, "\(kind)")
            #expect(pair.extra?.value.scalar == 3, "all 3 latents shared in every pair")
            let kl = pair.klPerLatent.value.scalars.reduce(0, +)
            #expect(Swift.abs(pair.total.value.scalar - (pair.reconstruction.value.scalar + 2 * kl)) < 1e-3)
        }
        #expect(ObjectiveSettings(kind: .adaGVAE).beta == 1 && ModelKind.adaMLVAE.trainsOnPairs && !ModelKind.betaVAE.trainsOnPairs)
    }

    @Test func pairObjectiveTrainsItsEncoder() {
        // Gradients reach every parameter through both halves of the pair.
        let model = VAE(architecture: .mlp(hidden: [8]), imageShape: [1, 4, 4], latentCount: 2, seed: 5)
        var rng = RandomGenerator(seed: 6)
        let x = rng.uniform([4, 1, 4, 4]).map { $0 > 0.5 ? 1 : 0 }
        let tape = Tape()
        let terms = model.objective(ObjectiveSettings(kind: .adaGVAE), x: tape.constant(x), noise: rng.normal([4, 2]), step: 1)
        tape.backward(from: terms.total)
        for p in model.parameters { #expect(p.gradient.map { $0.scalars.contains { $0 != 0 } } ?? false, "\(p.name)") }
    }
}
