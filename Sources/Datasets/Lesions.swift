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
}

/// A synthetic, medical-style data set where the truth is known at two levels:
/// the factors that generate each image and the pixels that show the finding.
///
/// Each 64×64 grey image is "tissue" — a smooth texture of three oriented
/// sinusoids (amplitude 0.015 each) around grey level 0.35 — with one elliptical lesion added on top.
/// Factors (classes in brackets):
/// - `size` [6]: lesion semi-major radius a ∈ {4, 5.5, 7, 8.5, 10, 11.5} px;
/// - `eccentricity` [4]: e ∈ {0, 0.2, 0.4, 0.55}, semi-minor radius b = a·(1 − e);
/// - `rotation` [8]: k·π/8 (the ellipse is symmetric under π);
/// - `posX`, `posY` [8 each]: centre at 20 + 24·pos px, pos ∈ linspace(0, 1, 8);
/// - `contrast` [4]: added intensity ∈ {0.2, 0.3, 0.4, 0.5};
/// - `blur` [4]: boundary blur width w ∈ {0.5, 1.5, 3, 5} px (large = ill-defined border);
/// - `texture` [5]: the background pattern — a nuisance factor the label ignores.
///
/// Pixel value: `clip(t(x, y) + contrast·m, 0, 1)` with lesion membership
/// `m = ½(1 − tanh(d / w))`, `d = (r − 1)·√(ab)` and `r = √((u/a)² + (v/b)²)` in
/// the lesion's rotated frame (u, v). The ground-truth mask is `r ≤ 1`.
///
/// **Label rule**: malignant (1) ⇔ `size ≥ 8.5 px` (class ≥ 3) **and** `blur ≥ 3 px`
/// (class ≥ 2); benign (0) otherwise (25 % malignant). With `labelNoise = p` a label
/// is flipped with probability p, decided by a hash of (index, noise seed), so an
/// image always keeps the same label.
public struct Lesions: GroundTruthDataset, MaskedDataset {
    public let name = "lesions"
    public let imageShape = [1, 64, 64]
    public let factors: [Factor] = [
        Factor(name: "size", values: [4, 5.5, 7, 8.5, 10, 11.5]),
        Factor(name: "eccentricity", values: [0, 0.2, 0.4, 0.55]),
        Factor(name: "rotation", values: (0..<8).map { Double($0) * Double.pi / 8 }),
        Factor(name: "posX", linspace: 0, 1, count: 8),
        Factor(name: "posY", linspace: 0, 1, count: 8),
        Factor(name: "contrast", values: [0.2, 0.3, 0.4, 0.5]),
        Factor(name: "blur", values: [0.5, 1.5, 3, 5]),
        Factor(name: "texture", values: [0, 1, 2, 3, 4]),
    ]
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
    /// The background of each texture class, `[5][64·64]`, rendered once.
    private let backgrounds: [[Float]]

    /// The data set with label noise `labelNoise` ∈ [0, 0.5).
    public init(labelNoise: Double = 0, noiseSeed: UInt64 = 0) {
        precondition((0..<0.5).contains(labelNoise), "Lesions: labelNoise must lie in [0, 0.5), got \(labelNoise)")
        self.labelNoise = labelNoise
        self.noiseSeed = noiseSeed
        backgrounds = (0..<5).map { Lesions.texture(UInt64($0)) }
    }

    public var count: Int { gridSize }

    /// Texture class `t`: 0.35 + Σ of three sinusoids of amplitude 0.015, frequency 1–3.5
    /// cycles per image, random orientation and phase (seeded by `1000 + t`).
    static func texture(_ t: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: 1000 + t)
        let waves = (0..<3).map { _ in
            (1 + 2.5 * rng.uniformDouble(), Double.pi * rng.uniformDouble(), 2 * Double.pi * rng.uniformDouble())
        }
        return (0..<(64 * 64)).map { i in
            let (x, y) = (Double(i % 64) / 64, Double(i / 64) / 64)
            var v = 0.35
            for (f, phi, psi) in waves { v += 0.015 * sin(2 * Double.pi * f * (x * cos(phi) + y * sin(phi)) + psi) }
            return Float(v)
        }
    }

    /// The noise-free label the rule gives to factor classes `c`.
    public static func ruleLabel(classes c: [Int]) -> Int { c[0] >= 3 && c[6] >= 2 ? 1 : 0 }

    public func label(of index: Int) -> Int {
        let clean = Lesions.ruleLabel(classes: classes(of: index))
        guard labelNoise > 0 else { return clean }
        var hash = RandomGenerator(seed: noiseSeed ^ 0x5EED_1E51_0000_0000).fork(UInt64(index))
        return hash.uniformDouble() < labelNoise ? 1 - clean : clean
    }

    /// Lesion geometry of image `index`: centre, radii, rotation.
    private func geometry(_ c: [Int]) -> (cx: Double, cy: Double, a: Double, b: Double, cos: Double, sin: Double) {
        let a = factors[0].values[c[0]], b = a * (1 - factors[1].values[c[1]])
        let angle = factors[2].values[c[2]]
        return (20 + 24 * factors[3].values[c[3]], 20 + 24 * factors[4].values[c[4]], a, b, cos(angle), sin(angle))
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
        let contrast = factors[5].values[c[5]], blur = factors[6].values[c[6]]
        let scale = (g.a * g.b).squareRoot()
        backgrounds[c[7]].withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: 64 * 64) }
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
