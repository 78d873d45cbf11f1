import Foundation
import TensorCore

/// A data set whose images carry class labels.
public protocol LabeledDataset: ImageDataset {
    /// Names of the label classes, by label value.
    var labelNames: [String] { get }
    /// The label of image `index`.
    func label(of index: Int) -> Int
}

/// A labelled data set that also knows *where* the evidence is and *which factors* decide the
/// label: what `compare` needs to score pixel saliency (against the masks) and factor
/// explanations (against the rule). Stages ask for this capability, not for a concrete type.
public protocol MaskedDataset: LabeledDataset {
    /// The ground-truth mask of image `index`: `[H, W]` of 0/1 (1 on the finding).
    func mask(_ index: Int) -> Tensor
    /// Names of the factors the label rule uses (empty when the rule is unknown).
    var ruleFactors: [String] { get }
    /// The label rule in words, for reports.
    var ruleDescription: String { get }
    /// Whether `mask(_:)` has anything to give (an image folder has masks only with a `mask` column).
    var hasMasks: Bool { get }
}

extension MaskedDataset {
    public var hasMasks: Bool { true }
}

extension ImageDataset {
    /// The data set as a ``MaskedDataset`` when it has ground-truth masks (the built-in lesions, or
    /// an image folder whose labels CSV has a `mask` column); nil otherwise.
    public var maskedView: (any MaskedDataset)? {
        guard let masked = self as? any MaskedDataset, masked.hasMasks else { return nil }
        return masked
    }
}

/// A synthetic, medical-style data set where the truth is known at two levels:
/// the factors that generate each image and the pixels that show the finding.
///
/// Each 64×64 grey image is "tissue" — a smooth texture of three oriented sinusoids around grey
/// level 0.35 — with one lesion added on top. Two variants share the renderer and the rule:
///
/// **`standard`** (the default, since 0.4.0): the rule's factors are among the first a VAE learns.
/// Round lesions (no eccentricity or rotation), one contrast, a weak texture, and wider size and
/// blur ranges, so that size and blur carry much of the pixel variance:
/// - `size` [7]: radius a ∈ {4, 5.5, 7, 8.5, 10, 11.5, 13} px;
/// - `blur` [6]: boundary blur width w ∈ {0.5, 1.5, 3, 4.5, 6.5, 9} px (large = ill-defined border);
/// - `posX`, `posY` [8 each]: centre at 22 + 20·pos px, pos ∈ linspace(0, 1, 8);
/// - `texture` [4]: the background pattern (sinusoid amplitude 0.006) — a nuisance factor;
/// contrast 0.6 for every lesion. 10,752 images, 2/7 malignant.
///
/// Why these numbers: measured as the extra Bernoulli log-loss of decoding one class with its
/// neighbour's image, neighbouring blur classes differed by 1–2 nats at contrast 0.4–0.5 and
/// blur ∈ [0.5, 6] (size 6–16, position 18), too little for a β = 1 VAE to spend a latent on;
/// contrast 0.6 and blur up to 9 px raise it to 3–6 nats (pixel variance over blur ×2.3).
///
/// **`hard`** (`lesions?variant=hard`; the only variant before 0.4.0): elliptical, rotated lesions
/// of four contrasts on a stronger texture (amplitude 0.015), where a VAE learns position and
/// texture long before size and blur:
/// - `size` [6]: semi-major radius a ∈ {4, 5.5, 7, 8.5, 10, 11.5} px;
/// - `eccentricity` [4]: e ∈ {0, 0.2, 0.4, 0.55}, semi-minor radius b = a·(1 − e);
/// - `rotation` [8]: k·π/8 (the ellipse is symmetric under π);
/// - `posX`, `posY` [8 each]: centre at 20 + 24·pos px, pos ∈ linspace(0, 1, 8);
/// - `contrast` [4]: added intensity ∈ {0.2, 0.3, 0.4, 0.5};
/// - `blur` [4]: boundary blur width w ∈ {0.5, 1.5, 3, 5} px;
/// - `texture` [5]: the background pattern. 1,966,080 images, 1/4 malignant.
///
/// Pixel value: `clip(t(x, y) + contrast·m, 0, 1)` with lesion membership
/// `m = ½(1 − tanh(d / w))`, `d = (r − 1)·√(ab)` and `r = √((u/a)² + (v/b)²)` in
/// the lesion's rotated frame (u, v). The ground-truth mask is `r ≤ 1`.
///
/// **Label rule** (both variants): malignant (1) ⇔ `size ≥ 8.5 px` **and** `blur ≥ 3 px`;
/// benign (0) otherwise. With `labelNoise = p` a label is flipped with probability p, decided by
/// a hash of (index, noise seed), so an image always keeps the same label. Weak-supervision pairs
/// (Ada-GVAE, Ada-ML-VAE) are drawn from the same factor grid.
public struct Lesions: GroundTruthDataset, MaskedDataset {
    /// Which factor grid the generator draws from.
    public enum Variant: String, Sendable, CaseIterable {
        /// Round lesions, wide size/blur ranges, weak texture: the rule is learnable.
        case standard
        /// Today's difficulty before 0.4.0: ellipses, rotations, four contrasts, stronger texture.
        case hard
    }

