import Autodiff
import Models
import TensorCore
import TestSupport
import Testing

/// The evaluation's code pool (Metrics' `CodePool`) encodes each image once, in whatever batch it
/// falls into, and relies on this: an image's code does not depend on the other images of its
/// batch or on the batch size beyond float rounding (OpenBLAS takes other kernels for other
/// shapes, so the last bits move: measured ≤ 4e-7 here), for the dlib conv and the MLP encoders,
/// on one and two threads.
@Suite struct EncoderBatchInvarianceTests {
    func means(_ model: VAE, _ x: Tensor) -> Tensor {
        model.encoder(Tape(recording: false).constant(x)).mean.value
    }

    @Test(arguments: [Architecture.conv, .mlp(hidden: [64, 32])], [1, 2])
    func anImagesCodeIsTheSameInAnyBatch(architecture: Architecture, threads: Int) {
        Parallel.setThreadCount(threads)
        defer { Parallel.setThreadCount(1) }
        let model = VAE(architecture: architecture, imageShape: [1, 64, 64], latentCount: 5, seed: 3)
        var rng = RandomGenerator(seed: 8)
        let x = rng.uniform([70, 1, 64, 64]).map { $0 > 0.7 ? 1 : 0 }
        let whole = means(model, x)
        for (start, count) in [(0, 1), (5, 1), (3, 2), (10, 7), (17, 33), (0, 64), (69, 1)] {
            let part = means(model, x.slice(axis: 0, start..<(start + count)))
            let difference = maxAbsDifference(part, whole.slice(axis: 0, start..<(start + count)))
            #expect(difference <= 1e-5, "\(architecture), \(threads) threads: images \(start)..<\(start + count) differ by \(difference)")
        }
    }
}
