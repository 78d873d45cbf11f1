import Autodiff
import Explain
import Foundation
import TensorCore
import TestSupport
import Testing

/// The attribution protocol, its registry and the noise tunnel.
@Suite struct AttributionTests {
    /// A linear score F(x) = Σ w ⊙ x on 1×4×4 images: its gradient is w everywhere.
    let weights = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Float($0) / 8 - 1 })
    var linear: ScoreFunction {
        let w = weights
        return { x in (x * x.tape.constant(w.broadcast(to: x.shape))).reshaped([x.shape[0], 16]).sum(axis: 1) }
    }

    @Test func registryNamesAreUniqueAndMethodsApplyByWhatAModelOffers() {
        let names = AttributionRegistry.all.map(\.name)
        #expect(Set(names).count == names.count && names.contains("smoothgrad") && names.contains("ig-gausslegendre"))
        let scoreOnly = ExplainedModel(name: "s", score: linear)
        let probabilityOnly = ExplainedModel(name: "p", scored: .probability, values: { x in [Double](repeating: 0.5, count: x.shape[0]) })
        #expect(AttributionRegistry.all.filter { $0.applies(to: probabilityOnly) }.map(\.name) == ["occlusion", "lime"])
        #expect(!AttributionRegistry.all.filter { $0.applies(to: scoreOnly) }.map(\.name).contains("grad-cam"))
    }

    /// One score per model: occlusion differences the same s the gradient differentiates (here
    /// a linear log-odds s = Σ w ⊙ x, so a 4×4 window at stride 4 — each pixel in one window —
    /// gives exactly the window's Σ w ⊙ x on each of its pixels), and the probability the
    /// deletion curves read is σ(s); a tree-like model's probability is its score itself.
    @Test func everyMethodExplainsTheModelsOneScore() {
        var rng = RandomGenerator(seed: 5)
        let x = rng.uniform([2, 1, 4, 4])
        let model = ExplainedModel(name: "linear", scored: .logOdds, score: linear)
        let occlusion = OcclusionAttribution(window: 4, stride: 4).attribute(model, x, rng: &rng)
        for i in 0..<2 {
            let s = (0..<16).reduce(0.0) { $0 + Double(weights.scalars[$1]) * Double(x.scalars[i * 16 + $1]) }
            for p in 0..<16 { #expect(Swift.abs(Double(occlusion.scalars[i * 16 + p]) - s) < 1e-5, "image \(i) pixel \(p)") }
            let probability = model.probability!(x)[i]
            #expect(Swift.abs(probability - 1 / (1 + exp(-s))) < 1e-6)
        }
        let tree = ExplainedModel(name: "tree", scored: .probability, values: { x in [Double](repeating: 0.75, count: x.shape[0]) })
        #expect(tree.probability!(x) == [0.75, 0.75])
        #expect(ExplainedModel(name: "z", scored: .latentMean, score: linear).probability == nil)
    }

    /// Latent shift (Cohen et al. 2021): |D(z) − D(z′)| per pixel — here a "decoder" that draws a
    /// 2×2 square whose brightness is the code, and a counterfactual that halves it.
    @Test func latentShiftMarksWhereTheCounterfactualChangesTheImage() {
        let x = Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map { Float($0 % 16) / 16 })
        func draw(_ level: [Float]) -> Tensor {
            Tensor(shape: [level.count, 1, 4, 4], scalars: level.flatMap { v in (0..<16).map { [5, 6, 9, 10].contains($0) ? v : 0.1 } })
        }
        let model = ExplainedModel(name: "codes", latentShift: { x in (draw([0.8, 0.4]), draw([0.4, 0.2])) })
        var rng = RandomGenerator(seed: 0)
        let shift = LatentShiftAttribution()
        #expect(shift.applies(to: model) && !shift.applies(to: ExplainedModel(name: "s", score: linear)))
        let a = shift.attribute(model, x, rng: &rng)
        #expect(a.shape == [2, 1, 4, 4])
        for i in 0..<2 {
            for p in 0..<16 {
                let expected: Float = [5, 6, 9, 10].contains(p) ? (i == 0 ? 0.4 : 0.2) : 0
                #expect(Swift.abs(a.scalars[i * 16 + p] - expected) < 1e-6, "image \(i) pixel \(p)")
            }
        }
        // All of its relevance lies on the changed square: relevance mass 1 against that mask.
        let mask: [Float] = (0..<16).map { [5, 6, 9, 10].contains($0) ? 1 : 0 }
        #expect(SaliencyScores.relevanceMass(Array(a.scalars[0..<16]), mask: mask) == 1)
    }

    @Test func noiseTunnelAveragesItsBaseOverNoisyCopies() {
        var rng = RandomGenerator(seed: 4)
        let x = rng.uniform([2, 1, 4, 4])
        let model = ExplainedModel(name: "linear", score: linear)
        // For a linear score the gradient does not depend on the input: SmoothGrad of it is w, VarGrad 0.
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1)
        let smooth = NoiseTunnel(kind: .mean, samples: 5).attribute(model, x, rng: &a)
        #expect(maxAbsDifference(smooth, weights.broadcast(to: [2, 1, 4, 4])) < 1e-5)
        #expect(NoiseTunnel(kind: .variance, samples: 5).attribute(model, x, rng: &b).scalars.allSatisfy { Swift.abs($0) < 1e-5 })
        // Around input × gradient the tunnel averages x̃ ⊙ w over the noisy x̃: the same noise, by hand.
        var c = RandomGenerator(seed: 2), d = RandomGenerator(seed: 2)
        let tunnel = NoiseTunnel(InputTimesGradientAttribution(), kind: .mean, samples: 3, noiseFraction: 0.2).attribute(model, x, rng: &c)
        var expected = Tensor.zeros(x.shape)
        let stream = d.split() // sample t: one N(0, 1) tensor [B, C, H, W] from fork t of one stream
        for t in 0..<3 {
            var noisy = x
            var fork = stream.fork(UInt64(t))
            let draws = fork.normal([2 * 16]).scalars
            for i in 0..<2 {
                let slice = x.scalars[(i * 16)..<((i + 1) * 16)]
                let sigma = 0.2 * (slice.max()! - slice.min()!)
                for k in 0..<16 { noisy.scalars[i * 16 + k] += sigma * draws[i * 16 + k] }
            }
            expected += noisy * weights.broadcast(to: x.shape) * (1 / 3)
        }
        #expect(maxAbsDifference(tunnel, expected) < 1e-5)
        #expect(NoiseTunnel(InputTimesGradientAttribution()).name == "smoothgrad(input-x-gradient)")
        // The samples are drawn in parallel, each from its own fork: the same maps on 1 and 2 threads.
        var e = RandomGenerator(seed: 9), f = RandomGenerator(seed: 9)
        Parallel.setThreadCount(1)
        let single = NoiseTunnel(InputTimesGradientAttribution(), samples: 6).attribute(model, x, rng: &e)
        Parallel.setThreadCount(2)
        let double = NoiseTunnel(InputTimesGradientAttribution(), samples: 6).attribute(model, x, rng: &f)
        Parallel.setThreadCount(1)
        #expect(single == double)
    }
}