    public let name = "lesions"
    public let imageShape = [1, 64, 64]
    /// The generator's variant.
    public let variant: Variant
    public let factors: [Factor]
    public let labelNames = ["benign", "malignant"]
    /// Names of the factors the label rule uses.
    public static let ruleFactors = ["size", "blur"]
    public var ruleFactors: [String] { Lesions.ruleFactors }
    public var ruleDescription: String { Lesions.ruleDescription }
    /// The label rule in words.
    public static let ruleDescription = "malignant ⇔ size ≥ 8.5 px and blur ≥ 3 px"

    /// Probability that a label is flipped.
    public let labelNoise: Double
    /// Seed of the label-noise hash.
    public let noiseSeed: UInt64
    /// The background of each texture class, `[T][64·64]`, rendered once.
    private let backgrounds: [[Float]]
    /// Positions of the rule's and the shape's factors in `factors` (nil: fixed in this variant).
    private let sizeFactor: Int, blurFactor: Int, posXFactor: Int, posYFactor: Int, textureFactor: Int
    private let eccentricityFactor: Int?, rotationFactor: Int?, contrastFactor: Int?
    /// Lesion centre = `offset + span·pos` px.
    private let offset: Double, span: Double

    /// The data set with label noise `labelNoise` ∈ [0, 0.5).
    public init(variant: Variant = .standard, labelNoise: Double = 0, noiseSeed: UInt64 = 0) {
        precondition((0..<0.5).contains(labelNoise), "Lesions: labelNoise must lie in [0, 0.5), got \(labelNoise)")
        self.variant = variant
        self.labelNoise = labelNoise
        self.noiseSeed = noiseSeed
        let amplitude: Double
        switch variant {
        case .standard:
            factors = [
                Factor(name: "size", values: [4, 5.5, 7, 8.5, 10, 11.5, 13]),
                Factor(name: "blur", values: [0.5, 1.5, 3, 4.5, 6.5, 9]),
                Factor(name: "posX", linspace: 0, 1, count: 8),
                Factor(name: "posY", linspace: 0, 1, count: 8),
                Factor(name: "texture", values: [0, 1, 2, 3]),
            ]
            (offset, span, amplitude) = (22, 20, 0.006)
        case .hard:
            factors = [
                Factor(name: "size", values: [4, 5.5, 7, 8.5, 10, 11.5]),
                Factor(name: "eccentricity", values: [0, 0.2, 0.4, 0.55]),
                Factor(name: "rotation", values: (0..<8).map { Double($0) * Double.pi / 8 }),
                Factor(name: "posX", linspace: 0, 1, count: 8),
                Factor(name: "posY", linspace: 0, 1, count: 8),
                Factor(name: "contrast", values: [0.2, 0.3, 0.4, 0.5]),
                Factor(name: "blur", values: [0.5, 1.5, 3, 5]),
                Factor(name: "texture", values: [0, 1, 2, 3, 4]),
            ]
            (offset, span, amplitude) = (20, 24, 0.015)
        }
        let names = factors.map(\.name)
        func position(_ name: String) -> Int? { names.firstIndex(of: name) }
        (sizeFactor, blurFactor, posXFactor, posYFactor, textureFactor) = (position("size")!, position("blur")!, position("posX")!,
                                                                           position("posY")!, position("texture")!)
        (eccentricityFactor, rotationFactor, contrastFactor) = (position("eccentricity"), position("rotation"), position("contrast"))
        let textures = factors[textureFactor].classCount
        backgrounds = (0..<textures).map { Lesions.texture(UInt64($0), amplitude: amplitude) }
    }

    public var count: Int { gridSize }

