import Foundation
import Metrics
import Testing

/// Known answers for the Interventional Robustness Score, including one computed independently with
/// disentanglement_lib's `scalable_disentanglement_score` formula in NumPy.
@Suite struct IRSTests {
    func sample(_ codes: [[Float]], _ factors: [[Int]], classCounts: [Int]) -> CodeSample {
        CodeSample(trainCodes: codes, trainFactors: factors, evalCodes: [], evalFactors: [], classCounts: classCounts)
    }

    @Test func identityCodesScoreOneAndConstantLatentsAreDropped() {
        var factors: [[Int]] = []
        for a in 0..<4 { for b in 0..<5 { factors.append([a, b]) } }
        let codes = factors.map { [Float($0[0]), Float($0[1]) * 0.3, 7] } // the third latent is constant
        let s = sample(codes, factors, classCounts: [4, 5]).irs()
        #expect(s.activeLatents == 2 && s.perLatent == [1, 1] && s.score == 1)
    }

    @Test func aLatentThatMovesWithinEveryGroupScoresLow() {
        // z0 ignores both factors: alternating ±1 within every group of either factor.
        var factors: [[Int]] = [], codes: [[Float]] = []
        for a in 0..<3 { for b in 0..<4 { for k in 0..<2 { factors.append([a, b]); codes.append([k == 0 ? 1 : -1]) } } }
        let s = sample(codes, factors, classCounts: [3, 4]).irs()
        #expect(s.activeLatents == 1 && Swift.abs(s.score) < 1e-12, "\(s)")
    }

    /// i = 0…23, factors (i mod 3, i mod 4), codes z0 = f0 + 0.1 sin i, z1 = 0.5 f1 − 0.2 cos i,
    /// z2 = 0.3 sin 3i, z3 = 0: NumPy with dlib's make_discretizer and scalable_disentanglement_score
    /// gives 0.8048262851101258 (per latent 0.92010872, 0.78782018, 0.43900091).
    @Test func matchesDisentanglementLibOnAKnownSample() {
        let factors = (0..<24).map { [$0 % 3, $0 % 4] }
        let codes: [[Float]] = (0..<24).map { i in
            let x = Double(i)
            return [Float(Double(i % 3) + 0.1 * sin(x)), Float(0.5 * Double(i % 4) - 0.2 * cos(x)), Float(0.3 * sin(3 * x)), 0]
        }
        let s = sample(codes, factors, classCounts: [3, 4]).irs()
        #expect(s.activeLatents == 3)
        #expect(Swift.abs(s.score - 0.8048262851101258) < 1e-6, "\(s.score)")
        for (got, want) in zip(s.perLatent, [0.92010872, 0.78782018, 0.43900091]) { #expect(Swift.abs(got - want) < 1e-6, "\(s.perLatent)") }
    }
}
