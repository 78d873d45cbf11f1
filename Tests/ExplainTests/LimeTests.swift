import Autodiff
import Explain
import Foundation
import TensorCore
import Testing

/// LIME over square superpixels: the weighted Lasso against closed forms and scikit-learn, and
/// the attributions of a model whose answer is known.
@Suite struct LimeTests {
    /// Orthogonal design (after centring): β_j = S(⟨x̃_j, ỹ⟩, α) / ‖x̃_j‖², here ⟨x̃₁, ỹ⟩ = 0.75,
    /// ⟨x̃₂, ỹ⟩ = 0.25, ‖x̃_j‖² = 0.25 for y = 3x₁ + x₂ + 2 on the four corners of {0,1}².
    @Test func lassoMatchesTheSoftThresholdOnAnOrthogonalDesign() {
        let x: [Double] = [1, 1, 1, 0, 0, 1, 0, 0], y: [Double] = [6, 5, 3, 2], ones = [Double](repeating: 1, count: 4)
        let a = LimeAttribution.weightedLasso(x, rows: 4, columns: 2, y: y, weights: ones, alpha: 0.1)
        #expect(abs(a[0] - 2.6) < 1e-9 && abs(a[1] - 0.6) < 1e-9, "\(a)")
        let b = LimeAttribution.weightedLasso(x, rows: 4, columns: 2, y: y, weights: ones, alpha: 0.3)
        #expect(abs(b[0] - 1.8) < 1e-9 && b[1] == 0, "\(b)")
        #expect(LimeAttribution.weightedLasso(x, rows: 4, columns: 2, y: y, weights: ones, alpha: 1) == [0, 0], "α above every |⟨x̃_j, ỹ⟩|")
        // Doubling every weight changes nothing (the objective divides by Σπ).
        #expect(LimeAttribution.weightedLasso(x, rows: 4, columns: 2, y: y, weights: ones.map { $0 * 2 }, alpha: 0.1) == a)
    }

    /// A correlated, weighted design: scikit-learn 1.x `Lasso(alpha=0.05).fit(X, y, sample_weight=w)`
    /// on the same numbers (NumPy `default_rng(0)`: X ∈ {0,1}^{30×5}, w ~ U(0.2, 1),
    /// y = X·[1, −2, 0.5, 0, 3] + 1 + N(0, 0.3²)).
    @Test func lassoMatchesScikitLearnWithSampleWeights() {
        let x: [Double] = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0]
        let weights: [Double] = [0.54018289987926038, 0.69617076161230229, 0.99607720418825929, 0.95915493995021239, 0.56803611144727695, 0.8061830762466331, 0.59793815639009518, 0.62344972815741628, 0.82862856057104595, 0.53172467948453672, 0.78758685743098344, 0.76891430239179992, 0.94564774929070272, 0.2919461066247242, 0.7832120936610476, 0.94193914289964797, 0.97434095193971726, 0.21176504397229545, 0.89091207219646074, 0.98495603205307547, 0.96576814368877084, 0.31901120978599834, 0.97810305105836393, 0.91194844457641655, 0.85789906203445643, 0.58399033904626574, 0.38589833571144311, 0.84150446297464643, 0.93882412782677571, 0.41290421783383408]
        let y: [Double] = [0.1776905425314696, 4.261912645786512, 3.1158818165856279, 3.2860795714822184, -0.31369464393797042, 2.3249576479276226, 2.115910879269892, 1.825507749077149, 1.0327839092433442, 3.4772895421337529, 5.0606343185131877, 5.7082515810121022, 3.2724890747304771, 2.9262946066935749, 4.2178281366843295, 2.7531197986909803, 3.3494591943333085, 0.23627646651176082, 2.2532236041735776, 5.0226780832228659, 1.5719678447030803, 1.9594864699888959, 5.2691456079469887, -0.42682253055462405, 5.5775358372738966, -0.67056483624429275, 3.1910586685965607, 1.6870996759785304, 0.58052512391267441, 1.6076015847511034]
        let expected: [Double] = [0.6309684698962762, -1.9379885982136584, 0.35830763365836815, -0, 2.7855509113866894]
        let beta = LimeAttribution.weightedLasso(x, rows: 30, columns: 5, y: y, weights: weights, alpha: 0.05, tolerance: 1e-10)
        for j in 0..<5 { #expect(abs(beta[j] - expected[j]) < 1e-4, "β\(j): \(beta[j]) vs scikit-learn \(expected[j])") }
    }

    /// For a linear score s(x) = Σ w ⊙ x and baseline 0, masking is exactly linear in z:
    /// s(x′) = Σ_k z_k c_k with c_k = Σ_{p ∈ square k} w_p x_p, so with α → 0 the surrogate
    /// recovers c_k on every pixel of square k, whatever the kernel weights.
    @Test func limeRecoversEachSquaresContributionToALinearScore() {
        let weights = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Float($0) / 8 - 1 })
        let score: ScoreFunction = { x in (x * x.tape.constant(weights.broadcast(to: x.shape))).reshaped([x.shape[0], 16]).sum(axis: 1) }
        let model = ExplainedModel(name: "linear", score: score)
        var rng = RandomGenerator(seed: 3)
        let x = rng.uniform([2, 1, 4, 4], low: 0.2, high: 1)
        let lime = LimeAttribution(samples: 64, cell: 2, alpha: 1e-9)
        #expect(lime.applies(to: model) && lime.applies(to: ExplainedModel(name: "tree", scored: .probability, values: { _ in [] })))
        #expect(lime.featureMask(height: 4, width: 4).mask == [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3])
        let a = lime.attribute(model, x, rng: &rng)
        #expect(a.shape == [2, 1, 4, 4])
        let mask = lime.featureMask(height: 4, width: 4).mask
        for i in 0..<2 {
            for p in 0..<16 {
                let c = (0..<16).filter { mask[$0] == mask[p] }.reduce(0.0) { $0 + Double(weights.scalars[$1]) * Double(x.scalars[i * 16 + $1]) }
                #expect(abs(Double(a.scalars[i * 16 + p]) - c) < 1e-4, "image \(i) pixel \(p): \(a.scalars[i * 16 + p]) vs \(c)")
            }
        }
        // Seeded: the same generator state gives the same map; a large α gives none.
        var again = RandomGenerator(seed: 3)
        _ = again.uniform([2, 1, 4, 4], low: 0.2, high: 1)
        #expect(lime.attribute(model, x, rng: &again) == a)
        #expect(LimeAttribution(samples: 64, cell: 2, alpha: 100).attribute(model, x, rng: &rng).scalars.allSatisfy { $0 == 0 })
    }
}
