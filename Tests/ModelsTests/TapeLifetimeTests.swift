import Autodiff
import Models
import NN
import TensorCore
import Testing

/// A recording tape that is dropped without `backward` (a step abandoned after a NaN loss, a
/// forward pass recorded for nothing) must be freed with everything its pullbacks hold: a pullback
/// that captures a `Variable` (which holds its tape) makes a reference cycle that leaks the tape
/// and every activation and im2col buffer on it — 32 MiB per step of the dlib conv VAE at batch 64.
@Suite struct TapeLifetimeTests {
    /// Builds `body` on a fresh recording tape, drops it, and says whether the tape was freed.
    private func tapeIsFreed(_ body: (Tape) -> Variable) -> Bool {
        weak var weakTape: Tape?
        do {
            let tape = Tape()
            weakTape = tape
            let output = body(tape)
            let finite = output.value.scalars.allSatisfy { $0.isFinite }
            #expect(finite)
        }
        return weakTape == nil
    }

    @Test(arguments: ModelKind.allCases)
    func everyObjectiveFreesAnUnusedTape(kind: ModelKind) {
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 3, seed: 1)
        let settings = ObjectiveSettings(kind: kind)
        let discriminator = kind == .factorVAE ? Discriminator(latentCount: 3, width: 8, depth: 2, seed: 2) : nil
        var rng = RandomGenerator(seed: 3)
        let x = rng.uniform([4, 1, 64, 64]).map { $0 > 0.8 ? 1 : 0 }
        let noise = rng.normal([4, 3])
        let freed = tapeIsFreed { tape in
            model.objective(settings, x: tape.constant(x), noise: noise, step: 1, discriminator: discriminator).total
        }
        #expect(freed, "\(kind): the tape outlived its last reference")
        if let discriminator {
            let codes = rng.normal([4, 3])
            let discriminatorFreed = tapeIsFreed { tape in discriminator.loss(codes: codes, tape: tape, rng: &rng) }
            #expect(discriminatorFreed, "discriminator loss")
        }
    }

    @Test func pixelGradientTapesAreFreed() {
        let cnn = PixelCNN(imageShape: [1, 16, 16], classCount: 2, seed: 4)
        var rng = RandomGenerator(seed: 5)
        let x = rng.uniform([2, 1, 16, 16])
        // Saliency's tape: parameters are constants, the input is the leaf.
        let cnnFreed = tapeIsFreed { tape in cnn(tape.input(x)).sum() }
        #expect(cnnFreed)
        let transposed = ConvTranspose2d(inChannels: 1, outChannels: 2, kernel: 4, stride: 2, padding: 1, name: "t", rng: &rng)
        let transposedFreed = tapeIsFreed { tape in transposed(tape.input(x)).leakyRelu(slope: 0.1).mean() }
        #expect(transposedFreed)
    }
}
