import Foundation

/// The name given to one latent, and the evidence for it.
public struct LatentName: Sendable, Codable, Equatable {
    /// Latent index.
    public var latent: Int
    /// `posX`, `posX (1 of 2)`, `mixed(posY,shape)`, `inactive`, `unnamed`, or a user's name.
    public var name: String
    /// Mean KL of the latent (nats).
    public var kl: Double
    /// The factor with the highest MI (or the image property with the highest |Spearman ρ|).
    public var bestFactor: String?
    /// The best factor's share of the latent's MI, `MI_best / Σ_f MI_f` (or |ρ| of the best property).
    public var share: Double
    /// Share of the best factor minus share of the runner-up (or the |ρ| gap).
    public var gap: Double
    /// The factor (or property) in second place, and its share; `nil` in files written before
    /// Untangle 0.3, which did not record them.
    public var runnerUp: String?, runnerUpShare: Double?
    /// `ground-truth`, `traversal`, or `user`.
    public var source: String

    public init(latent: Int, name: String, kl: Double, bestFactor: String?, share: Double, gap: Double,
                runnerUp: String? = nil, runnerUpShare: Double? = nil, source: String) {
        self.latent = latent; self.name = name; self.kl = kl; self.bestFactor = bestFactor; self.share = share
        self.gap = gap; self.runnerUp = runnerUp; self.runnerUpShare = runnerUpShare; self.source = source
    }
}

/// Naming latents after the factors or image properties they capture.
public enum LatentNaming {
    /// Minimum mean KL (nats) of an active latent.
    public static let activeKL = 0.01
    /// A latent is named after a factor only if it carries at least this fraction of the
    /// factor's entropy, `MI_best / H(best) ≥ 0.1` (below it, the plug-in MI of pure noise
    /// against a 32-class factor, ≈ 0.03 nats of 3.47 with 10,000 points, stays `unnamed`).
    public static let minimumInformedFraction = 0.1
    /// The best factor must hold at least half of the latent's MI …
    public static let minimumShare = 0.5
    /// … and the runner-up at most this fraction of the best factor's MI.
    public static let maximumRunnerUpRatio = 0.5

    /// With ground truth, on the latent × factor MI matrix in nats (the matrix a person reads):
    /// - `inactive` when the latent's KL ≤ 0.01 nats;
    /// - `unnamed` when its best factor (highest MI) gets less than 10 % of that factor's
    ///   entropy — the latent varies, but not with any ground-truth factor;
    /// - the best factor's name when that factor holds ≥ 50 % of the latent's MI and the
    ///   runner-up ≤ half the best factor's MI; otherwise `mixed(best,runner-up)`;
    /// - when n > 1 latents get the same factor's name they become `factor (1 of n)`, …,
    ///   ordered by their MI with it: the factor is split over several latents.
    ///
    /// Shares use raw MI, not MI divided by the factor's entropy: dividing inflates
    /// low-entropy factors (a latent with posY 0.48 nats and the three-valued shape 0.08 nats is
    /// posY, as its traversal shows, not `mixed(posY,shape)`). The entropy enters only through the
    /// 10 % floor. Shapes: `mutualInformation [Z][F]`, `factorEntropies [F]`, `kl [Z]`.
    public static func fromGroundTruth(mutualInformation mi: [[Double]], factorEntropies: [Double], factorNames: [String],
                                       kl: [Double]) -> [LatentName] {
        var names: [LatentName] = mi.enumerated().map { latent, row in
            let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            let best = order[0], second = order.count > 1 ? order[1] : nil
            let total = row.reduce(0, +)
            let share = total > 0 ? row[best] / total : 0
            let secondShare = second.map { total > 0 ? row[$0] / total : 0 }
            let informed = factorEntropies[best] > 0 ? row[best] / factorEntropies[best] : 0
            let name: String
            if kl[latent] <= activeKL {
                name = "inactive"
            } else if informed < minimumInformedFraction {
                name = "unnamed"
            } else if share >= minimumShare && (second.map { row[$0] <= maximumRunnerUpRatio * row[best] } ?? true) {
                name = factorNames[best]
            } else {
                name = "mixed(\(factorNames[best]),\(second.map { factorNames[$0] } ?? "?"))"
            }
            return LatentName(latent: latent, name: name, kl: kl[latent], bestFactor: factorNames[best], share: share,
                              gap: share - (secondShare ?? 0), runnerUp: second.map { factorNames[$0] },
                              runnerUpShare: secondShare, source: "ground-truth")
        }
        for (f, factor) in factorNames.enumerated() {
            let holders = names.indices.filter { names[$0].name == factor }.sorted { mi[$0][f] > mi[$1][f] || (mi[$0][f] == mi[$1][f] && $0 < $1) }
            guard holders.count > 1 else { continue }
            for (k, latent) in holders.enumerated() { names[latent].name = "\(factor) (\(k + 1) of \(holders.count))" }
        }
        return names
    }

