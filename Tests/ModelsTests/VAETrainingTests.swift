import Autodiff
import Models
import NN
import Optimizers
import TensorCore
import Testing

/// A toy data set: 16×16 images of a bright 4×4 square at one of 16 grid positions.
func toySquares(batch: Int, rng: inout RandomGenerator) -> Tensor {
    var x = Tensor.zeros([batch, 1, 16, 16])
    for b in 0..<batch {
        let cell = rng.int(below: 16)
        let (r, c) = ((cell / 4) * 4, (cell % 4) * 4)
        for i in r..<(r + 4) { for j in c..<(c + 4) { x[b, 0, i, j] = 1 } }
    }
    return x
}

/// Trains a small MLP VAE on `toySquares`; returns the mean loss of the first and last 20 steps.
func trainToyVAE(steps: Int, seed: UInt64) -> (first: Float, last: Float, losses: [Float]) {
    let model = VAE(architecture: .mlp(hidden: [64]), imageShape: [1, 16, 16], latentCount: 4, seed: seed)
    let adam = Adam(learningRate: 3e-3)
    var rng = RandomGenerator(seed: seed + 1)
    var losses: [Float] = []
    for _ in 0..<steps {
        let x = toySquares(batch: 32, rng: &rng)
        let tape = Tape()
        let parts = model.lossParts(tape.constant(x), noise: rng.normal([32, 4]), beta: 1)
        tape.backward(from: parts.total)
        adam.step(model.parameters)
        losses.append(parts.total.value.scalar)
    }
    let mean = { (s: ArraySlice<Float>) in s.reduce(0, +) / Float(s.count) }
    return (mean(losses.prefix(20)), mean(losses.suffix(20)), losses)
}

@Suite struct VAETrainingTests {
    @Test func tinyVAELossFallsOnToyData() {
        let run = trainToyVAE(steps: 300, seed: 3)
        #expect(run.losses.allSatisfy { $0.isFinite })
        // 16 lit pixels of 256: an untrained decoder costs ~177 nats; a trained one far less.
        #expect(run.last < 0.5 * run.first, "loss \(run.first) → \(run.last)")
    }

    @Test func sameSeedGivesBitIdenticalLosses() {
        let a = trainToyVAE(steps: 15, seed: 11).losses
        let b = trainToyVAE(steps: 15, seed: 11).losses
        let c = trainToyVAE(steps: 15, seed: 12).losses
        #expect(a == b)
        #expect(a != c)
    }

    @Test func convVAEForwardShapes() {
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 6, seed: 0)
        let tape = Tape(recording: false)
        let (mean, logVariance) = model.encoder(tape.constant(.zeros([2, 1, 64, 64])))
        #expect(mean.shape == [2, 6] && logVariance.shape == [2, 6])
        #expect(model.decoder(mean).shape == [2, 1, 64, 64])
        #expect(tape.nodeCount == 0)
    }
}
