import Autodiff
import Foundation
import Models
import NN
import Optimizers
import TensorCore

/// Trains and applies the pixel CNN baseline.
public enum PixelClassifier {
    /// Trains `model` with Adam (lr `learningRate`) on minibatches drawn from `trainCount`
    /// examples: `images(indices)` gives `[B, C, H, W]`, `labels[i]` the class of example i.
    /// Cross-entropy loss; deterministic for a seed and thread count. Returns the mean loss of the last 50 steps.
    /// `meter` counts the steps (one phase).
    @discardableResult
    public static func train(_ model: PixelCNN, trainCount: Int, images: ([Int]) -> Tensor, labels: [Int],
                             steps: Int, batchSize: Int = 64, learningRate: Float = 1e-3, seed: UInt64, meter: WorkMeter? = nil) -> Double {
        meter?.begin("training the pixel CNN baseline", total: steps, unit: "steps")
        defer { meter?.end() }
        let adam = Adam(learningRate: learningRate)
        var rng = RandomGenerator(seed: seed)
        var recent: [Double] = []
        for _ in 0..<steps {
            let batch = (0..<batchSize).map { _ in rng.int(below: trainCount) }
            let tape = Tape()
            let logits = model(tape.constant(images(batch)))
            let loss = softmaxCrossEntropy(logits: logits, labels: batch.map { labels[$0] })
            tape.backward(from: loss)
            adam.step(model.parameters)
            recent.append(Double(loss.value.scalar))
            if recent.count > 50 { recent.removeFirst() }
            meter?.advance()
        }
        return recent.reduce(0, +) / Double(max(recent.count, 1))
    }


    /// Class-1 probabilities (softmax) for `images [N, C, H, W]`, in batches of 256.
    public static func probabilities(_ model: PixelCNN, _ images: Tensor) -> [Double] {
        var out: [Double] = []
        for start in stride(from: 0, to: images.shape[0], by: 256) {
            let tape = Tape(recording: false)
            let logits = model(tape.constant(images.slice(axis: 0, start..<min(images.shape[0], start + 256)))).value
            let k = logits.shape[1]
            for i in 0..<logits.shape[0] {
                let row = (0..<k).map { Double(logits.scalars[i * k + $0]) }
                let m = row.max()!
                let s = row.reduce(0) { $0 + exp($1 - m) }
                out.append(exp(row[1] - m) / s)
            }
        }
        return out
    }

    /// The log-odds of class 1 from logits `[B, 2]`: `logit₁ − logit₀` `[B]` — the one score every
    /// explanation of the pixel CNN differentiates (for two classes it is log P(1) − log P(0)).
    public static func logOdds(_ logits: Variable) -> Variable {
        (logits.slice(axis: 1, 1..<2) - logits.slice(axis: 1, 0..<1)).reshaped([logits.shape[0]])
    }

    /// The pixel CNN as the attribution methods see it: its one score is the log-odds of class 1
    /// (every method, and through σ the deletion/insertion curves), and its last convolutional
    /// layer with the head on top (Grad-CAM).
    public static func explained(_ model: PixelCNN, name: String = "cnn") -> ExplainedModel {
        ExplainedModel(name: name, scored: .logOdds, score: { logOdds(model($0)) },
                       occluded: { image, window, positions, baseline in
                           let logits = model.occludedLogits(image, window: window, positions: positions, baseline: baseline)
                           return logOdds(Tape(recording: false).constant(logits)).value.scalars.map(Double.init)
                       },
                       layer: (features: { model.forward($0).features }, head: { logOdds(model.head($0)) }))
    }
}
