import Autodiff
import Foundation
import NN
import Optimizers
import TensorCore
import TestSupport
import Testing

@Suite struct LayerAndLossTests {
    @Test func linearComputesAffineMapAndGradients() {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(inputSize: 3, outputSize: 2, name: "fc", rng: &rng)
        layer.weight.value = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        layer.bias.value = Tensor(shape: [2], scalars: [0.5, -1])
        let t = Tape()
        let y = layer(t.constant(Tensor(shape: [1, 3], scalars: [1, 0, -1])))
        #expect(y.value.scalars == [-1.5, -3])
        t.backward(from: y.sum())
        #expect(layer.weight.gradient?.scalars == [1, 0, -1, 1, 0, -1])
        #expect(layer.bias.gradient?.scalars == [1, 1])
        #expect(layer.parameters.map(\.name) == ["fc.weight", "fc.bias"])
        let bad = GradientCheck().mismatches([awayFromZero([4, 3], seed: 2), awayFromZero([2, 3], seed: 3), awayFromZero([2], seed: 4)]) {
            Variable.matmul($0[0], $0[1], transposeB: true) + $0[2]
        }
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func bernoulliCrossEntropyValueAndGradient() {
        // One logit ℓ = 0 against x = 1: −log σ(0) = log 2; batch of 2 rows → mean.
        let t = Tape()
        let logits = t.input(Tensor(shape: [2, 2], scalars: [0, 0, 100, -100]))
        let loss = bernoulliCrossEntropyWithLogits(logits, targets: Tensor(shape: [2, 2], scalars: [1, 0, 1, 0]))
        #expect(Swift.abs(loss.value.scalar - Float(log(2.0))) < 1e-6)
        let g = t.backward(from: loss)[logits]!
        #expect(g.scalars.map { ($0 * 1e6).rounded() / 1e6 } == [-0.25, 0.25, 0, 0])
        let bad = GradientCheck().mismatches([awayFromZero([3, 4], seed: 5) * 3]) {
            bernoulliCrossEntropyWithLogits($0[0], targets: Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 % 3) / 2 }))
        }
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func bernoulliCrossEntropyGradientIsTheStableSigmoidResidualOverManyBlocks() {
        // 40,000 logits (three 16,384-element blocks, the last part-filled), both signs and far tails:
        // the gradient computed beside the loss must be (σ(ℓ) − x)/B with σ as `stableSigmoid`, bit for bit.
        var rng = RandomGenerator(seed: 11)
        let l = rng.normal([8, 5000]) * 12, x = rng.uniform([8, 5000])
        let t = Tape()
        let logits = t.input(l)
        let g = t.backward(from: bernoulliCrossEntropyWithLogits(logits, targets: x))[logits]!
        let expected = zip(l.scalars, x.scalars).map { (Variable.stableSigmoid($0) - $1) * (1 / Float(8)) }
        #expect(g.scalars == expected)
        // No gradient asked for: the same loss.
        let constant = Tape(recording: false)
        let value = bernoulliCrossEntropyWithLogits(constant.constant(l), targets: x).value.scalar
        #expect(value == bernoulliCrossEntropyWithLogits(Tape().input(l), targets: x).value.scalar)
    }

    @Test func gaussianKLKnownValueAndGradients() {
        // μ = 1, log σ² = 0: KL = ½·1 per latent.  μ = 0, log σ² = log 2: ½(2 − log 2 − 1).
        let t = Tape(recording: false)
        let kl = gaussianKLPerLatent(mean: t.constant(Tensor(shape: [1, 2], scalars: [1, 0])),
                                     logVariance: t.constant(Tensor(shape: [1, 2], scalars: [0, Float(log(2.0))])))
        #expect(Swift.abs(kl.value.scalars[0] - 0.5) < 1e-6)
        #expect(Swift.abs(kl.value.scalars[1] - Float(0.5 * (1 - log(2.0)))) < 1e-6)
        let bad = GradientCheck().mismatches([awayFromZero([3, 4], seed: 6), awayFromZero([3, 4], seed: 7)]) {
            gaussianKL(mean: $0[0], logVariance: $0[1])
        }
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func reparameterizationAndLogDensityGradients() {
        let noise = awayFromZero([3, 2], seed: 8)
        let bad = GradientCheck().mismatches([awayFromZero([3, 2], seed: 9), awayFromZero([3, 2], seed: 10)]) {
            reparameterize(mean: $0[0], logVariance: $0[1], noise: noise)
        }
        #expect(bad.isEmpty, "\(bad)")
        let bad2 = GradientCheck().mismatches([awayFromZero([4, 1, 2], seed: 11), awayFromZero([1, 4, 2], seed: 12), awayFromZero([1, 4, 2], seed: 13)]) {
            gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2])
        }
        #expect(bad2.isEmpty, "\(bad2)")
        // log N(0; 0, 1) = −½ log 2π.
        let t = Tape(recording: false)
        let v = gaussianLogDensity(t.constant(.zeros([1])), mean: t.constant(.zeros([1])), logVariance: t.constant(.zeros([1])))
        #expect(Swift.abs(v.value.scalar + Float(0.5 * log(2 * Double.pi))) < 1e-6)
    }

    @Test func initializersHaveTheirVariance() {
        var rng = RandomGenerator(seed: 3)
        let fanIn = 200, fanOut = 100
        func variance(_ t: Tensor) -> Double {
            let m = t.sumDouble() / Double(t.count)
            return t.scalars.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(t.count)
        }
        let expected: [Initializer: Double] = [
            .glorotUniform: 2.0 / Double(fanIn + fanOut), .heNormal: 2.0 / Double(fanIn),
            .heUniform: 2.0 / Double(fanIn), .torchDefault: 1.0 / (3.0 * Double(fanIn)),
        ]
        for (scheme, v) in expected {
            let w = scheme.sample([fanOut, fanIn], fanIn: fanIn, fanOut: fanOut, rng: &rng)
            #expect(Swift.abs(variance(w) / v - 1) < 0.05, "\(scheme)")
        }
    }
}