    /// The factors of `factorNames` (in their order) that at least one of `names` is named after.
    public static func namedFactors(_ names: [String], among factorNames: [String]) -> [String] {
        let referred = Set(names.map(factor(of:)))
        return factorNames.filter(referred.contains)
    }

    /// The factor a name refers to: `posX (1 of 2)` → `posX`; other names unchanged.
    public static func factor(of name: String) -> String {
        guard let open = name.range(of: " ("), name.hasSuffix(")"), name.contains(" of ") else { return name }
        return String(name[..<open.lowerBound])
    }

    /// Without ground truth: `properties[latent][property][step]` measured on decoded
    /// traversals at `values[step]`, and `scales[property]`, the property's spread over real
    /// images (its standard deviation), which puts the properties on one scale.
    ///
    /// Concretely, for each property k: the effect Δ_k = (max − min of the curve) / scale_k, counted
    /// only when the curve is monotone (|Spearman ρ| ≥ 0.8). A latent is named after property b when
    /// Δ_b ≥ ``minimumVisibleEffect`` (it visibly changes, by half the property's natural spread
    /// or more) and the runner-up Δ ≤ ``maximumRunnerUpRatio`` · Δ_b (one property clearly dominates);
    /// a near-tie is reported as `mixed(b,c)`; nothing visible is `unnamed`; `inactive` by KL.
    /// `share` is Δ_b / Σ Δ, `gap` the share minus the runner-up's. Properties with no spread in
    /// the data (scale 0) are skipped.
    public static func fromTraversals(properties: [[[Double]]], propertyNames: [String], values: [Double],
                                      scales: [Double], kl: [Double]) -> [LatentName] {
        properties.enumerated().map { latent, perProperty in
            let effects = perProperty.enumerated().map { k, curve -> Double in
                guard scales[k] > 1e-12, abs(spearman(curve, values)) >= 0.8,
                      let lo = curve.min(), let hi = curve.max() else { return 0 }
                return (hi - lo) / scales[k]
            }
            let order = effects.indices.sorted { effects[$0] > effects[$1] || (effects[$0] == effects[$1] && $0 < $1) }
            let best = order[0], second = order.count > 1 ? order[1] : nil
            let total = effects.reduce(0, +)
            let share = total > 0 ? effects[best] / total : 0
            let secondShare = second.map { total > 0 ? effects[$0] / total : 0 }
            let name: String
            if kl[latent] <= activeKL {
                name = "inactive"
            } else if effects[best] < minimumVisibleEffect {
                name = "unnamed"
            } else if let second, effects[second] > maximumRunnerUpRatio * effects[best] {
                name = "mixed(\(propertyNames[best]),\(propertyNames[second]))"
            } else {
                name = propertyNames[best]
            }
            return LatentName(latent: latent, name: name, kl: kl[latent], bestFactor: propertyNames[best], share: share,
                              gap: share - (secondShare ?? 0), runnerUp: second.map { propertyNames[$0] },
                              runnerUpShare: secondShare, source: "traversal")
        }
    }

    /// The smallest traversal effect that names a latent: half the property's spread in the data.
    public static let minimumVisibleEffect = 0.5
}

/// Measurable properties of a grey image (intensities as mass), for naming latents
/// without ground truth.
public enum ImageProperties {
    /// Property names, in the order `measure` returns them.
    public static let names = ["centroidX", "centroidY", "area", "meanIntensity", "orientation", "eccentricity"]

    /// For an `h × w` image (row-major, values ≥ 0; channels averaged beforehand): centroid
    /// x and y (pixels, intensity-weighted), area (pixels brighter than half the image's maximum:
    /// extent, unchanged when only the brightness changes), mean intensity, orientation of the principal
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
        let peak = Double(pixels.max() ?? 0)
        let area = Double(pixels.filter { Double($0) > 0.5 * peak }.count)
        return [cx, cy, area, m / Double(h * w), 0.5 * atan2(2 * mu11, mu20 - mu02), eccentricity]
    }
}
