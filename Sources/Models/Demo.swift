import Autodiff
import NN
import Optimizers
import TensorCore

/// A synthetic data set for smoke tests and the demo: `size × size` images of one
/// bright `size/4`-square sprite on a 4×4 grid of positions, with a little Bernoulli
/// pixel noise. Its two ground-truth factors are the grid row and column.
public struct SquaresDataset: Sendable {
    /// Image side length (a multiple of 4).
    public let size: Int
    /// Probability that a background pixel is flipped on.
    public let noise: Float

    /// Images of `size × size` (multiple of 4, ≥ 4) with background flip probability `noise`.
    public init(size: Int = 16, noise: Float = 0) {
        precondition(size >= 4 && size % 4 == 0, "SquaresDataset: size must be a positive multiple of 4, got \(size)")
        precondition((0..<1).contains(noise), "SquaresDataset: noise must lie in [0, 1), got \(noise)")
        self.size = size
        self.noise = noise
    }

    /// A batch `[B, 1, size, size]` with uniformly random positions, and the `(row, column)` factors.
    public func batch(_ count: Int, rng: inout RandomGenerator) -> (images: Tensor, factors: [(row: Int, column: Int)]) {
        let s = size, cell = size / 4
        var x = Tensor.zeros([count, 1, s, s])
        var factors: [(Int, Int)] = []
        x.scalars.withUnsafeMutableBufferPointer { px in
            for b in 0..<count {
                let (r, c) = (rng.int(below: 4), rng.int(below: 4))
                factors.append((r, c))
                let base = b * s * s
                if noise > 0 { for i in 0..<(s * s) where rng.uniform() < noise { px[base + i] = 1 } }
                for i in (r * cell)..<((r + 1) * cell) { for j in (c * cell)..<((c + 1) * cell) { px[base + i * s + j] = 1 } }
            }
        }
        return (x, factors)
    }
}

/// One logged point of a training run.
public struct TrainingRecord: Sendable {
    /// 1-based step number.
    public var step: Int
    /// Total loss, reconstruction (nats per image) and total KL (nats) on that step's batch.
    public var loss: Float, reconstruction: Float, kl: Float
}

/// Trains a β-VAE on `SquaresDataset` with Adam and calls `progress` every
/// `logEvery` steps: the quick demo of the foundation (synthetic data, MLP VAE).
///
/// Deterministic for a given `seed` and thread count. Returns the trained model.
@discardableResult
public func trainSquaresDemo(steps: Int, batch: Int = 64, latentCount: Int = 4, beta: Float = 1,
                             learningRate: Float = 1e-3, seed: UInt64 = 0, logEvery: Int = 50,
                             progress: (TrainingRecord) -> Void) -> VAE {
    precondition(steps > 0 && batch > 0 && logEvery > 0, "trainSquaresDemo: steps, batch and logEvery must be positive")
    let data = SquaresDataset(size: 16, noise: 0.01)
    let model = VAE(architecture: .mlp(hidden: [128, 64]), imageShape: [1, 16, 16], latentCount: latentCount, seed: seed)
    let adam = Adam(learningRate: learningRate)
    var rng = RandomGenerator(seed: seed).fork(1)
    var window: [TrainingRecord] = []
    for step in 1...steps {
        let (x, _) = data.batch(batch, rng: &rng)
        let tape = Tape()
        let parts = model.lossParts(tape.constant(x), noise: rng.normal([batch, latentCount]), beta: beta)
        tape.backward(from: parts.total)
        adam.step(model.parameters)
        window.append(TrainingRecord(step: step, loss: parts.total.value.scalar,
                                     reconstruction: parts.reconstruction.value.scalar,
                                     kl: parts.klPerLatent.value.scalars.reduce(0, +)))
        if step % logEvery == 0 || step == steps {
            let n = Float(window.count)
            progress(TrainingRecord(step: step, loss: window.map(\.loss).reduce(0, +) / n,
                                    reconstruction: window.map(\.reconstruction).reduce(0, +) / n,
                                    kl: window.map(\.kl).reduce(0, +) / n))
            window.removeAll()
        }
    }
    return model
}