@Suite struct OptimizerTests {
    @Test func adamMatchesHandComputedSteps() {
        // Two steps on f(θ) = Σ θ² from θ = [1, −2], lr 0.1 (PyTorch's arrangement).
        let p = Parameter("theta", Tensor(shape: [2], scalars: [1, -2]))
        let adam = Adam(learningRate: 0.1)
        var theta: [Double] = [1, -2], m = [0.0, 0.0], v = [0.0, 0.0]
        for step in 1...2 {
            let t = Tape()
            t.backward(from: t.parameter(p).squared().sum())
            adam.step([p])
            for i in 0..<2 {
                let g = 2 * theta[i]
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                let denom = (v[i].squareRoot() / (1 - pow(0.999, Double(step))).squareRoot()) + 1e-8
                theta[i] -= 0.1 / (1 - pow(0.9, Double(step))) * m[i] / denom
            }
        }
        #expect(Swift.abs(Double(p.value.scalars[0]) - theta[0]) < 1e-6)
        #expect(Swift.abs(Double(p.value.scalars[1]) - theta[1]) < 1e-6)
        #expect(adam.stepCount == 2 && p.gradient == nil)
    }

    @Test func adamVectorLanesMatchTheScalarFormulaBitForBit() {
        // 37 elements: two 16-lane vectors and a 5-element scalar tail, three steps, against the
        // per-element Float formula written out here (vector square roots and divides are exact).
        var rng = RandomGenerator(seed: 4)
        let start = rng.normal([37]), target = rng.normal([37])
        let p = Parameter("theta", start)
        let adam = Adam(learningRate: 0.01)
        var theta = start.scalars, m = [Float](repeating: 0, count: 37), v = [Float](repeating: 0, count: 37)
        for step in 1...3 {
            let t = Tape()
            t.backward(from: (t.parameter(p) - t.constant(target)).squared().sum())
            let g = zip(theta, target.scalars).map { 2 * ($0 - $1) }
            adam.step([p])
            // The hyperparameters are Floats; the bias corrections are computed from them in Double.
            let stepSize = Float(Double(Float(0.01)) / (1 - pow(Double(Float(0.9)), Double(step))))
            let correction2 = Float((1 - pow(Double(Float(0.999)), Double(step))).squareRoot())
            for i in 0..<37 {
                m[i] = 0.9 * m[i] + (1 - 0.9) * g[i]
                v[i] = 0.999 * v[i] + (1 - 0.999) * g[i] * g[i]
                theta[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + 1e-8)
            }
            #expect(p.value.scalars == theta, "step \(step)")
        }
    }

    @Test func sgdWithMomentumMinimisesAQuadratic() {
        let p = Parameter("x", Tensor(shape: [1], scalars: [5]))
        let sgd = SGD(learningRate: 0.1, momentum: 0.5)
        // First step: θ ← 5 − 0.1·10 = 4; second: b = 0.5·10 + 8 = 13 → θ = 4 − 1.3.
        for _ in 0..<2 {
            let t = Tape()
            t.backward(from: t.parameter(p).squared().sum())
            sgd.step([p])
        }
        #expect(Swift.abs(p.value.scalar - 2.7) < 1e-5)
        for _ in 0..<200 {
            let t = Tape()
            t.backward(from: t.parameter(p).squared().sum())
            sgd.step([p])
        }
        #expect(Swift.abs(p.value.scalar) < 1e-3)
    }
}
