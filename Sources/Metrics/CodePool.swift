import Datasets
import TensorCore

/// Codes of factor-grid images, each image encoded once per evaluation: the BetaVAE and FactorVAE
/// scores draw ≈ 2.9 M images at disentanglement_lib's defaults (15,000 points × 128 images, and
/// 15,000 votes × 64 images + 10,000), but dSprites' grid has only 737,280, so most draws repeat.
///
/// A metric first draws all its points (the same random stream, in the same order, as it would
/// draw them one by one), hands every grid index it needs to ``prefetch(_:)`` — which encodes each
/// index not seen before, in first-seen order, in batches of ``batchSize`` — then reads the codes
/// with ``code(_:)``. The encoder maps each image on its own (no batch statistics), so a pooled
/// code is the code the image gets in any other batch up to float rounding (OpenBLAS picks other
/// kernels for other shapes: ≤ 4e-7 measured on the conv and MLP encoders). On a trained conv VAE
/// (dSprites, dlib's defaults) all 28 values of `evaluate --metrics all` came out identical to
/// encoding every draw, and BetaVAE + FactorVAE took 129 s instead of 551 s on 2 threads.
///
/// Memory: `Z` floats per distinct image (dSprites' whole grid at Z = 10: 29 MB) and one table
/// entry per distinct image.
public final class CodePool {
    /// The factor grid the indices address.
    public let space: any FactorSpace
    /// Codes of factor-class combinations (`[N][F]` → `[N, Z]`).
    public let representation: Representation
    /// Images per call of `representation` (the encoder's own batch: `TrainedRun.encodingPiece`).
    public let batchSize: Int
    private var slot: [Int: Int] = [:]
    private var codes: [Float] = []
    private var latents = 0

    /// An empty pool over `space`'s grid.
    public init(space: any FactorSpace, representation: @escaping Representation, batchSize: Int = 256) {
        self.space = space
        self.representation = representation
        self.batchSize = max(batchSize, 1)
    }

    /// Distinct images encoded so far.
    public var count: Int { slot.count }

    /// Encodes every index of `indices` not in the pool yet (each once, in first-seen order);
    /// `meter` counts the images as they are encoded (one phase).
    public func prefetch(_ indices: [Int], meter: WorkMeter? = nil) {
        var missing: [Int] = []
        var queued = Set<Int>()
        for i in indices where slot[i] == nil && queued.insert(i).inserted { missing.append(i) }
        meter?.begin("encoding \(missing.count) distinct images", total: missing.count, unit: "images")
        defer { meter?.end() }
        for start in stride(from: 0, to: missing.count, by: batchSize) {
            let chunk = Array(missing[start..<min(missing.count, start + batchSize)])
            let z = representation(chunk.map { space.classes(of: $0) })
            precondition(z.rank == 2 && z.shape[0] == chunk.count, "CodePool: \(z.shape) codes for \(chunk.count) images")
            if latents == 0 { latents = z.shape[1] }
            for index in chunk { slot[index] = slot.count }
            codes += z.scalars
            meter?.advance(by: chunk.count)
        }
    }

    /// The code `[Z]` of grid index `index` (which must have been prefetched).
    public func code(_ index: Int) -> ArraySlice<Float> {
        guard let s = slot[index] else { preconditionFailure("CodePool: index \(index) was not prefetched") }
        return codes[(s * latents)..<((s + 1) * latents)]
    }
}
