import Autodiff
import Explain
import Foundation
import Models
import TensorCore
import TestSupport
import Testing

@Suite struct SaliencyTests {
    let x = awayFromZero([2, 1, 8, 8], seed: 1)

    @Test func gradientOfALinearModelEqualsItsWeights() {
        let w = awayFromZero([1, 1, 8, 8], seed: 2)
        let linear: ScoreFunction = { v in (v * v.tape.constant(w)).sum(axis: 3).sum(axis: 2).sum(axis: 1) }
        let g = Saliency.gradient(linear, x)
        for i in 0..<2 { #expect(Array(g.scalars[(i * 64)..<((i + 1) * 64)]) == w.scalars) }
        #expect(Saliency.inputTimesGradient(linear, x) == x * g)
    }

    @Test func integratedGradientsAreComplete() {
        // A smooth non-linear model: F(x) = Σ softplus(2x) + (Σ x)²/50.
        let smooth: ScoreFunction = { v in
            let flat = v.reshaped([v.shape[0], 64])
            return (flat * 2).softplus().sum(axis: 1) + flat.sum(axis: 1).squared() * 0.02
        }
        for rule in Saliency.Quadrature.allCases {
            let (a, delta) = Saliency.integratedGradients(smooth, x, steps: 50, rule: rule)
            #expect(a.shape == x.shape)
            let tolerance = rule == .gaussLegendre || rule == .riemannMiddle || rule == .riemannTrapezoid ? 1e-3 : 1.0
            #expect(delta.allSatisfy { Swift.abs($0) < tolerance }, "\(rule): δ = \(delta)")
        }
        let (nodes, weights) = Saliency.legendreNodes(5)
        #expect(Swift.abs(weights.reduce(0, +) - 2) < 1e-12 && Swift.abs(nodes[2]) < 1e-12)
        // ∫₋₁¹ x⁸ dx = 2/9 exactly with 5 nodes (degree ≤ 9).
        #expect(Swift.abs(zip(nodes, weights).reduce(0) { $0 + pow($1.0, 8) * $1.1 } - 2.0 / 9) < 1e-12)
    }

    @Test func occlusionLightsUpOnlyThePatchTheModelLooksAt() {
        // The model reads only the 4×4 patch at rows 8–11, columns 4–7 of a 16×16 image.
        let image = Tensor(repeating: 1, shape: [1, 1, 16, 16])
        let score = { (batch: Tensor) -> [Double] in
            (0..<batch.shape[0]).map { b in
                var s = 0.0
                for y in 8..<12 { for x in 4..<8 { s += Double(batch.scalars[b * 256 + y * 16 + x]) } }
                return s
            }
        }
        let map = Saliency.occlusion(score, image, window: 4, stride: 4)
        for y in 0..<16 { for x in 0..<16 {
            let inside = (8..<12).contains(y) && (4..<8).contains(x)
            #expect((map.scalars[y * 16 + x] > 0) == inside, "(\(y), \(x))")
        } }
    }

    /// The pixel CNN's incremental occlusion (receptive-field crops per layer) gives the logits a
    /// full forward pass of every occluded copy gives, for square and oblong images, windows that
    /// touch the borders and windows larger than a layer's stride.
    @Test(arguments: [([1, 64, 64], 8, 4), ([1, 32, 24], 5, 3), ([2, 16, 16], 16, 8), ([1, 24, 40], 3, 7)])
    func incrementalOcclusionEqualsFullForwardPasses(shape: [Int], window: Int, stride: Int) {
        let cnn = PixelCNN(imageShape: shape, classCount: 2, seed: 3)
        var rng = RandomGenerator(seed: 8)
        let image = rng.uniform([1] + shape)
        let (h, w) = (shape[1], shape[2])
        let positions = Swift.stride(from: 0, through: h - window, by: stride).flatMap { y in
            Swift.stride(from: 0, through: w - window, by: stride).map { (y, $0) }
        }
        let fast = cnn.occludedLogits(image, window: window, positions: positions, baseline: 0.25)
        var batch = image.scalars
        for (y0, x0) in positions {
            var copy = image.scalars
            for c in 0..<shape[0] { for y in y0..<(y0 + window) { for x in x0..<(x0 + window) { copy[(c * h + y) * w + x] = 0.25 } } }
            batch += copy
        }
        let full = cnn(Tape(recording: false).constant(Tensor(shape: [positions.count + 1] + shape, scalars: batch))).value
        #expect(fast.shape == full.shape)
        let scale = full.scalars.map { Swift.abs($0) }.max() ?? 1
        #expect(maxAbsDifference(fast, full) < 1e-5 * max(scale, 1))
        // And occlusion maps through it agree with the plain sweep.
        let model = PixelClassifier.explained(cnn)
        var unused = RandomGenerator(seed: 0)
        let plain = ExplainedModel(name: "plain", scored: .logOdds, score: model.score)
        let a = OcclusionAttribution(window: window, stride: stride).attribute(model, image, rng: &unused)
        let b = OcclusionAttribution(window: window, stride: stride).attribute(plain, image, rng: &unused)
        #expect(maxAbsDifference(a, b) < 1e-4 * max(scale, 1))
    }

    @Test func smoothGradAndGradCAMShapes() {
        var rng = RandomGenerator(seed: 3)
        let quadratic: ScoreFunction = { v in v.squared().reshaped([v.shape[0], 64]).sum(axis: 1) }
        let s = Saliency.smoothGrad(quadratic, x, samples: 4, rng: &rng)
        #expect(s.shape == x.shape)
        let vg = Saliency.smoothGrad(quadratic, x, samples: 4, kind: .variance, rng: &rng)
        #expect(vg.scalars.allSatisfy { $0 >= -1e-4 })
        let cam = Saliency.gradCAM(features: { $0.relu() }, head: { $0.reshaped([$0.shape[0], 64]).sum(axis: 1) }, x)
        #expect(cam.shape == [2, 1, 8, 8] && cam.scalars.allSatisfy { $0 >= 0 })
    }

    @Test func randomisingTheWeightsChangesTheGradientMap() {
        // The sanity check can fail: with the same weights the maps are identical (ρ = 1).
        var rng = RandomGenerator(seed: 4)
        let w1 = rng.normal([64, 16]), w2 = rng.normal([16, 1])
        func model(_ a: Tensor, _ b: Tensor) -> ScoreFunction {
            { v in Variable.matmul(Variable.matmul(v.reshaped([v.shape[0], 64]), v.tape.constant(a)).tanh(), v.tape.constant(b)).reshaped([v.shape[0]]) }
        }
        let original = Saliency.absoluteGradient(model(w1, w2), x)
        let same = Saliency.absoluteGradient(model(w1, w2), x)
        let randomised = Saliency.absoluteGradient(model(rng.normal([64, 16]), rng.normal([16, 1])), x)
        let a = Array(original.scalars[0..<64]), b = Array(randomised.scalars[0..<64])
        #expect(SaliencyScores.rankCorrelation(a, Array(same.scalars[0..<64])) == 1)
        #expect(SaliencyScores.rankCorrelation(a, b) < 0.5)
        #expect(SaliencyScores.ssim(a, a, width: 8) > 0.999 && SaliencyScores.ssim(a, b, width: 8) < 0.9)
    }

    @Test func groundTruthScores() {
        var mask = [Float](repeating: 0, count: 16), map = [Float](repeating: 0, count: 16)
        mask[5] = 1; mask[6] = 1
        map[5] = 3; map[6] = 1; map[0] = 1; map[1] = -2
        #expect(SaliencyScores.relevanceMass(map, mask: mask) == 0.8)
        #expect(SaliencyScores.relevanceRank(map, mask: mask) == 0.5)
        #expect(SaliencyScores.pointingGame(map, mask: mask, width: 4))
        map[15] = 10
        #expect(!SaliencyScores.pointingGame(map, mask: mask, width: 4))
        #expect(SaliencyScores.pointingGame(map, mask: mask, width: 4, tolerance: 3))
        // Deletion with a model whose probability is the mean pixel: deleting the brightest first drops fastest.
        let image: [Float] = (0..<16).map { Float($0) / 15 }
        let probability = { (t: Tensor) in (0..<t.shape[0]).map { i in Double(t.scalars[(i * 16)..<((i + 1) * 16)].reduce(0, +)) / 16 } }
        let good = SaliencyScores.curveAUC(image: image, map: image, channels: 1, step: 4, probability: probability, shape: [1, 4, 4])
        let bad = SaliencyScores.curveAUC(image: image, map: image.map { -$0 }, channels: 1, step: 4, probability: probability, shape: [1, 4, 4])
        #expect(good < bad)
    }
}
