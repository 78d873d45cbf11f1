import Foundation
import TensorCore

/// The built-in dSprites: a deterministic renderer over the exact factor grid of
/// Matthey et al.'s release (3 shapes × 6 scales × 40 orientations × 32 × 32
/// positions = 737,280 binary 64×64 images), generated on demand so the whole set
/// never sits in memory.
///
/// Factors (in order, as the official file): shape {square, ellipse, heart};
/// scale 0.5…1.0 step 0.1; orientation linspace(0, 2π, 40); posX, posY linspace(0, 1, 32).
/// `index = Σ class·[245760, 40960, 1024, 32, 1]` (posY fastest).
///
/// Rendering (the original renderer is not published): the sprite's centre is at
/// `(16 + 32·posX, 16 + 32·posY)` pixels (x right, y down), it fits a disc of
/// diameter `0.45·64·scale` (≤ 28.8 px), so it never leaves the frame whatever the
/// rotation; a pixel is on when its centre, rotated by −orientation about the
/// sprite centre, lies inside the shape: a square of side `R√2`, an ellipse with
/// semi-axes `R, R/2`, or the heart curve `(x² + y² − 1)³ ≤ x²y³` scaled into the disc.
public struct DSprites: GroundTruthDataset {
    public let name = "dsprites"
    public let imageShape = [1, 64, 64]
    public let factors: [Factor] = [
        Factor(name: "shape", values: [1, 2, 3], classNames: ["square", "ellipse", "heart"]),
        Factor(name: "scale", linspace: 0.5, 1.0, count: 6),
        Factor(name: "orientation", linspace: 0, 2 * Double.pi, count: 40),
        Factor(name: "posX", linspace: 0, 1, count: 32),
        Factor(name: "posY", linspace: 0, 1, count: 32),
    ]

    public init() {}

    public var count: Int { gridSize }

    /// Whether point `(u, v)` (in units of the bounding radius, y up) lies inside shape `shape`.
    @inline(__always)
    static func inside(shape: Int, _ u: Double, _ v: Double) -> Bool {
        switch shape {
        case 0: // square inscribed in the unit disc
            let half = 1 / 2.0.squareRoot()
            return abs(u) <= half && abs(v) <= half
        case 1: // ellipse, semi-axes 1 and 1/2
            return u * u + 4 * v * v <= 1
        default: // heart, its furthest point from (0, 0.2) is ≈ 1.28 from the centre
            let x = u * 1.3, y = v * 1.3 + 0.2
            let r = x * x + y * y - 1
            return r * r * r - x * x * y * y * y <= 0
        }
    }

    public func render(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let c = classes(of: index)
        let scale = factors[1].values[c[1]], angle = factors[2].values[c[2]]
        let cx = 16 + 32 * factors[3].values[c[3]], cy = 16 + 32 * factors[4].values[c[4]]
        let radius = 0.45 * 64 * scale / 2
        let (cosA, sinA) = (cos(angle), sin(angle))
        out.update(repeating: 0, count: 64 * 64)
        let lo = { (centre: Double) in max(0, Int((centre - radius - 1).rounded(.down))) }
        let hi = { (centre: Double) in min(63, Int((centre + radius + 1).rounded(.up))) }
        for row in lo(cy)...hi(cy) {
            let py = cy - (Double(row) + 0.5) // y up
            for col in lo(cx)...hi(cx) {
                let px = Double(col) + 0.5 - cx
                let u = (cosA * px + sinA * py) / radius, v = (-sinA * px + cosA * py) / radius
                if DSprites.inside(shape: c[0], u, v) { out[row * 64 + col] = 1 }
            }
        }
    }
}
