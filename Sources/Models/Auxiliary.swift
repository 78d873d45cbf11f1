import Autodiff
import NN
import Optimizers
import TensorCore

/// A network an objective trains beside the VAE with its own optimiser — FactorVAE's
/// discriminator (Kim & Mnih 2018), which estimates the total correlation the VAE's loss
/// penalises. The trainer treats it generically: one ``update(codes:rng:)`` after each VAE
/// step, a log column `<name>_loss`, and checkpoint entries `<name>_optimizer.{m,v}.<param>`
/// and `<name>_optimizer_step` beside the parameters (named `<name>.…`).
public final class AuxiliaryNetwork {
    /// The prefix of its parameters, log column and checkpoint entries ("discriminator").
    public let name: String
    /// Its optimiser.
    public let optimizer: Adam
    /// The discriminator the objective reads, for FactorVAE.
    public let discriminator: Discriminator

    init(name: String, discriminator: Discriminator, optimizer: Adam) {
        self.name = name; self.discriminator = discriminator; self.optimizer = optimizer
    }

    /// Its trainable parameters.
    public var parameters: [Parameter] { discriminator.parameters }
    /// The log column of its loss.
    public var logColumn: String { "\(name)_loss" }

    /// One optimiser step on the VAE step's codes `[B, Z]` (no gradient reaches the VAE); the loss.
    public func update(codes: Tensor, rng: inout RandomGenerator) -> Double {
        for p in parameters { p.zeroGradient() } // the VAE's loss left gradients here: they must not train it
        let tape = Tape()
        let loss = discriminator.loss(codes: codes, tape: tape, rng: &rng)
        tape.backward(from: loss)
        optimizer.step(parameters)
        return Double(loss.value.scalar)
    }
}

extension ObjectiveSettings {
    /// The auxiliary network this objective trains (FactorVAE: a 6×1000 leaky-ReLU
    /// discriminator with Adam at `learningRate`, β1, β2, dlib's 1e-4, 0.5, 0.9), or nil.
    public func auxiliary(latentCount: Int, seed: UInt64, learningRate: Float, beta1: Float, beta2: Float) -> AuxiliaryNetwork? {
        guard kind == .factorVAE else { return nil }
        return AuxiliaryNetwork(name: "discriminator", discriminator: Discriminator(latentCount: latentCount, seed: seed),
                                optimizer: Adam(learningRate: learningRate, beta1: beta1, beta2: beta2))
    }
}
