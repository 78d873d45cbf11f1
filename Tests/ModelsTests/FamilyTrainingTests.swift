import Autodiff
import Datasets
import Models
import NN
import Optimizers
import TensorCore
import Testing

/// Every member of the VAE family trains on dSprites for a short run with falling loss (tiny sizes).
@Suite struct FamilyTrainingTests {
    @Test(arguments: ModelKind.allCases)
    func lossFallsOnDSprites(kind: ModelKind) {
        let data = DSprites()
        let model = VAE(architecture: .mlp(hidden: [64]), imageShape: [1, 64, 64], latentCount: 4, seed: 1)
        let settings = ObjectiveSettings(kind: kind, beta: 2, capacityMax: 5, capacitySteps: 50, gamma: kind == .annealedVAE ? 10 : 5,
                                         lambdaOffDiagonal: 1)
        let discriminator = kind == .factorVAE ? Discriminator(latentCount: 4, width: 32, depth: 2, seed: 2) : nil
        let adam = Adam(learningRate: 2e-3), dAdam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.9)
        var rng = RandomGenerator(seed: 3)
        var losses: [Float] = []
        for step in 1...60 {
            let x = data.sampleBatch(16, rng: &rng)
            let tape = Tape()
            let terms = model.objective(settings, x: tape.constant(x), noise: rng.normal([16, 4]), step: step, discriminator: discriminator)
            tape.backward(from: terms.total)
            adam.step(model.parameters)
            if let discriminator {
                for p in discriminator.parameters { p.zeroGradient() }
                let dTape = Tape()
                let dLoss = discriminator.loss(codes: terms.codes.value, tape: dTape, rng: &rng)
                dTape.backward(from: dLoss)
                dAdam.step(discriminator.parameters)
                #expect(dLoss.value.scalar.isFinite)
            }
            // The reconstruction term dominates every objective; track it for comparability.
            losses.append(terms.reconstruction.value.scalar)
        }
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(last < 0.5 * first, "\(kind): reconstruction \(first) → \(last)")
    }
}
