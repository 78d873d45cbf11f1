import Autodiff
import Foundation
import Models
import NN
import TensorCore
import Testing

/// The full dlib conv VAE loss and its gradients against PyTorch (float64) values
/// dumped once by `Fixtures/make_vae_fixture.py` (weights, input and noise come
/// from closed-form formulas shared by both sides).
@Suite struct TorchReferenceTests {
    struct Reference: Decodable {
        struct GradientSummary: Decodable {
            var sum: Double
            var sum_of_squares: Double
            var first: [Double]
        }
        var batch: Int, latents: Int, beta: Double, total: Double, reconstruction: Double
        var kl_per_latent: [Double], mean: [Double], logits_sum: Double
        var gradients: [String: GradientSummary]
    }

    static func formulaTensor(_ shape: [Int], _ f: (Int) -> Double) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.product).map { Float(f($0)) })
    }

    @Test func dlibConvVAELossAndGradientsMatchPyTorch() throws {
        let url = try #require(Bundle.module.url(forResource: "dlib_vae_reference", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let b = ref.batch, z = ref.latents
        let model = VAE(architecture: .conv, imageShape: [1, 64, 64], latentCount: z, seed: 0)
        for (p, parameter) in model.parameters.enumerated() {
            let shape = parameter.value.shape
            if shape.count == 1 {
                parameter.value = Self.formulaTensor(shape) { 0.1 * sin(0.3 * Double($0) + Double(p)) }
            } else {
                let a = (3.0 / Double(shape.dropFirst().product)).squareRoot()
                parameter.value = Self.formulaTensor(shape) { a * sin(0.61 * Double($0) + 1.37 * Double(p) + 0.5) }
            }
        }
        #expect(Set(model.parameters.map(\.name)) == Set(ref.gradients.keys))
        let x = Self.formulaTensor([b, 1, 64, 64]) { sin(0.37 * Double($0)) * cos(0.011 * Double($0)) > 0.25 ? 1 : 0 }
        let noise = Self.formulaTensor([b, z]) { 1.5 * sin(0.9 * Double($0) + 0.2) }

        let tape = Tape()
        let parts = model.lossParts(tape.constant(x), noise: noise, beta: Float(ref.beta))
        let mean = model.encoder(Tape(recording: false).constant(x)).mean.value
        tape.backward(from: parts.total)

        func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }
        #expect(relativeError(Double(parts.total.value.scalar), ref.total) < 1e-4)
        #expect(relativeError(Double(parts.reconstruction.value.scalar), ref.reconstruction) < 1e-4)
        for (l, klRef) in ref.kl_per_latent.enumerated() {
            #expect(abs(Double(parts.klPerLatent.value.scalars[l]) - klRef) < 1e-4 * max(abs(klRef), 1e-2))
        }
        for (i, m) in ref.mean.enumerated() {
            #expect(abs(Double(mean.scalars[i]) - m) < 1e-5 + 1e-4 * abs(m))
        }
        for parameter in model.parameters {
            let g = try #require(parameter.gradient, "no gradient for \(parameter.name)")
            let summary = try #require(ref.gradients[parameter.name])
            let sumsq = g.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(relativeError(sumsq, summary.sum_of_squares) < 1e-3, "‖∂L/∂\(parameter.name)‖² \(sumsq) vs \(summary.sum_of_squares)")
            let scale = summary.sum_of_squares.squareRoot() / Double(g.count).squareRoot()
            for (i, f) in summary.first.enumerated() {
                #expect(abs(Double(g.scalars[i]) - f) < 1e-3 * max(abs(f), scale), "∂L/∂\(parameter.name)[\(i)] \(g.scalars[i]) vs \(f)")
            }
        }
    }
}