    /// Texture class `t`: 0.35 + Σ of three sinusoids of amplitude `amplitude`, frequency 1–3.5
    /// cycles per image, random orientation and phase (seeded by `1000 + t`).
    static func texture(_ t: UInt64, amplitude: Double) -> [Float] {
        var rng = RandomGenerator(seed: 1000 + t)
        let waves = (0..<3).map { _ in
            (1 + 2.5 * rng.uniformDouble(), Double.pi * rng.uniformDouble(), 2 * Double.pi * rng.uniformDouble())
        }
        return (0..<(64 * 64)).map { i in
            let (x, y) = (Double(i % 64) / 64, Double(i / 64) / 64)
            var v = 0.35
            for (f, phi, psi) in waves { v += amplitude * sin(2 * Double.pi * f * (x * cos(phi) + y * sin(phi)) + psi) }
            return Float(v)
        }
    }

    /// The noise-free label the rule gives to factor classes `c`: size ≥ 8.5 px and blur ≥ 3 px.
    public func ruleLabel(classes c: [Int]) -> Int {
        factors[sizeFactor].values[c[sizeFactor]] >= 8.5 && factors[blurFactor].values[c[blurFactor]] >= 3 ? 1 : 0
    }

    public func label(of index: Int) -> Int {
        let clean = ruleLabel(classes: classes(of: index))
        guard labelNoise > 0 else { return clean }
        var hash = RandomGenerator(seed: noiseSeed ^ 0x5EED_1E51_0000_0000).fork(UInt64(index))
        return hash.uniformDouble() < labelNoise ? 1 - clean : clean
    }

    /// The lesion's semi-axes `(a, b)` in px for factor classes `c`.
    public func radii(classes c: [Int]) -> (a: Double, b: Double) {
        let a = factors[sizeFactor].values[c[sizeFactor]]
        return (a, a * (1 - (eccentricityFactor.map { factors[$0].values[c[$0]] } ?? 0)))
    }

    /// Lesion geometry of image `index`: centre, radii, rotation.
    private func geometry(_ c: [Int]) -> (cx: Double, cy: Double, a: Double, b: Double, cos: Double, sin: Double) {
        let (a, b) = radii(classes: c)
        let angle = rotationFactor.map { factors[$0].values[c[$0]] } ?? 0
        return (offset + span * factors[posXFactor].values[c[posXFactor]], offset + span * factors[posYFactor].values[c[posYFactor]],
                a, b, cos(angle), sin(angle))
    }

    /// Normalised elliptical radius r of pixel (row, col): r ≤ 1 inside the lesion.
    @inline(__always)
    private func radius(_ g: (cx: Double, cy: Double, a: Double, b: Double, cos: Double, sin: Double), _ row: Int, _ col: Int) -> Double {
        let px = Double(col) + 0.5 - g.cx, py = Double(row) + 0.5 - g.cy
        let u = (g.cos * px + g.sin * py) / g.a, v = (-g.sin * px + g.cos * py) / g.b
        return (u * u + v * v).squareRoot()
    }

    public func render(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let c = classes(of: index)
        let g = geometry(c)
        let contrast = contrastFactor.map { factors[$0].values[c[$0]] } ?? 0.6, blur = factors[blurFactor].values[c[blurFactor]]
        let scale = (g.a * g.b).squareRoot()
        backgrounds[c[textureFactor]].withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: 64 * 64) }
        // Beyond d = 9w the membership is below 1e-7: only pixels within a + 9w + 1 of the centre change.
        let reach = g.a + 9 * blur + 1
        let rows = max(0, Int(g.cy - reach))...min(63, Int(g.cy + reach))
        let cols = max(0, Int(g.cx - reach))...min(63, Int(g.cx + reach))
        for row in rows {
            for col in cols {
                let d = (radius(g, row, col) - 1) * scale
                if d > 9 * blur { continue }
                let m = 0.5 * (1 - tanh(d / blur))
                let i = row * 64 + col
                out[i] = Float(min(max(Double(out[i]) + contrast * m, 0), 1))
            }
        }
    }

    /// The ground-truth lesion mask of image `index`: `[64, 64]` of 0/1 (1 where r ≤ 1).
    public func mask(_ index: Int) -> Tensor {
        let g = geometry(classes(of: index))
        return Tensor(shape: [64, 64]) { out in
            for row in 0..<64 { for col in 0..<64 { out[row * 64 + col] = radius(g, row, col) <= 1 ? 1 : 0 } }
        }
    }
}
