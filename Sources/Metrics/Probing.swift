import Foundation

/// The name given to one latent, and the evidence for it.
public struct LatentName: Sendable, Codable, Equatable {
    /// Latent index.
    public var latent: Int
    /// `posX`, `mixed(scale,shape)`, `inactive`, `unnamed`, or a user's name.
    public var name: String
    /// Mean KL of the latent (nats).
    public var kl: Double
    /// The factor (or image property) with the highest normalised MI (or |Spearman ρ|).
    public var bestFactor: String?
    /// Share of the latent's normalised MI taken by the best factor (or |ρ| of the best property).
    public var share: Double
    /// Normalised-MI gap between the best and second factor (or |ρ| gap).
    public var gap: Double
    /// `ground-truth`, `traversal`, or `user`.
    public var source: String
}

/// Naming latents after the factors or image properties they capture (the spec's rule).
public enum LatentNaming {
    /// Minimum mean KL (nats) of an active latent.
    public static let activeKL = 0.01

    /// With ground truth: normalise the MI matrix by the factor entropies; an active latent
    /// is named after the factor with the highest normalised MI if that factor's share of
    /// the latent's normalised MI is ≥ 0.5 and its gap to the runner-up is ≥ 0.1, otherwise
    /// `mixed(best,second)`; latents with KL ≤ 0.01 nats are `inactive`.
    public static func fromGroundTruth(mutualInformation mi: [[Double]], factorEntropies: [Double], factorNames: [String],
                                       kl: [Double]) -> [LatentName] {
        mi.enumerated().map { latent, row in
            let normalised = zip(row, factorEntropies).map { $1 > 0 ? $0 / $1 : 0 }
            let order = normalised.indices.sorted { normalised[$0] > normalised[$1] }
            let total = normalised.reduce(0, +)
            let best = order[0], second = order.count > 1 ? order[1] : order[0]
            let share = total > 0 ? normalised[best] / total : 0
            let gap = normalised[best] - (order.count > 1 ? normalised[second] : 0)
            let name: String
            if kl[latent] <= activeKL {
                name = "inactive"
            } else if share >= 0.5 && gap >= 0.1 {
                name = factorNames[best]
            } else {
                name = "mixed(\(factorNames[best]),\(factorNames[second]))"
            }
            return LatentName(latent: latent, name: name, kl: kl[latent], bestFactor: factorNames[best], share: share,
                              gap: gap, source: "ground-truth")
        }
    }

    /// Without ground truth: `properties[latent][property][step]` measured on decoded
    /// traversals at `values[step]`; a latent is named after the property with the highest
    /// |Spearman ρ| along its traversal if |ρ| ≥ 0.8, else `unnamed` (`inactive` by KL).
    public static func fromTraversals(properties: [[[Double]]], propertyNames: [String], values: [Double],
                                      kl: [Double]) -> [LatentName] {
        properties.enumerated().map { latent, perProperty in
            let rho = perProperty.map { abs(spearman($0, values)) }
            let order = rho.indices.sorted { rho[$0] > rho[$1] }
            let best = order[0]
            let gap = rho[best] - (order.count > 1 ? rho[order[1]] : 0)
            let name = kl[latent] <= activeKL ? "inactive" : (rho[best] >= 0.8 ? propertyNames[best] : "unnamed")
            return LatentName(latent: latent, name: name, kl: kl[latent], bestFactor: propertyNames[best], share: rho[best],
                              gap: gap, source: "traversal")
        }
    }
}

/// Measurable properties of a grey image (intensities as mass), for naming latents
/// without ground truth.
public enum ImageProperties {
    /// Property names, in the order `measure` returns them.
    public static let names = ["centroidX", "centroidY", "area", "meanIntensity", "orientation", "eccentricity"]

    /// For an `h × w` image (row-major, values ≥ 0; channels averaged beforehand): centroid
    /// x and y (pixels), area (Σ intensity), mean intensity, orientation of the principal
    /// axis from the second central moments `½·atan2(2μ₁₁, μ₂₀ − μ₀₂)` (radians), and
    /// eccentricity `√(1 − λ₂/λ₁)` of the moment ellipse.
    public static func measure(_ pixels: ArraySlice<Float>, height h: Int, width w: Int) -> [Double] {
        var m = 0.0, sx = 0.0, sy = 0.0
        for y in 0..<h { for x in 0..<w {
            let v = Double(max(0, pixels[pixels.startIndex + y * w + x]))
            m += v; sx += v * Double(x); sy += v * Double(y)
        } }
        guard m > 1e-9 else { return [0, 0, 0, 0, 0, 0] }
        let (cx, cy) = (sx / m, sy / m)
        var mu20 = 0.0, mu02 = 0.0, mu11 = 0.0
        for y in 0..<h { for x in 0..<w {
            let v = Double(max(0, pixels[pixels.startIndex + y * w + x]))
            mu20 += v * (Double(x) - cx) * (Double(x) - cx)
            mu02 += v * (Double(y) - cy) * (Double(y) - cy)
            mu11 += v * (Double(x) - cx) * (Double(y) - cy)
        } }
        let common = ((mu20 - mu02) * (mu20 - mu02) + 4 * mu11 * mu11).squareRoot()
        let l1 = (mu20 + mu02 + common) / 2, l2 = (mu20 + mu02 - common) / 2
        let eccentricity = l1 > 0 ? (max(0, 1 - l2 / l1)).squareRoot() : 0
        return [cx, cy, m, m / Double(h * w), 0.5 * atan2(2 * mu11, mu20 - mu02), eccentricity]
    }
}
