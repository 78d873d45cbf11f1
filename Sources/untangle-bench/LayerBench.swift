import ArgumentParser
import Autodiff
import Foundation
import Models
import NN
import Optimizers
import TensorCore

/// Per-layer times of the dlib conv VAE's convolutions, forward and backward, against the whole
/// training step measured in the same run: where the step's milliseconds go, layer by layer.
struct LayerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "ms and GFLOP/s of each convolution of the dlib conv VAE, forward and backward, and the rest of the step.",
        discussion: """
        Each layer runs on its own tape with the step's shapes (input needing a gradient except the first \
        layer's, weight and bias always), timed over --steps calls; `rest` is the full training step minus \
        the layers' sum (dense layers, activations, loss, Adam, tape bookkeeping). `GEMMs alone` times the \
        layer's OpenBLAS products (forward; forward, ∂W and ∂x) on ready operands with the layer's batch \
        pieces in parallel: the floor the im2col lowering leaves when every copy around the GEMMs is free.
        """)

    @Option(help: "Threads.") var threads = 2
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Timed calls per layer.") var steps = 30

    func validate() throws {
        guard threads >= 1, batch >= 1, steps >= 1 else { throw ValidationError("threads, batch and steps must be ≥ 1") }
    }

    /// One convolution of the benchmark model: its kind, channels, kernel, stride, padding and input side.
    struct Shape {
        let name: String, transposed: Bool, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, side: Int
    }

    static let shapes: [Shape] = [
        Shape(name: "conv1", transposed: false, inChannels: 1, outChannels: 32, kernel: 4, stride: 2, padding: 1, side: 64),
        Shape(name: "conv2", transposed: false, inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, side: 32),
        Shape(name: "conv3", transposed: false, inChannels: 32, outChannels: 64, kernel: 2, stride: 2, padding: 0, side: 16),
        Shape(name: "conv4", transposed: false, inChannels: 64, outChannels: 64, kernel: 2, stride: 2, padding: 0, side: 8),
        Shape(name: "deconv1", transposed: true, inChannels: 64, outChannels: 64, kernel: 4, stride: 2, padding: 1, side: 4),
        Shape(name: "deconv2", transposed: true, inChannels: 64, outChannels: 32, kernel: 4, stride: 2, padding: 1, side: 8),
        Shape(name: "deconv3", transposed: true, inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, side: 16),
        Shape(name: "deconv4", transposed: true, inChannels: 32, outChannels: 1, kernel: 4, stride: 2, padding: 1, side: 32),
    ]

    /// One product of a layer: `C [m, n] = op(A)·op(B)` with its stored row strides.
    struct Product {
        let transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int
        var lda: Int { transposeA ? m : k }
        var ldb: Int { transposeB ? k : n }
    }

    /// The layer's GEMMs for a batch piece of `n = images·L` columns: forward, ∂W and (unless it is the
    /// first layer) ∂x, as `conv2d` / `convTranspose2d` call them.
    func products(_ s: Shape, n: Int) -> [Product] {
        let window = s.kernel * s.kernel
        let first = s.name == "conv1"
        if s.transposed {
            let (c, patch) = (s.inChannels, s.outChannels * window)
            return [Product(transposeA: true, transposeB: false, m: patch, n: n, k: c),       // cols = Wᵀ·X
                    Product(transposeA: false, transposeB: true, m: c, n: patch, k: n),       // ∂W = X·dcolsᵀ
                    Product(transposeA: false, transposeB: false, m: c, n: n, k: patch)]      // ∂x = W·dcols
        }
        let (o, patch) = (s.outChannels, s.inChannels * window)
        return [Product(transposeA: false, transposeB: false, m: o, n: n, k: patch),          // Y = W·cols
                Product(transposeA: false, transposeB: true, m: o, n: patch, k: n)]           // ∂W = G·colsᵀ
            + (first ? [] : [Product(transposeA: true, transposeB: false, m: patch, n: n, k: o)]) // dcols = Wᵀ·G
    }

    /// Seconds of the layer's GEMMs alone (forward, and forward + backward), on ready operands, its
    /// batch pieces in parallel as the layer runs them: what OpenBLAS takes at these shapes, packing
    /// included, with no im2col, col2im or layout copy around it.
    func gemmSeconds(_ s: Shape, grid: Int) -> (forward: Double, all: Double) {
        let window = s.kernel * s.kernel
        let floatsPerImage = (s.transposed ? max(s.outChannels * window, s.inChannels) : max(s.inChannels * window, s.outChannels)) * grid
        let pieces = convolutionPieces(batch, floatsPerImage: floatsPerImage, grid: grid)
        let largest = pieces.map(\.count).max()! * grid
        let shapes = products(s, n: largest)
        let floats = shapes.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max()!
        let (a, b, c) = (ScratchBuffer(count: floats * pieces.count), ScratchBuffer(count: floats * pieces.count), ScratchBuffer(count: floats * pieces.count))
        a.pointer.update(repeating: 0.01, count: a.count); b.pointer.update(repeating: 0.5, count: b.count)
        let perPiece = pieces.map { products(s, n: $0.count * grid) } // shapes fixed before timing
        func time(_ selected: Range<Int>) -> Double {
            secondsPerCall(steps) {
                for index in selected {
                    Parallel.forEach(pieces.count) { i in
                        let q = perPiece[i][index]
                        BLAS.gemm(transposeA: q.transposeA, transposeB: q.transposeB, m: q.m, n: q.n, k: q.k,
                                  a: a.pointer + i * floats, lda: q.lda, b: b.pointer + i * floats, ldb: q.ldb,
                                  c: c.pointer + i * floats, ldc: q.n)
                    }
                }
            }
        }
        return (time(0..<1), time(shapes.indices))
    }

    func run() {
        Parallel.setThreadCount(threads)
        Memory.keepLargeBuffersResident()
        var rng = RandomGenerator(seed: 1)
        print("OpenBLAS: \(BLAS.configuration), threads=\(threads), batch=\(batch)")
        print("| layer | lowering | forward ms | GFLOP/s | backward ms | GFLOP/s | GEMMs alone: forward ms | GFLOP/s | forward + backward ms | GFLOP/s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        var layersTotal = 0.0, gemmTotal = 0.0, im2colBound = 0.0
        for s in Self.shapes {
            let x = rng.normal([batch, s.inChannels, s.side, s.side])
            let weightShape = s.transposed ? [s.inChannels, s.outChannels, s.kernel, s.kernel] : [s.outChannels, s.inChannels, s.kernel, s.kernel]
            let weight = Parameter("w", rng.normal(weightShape)), bias = Parameter("b", rng.normal([s.outChannels]))
            let first = s.name == "conv1"
            func forward(_ tape: Tape) -> Variable {
                let input = first ? tape.constant(x) : tape.input(x)
                let (w, b) = (tape.parameter(weight), tape.parameter(bias))
                return s.transposed ? convTranspose2d(input, weight: w, bias: b, stride: s.stride, padding: s.padding)
                                    : conv2d(input, weight: w, bias: b, stride: s.stride, padding: s.padding)
            }
            let seed = rng.normal(forward(Tape()).shape)
            let bothSeconds = secondsPerCall(steps) { let tape = Tape(); _ = tape.backward(from: forward(tape), seed: seed) }
            let forwardSeconds = secondsPerCall(steps) { _ = forward(Tape()) }
            let backwardSeconds = max(bothSeconds - forwardSeconds, 0)
            // Multiply-adds: the output (or, transposed, the input) grid × outputs × window.
            let grid = s.transposed ? s.side * s.side : (s.side / s.stride) * (s.side / s.stride)
            let macs = Double(batch * grid * s.inChannels * s.outChannels * s.kernel * s.kernel)
            let backwardMACs = (first ? 1 : 2) * macs
            let gemm = gemmSeconds(s, grid: grid)
            let gridWidth = s.transposed ? s.side : (s.side + 2 * s.padding - s.kernel) / s.stride + 1
            let direct = ConvolutionLowering.automatic.usesDirect(inChannels: s.inChannels, outChannels: s.outChannels, gridWidth: gridWidth)
            print(String(format: "| %@ | %@ | %.2f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f | %.0f |", s.name as NSString,
                         (direct ? "direct" : "im2col") as NSString,
                         1e3 * forwardSeconds, 2 * macs / forwardSeconds / 1e9,
                         1e3 * backwardSeconds, 2 * backwardMACs / max(backwardSeconds, 1e-9) / 1e9,
                         1e3 * gemm.forward, 2 * macs / gemm.forward / 1e9, 1e3 * gemm.all, 2 * (macs + backwardMACs) / gemm.all / 1e9))
            gemmTotal += gemm.all
            layersTotal += bothSeconds
            im2colBound += direct ? bothSeconds : gemm.all
        }
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: 10, seed: 0)
        let adam = Adam(learningRate: 1e-4)
        let images = rng.uniform([batch, 1, 64, 64]).map { $0 > 0.9 ? 1 : 0 }
        let step = secondsPerCall(steps) { _ = convTrainingStep(model: model, adam: adam, x: images, rng: &rng) }
        print(String(format: "convolutions %.1f ms (their GEMMs alone %.1f ms), whole step %.1f ms, rest %.1f ms (%.0f %%)",
                     1e3 * layersTotal, 1e3 * gemmTotal, 1e3 * step, 1e3 * (step - layersTotal), 100 * (step - layersTotal) / step))
        print(String(format: "with the im2col layers' im2col, col2im and layout copies free, the step would take ≥ %.1f ms: at most %.2f× today's",
                     1e3 * (step - layersTotal + im2colBound), step / (step - layersTotal + im2colBound)))
    }
}
