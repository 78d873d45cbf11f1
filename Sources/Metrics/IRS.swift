import Foundation

/// The Interventional Robustness Score (Suter et al. 2019, "Robustly disentangled causal
/// mechanisms: validating deep representations for interventional robustness", ICML), as
/// disentanglement_lib's `evaluation/metrics/irs.py` computes it on the training points.
///
/// Factors are discretised into 20 equal-width bins (dlib's `make_discretizer`; a factor with at
/// most 20 classes keeps them); constant latents are dropped. For active latent j and factor i,
/// with groups g of the points sharing factor i's value and `q` the `diffQuantile` quantile
/// (linear interpolation, as `np.quantile`):
///
///     dev[j][i]  = mean over groups g of q(|z_j − E[z_j | g]|)
///     IRS[j][i]  = 1 − dev[j][i] / max_n |z_j − E[z_j]|
///     score      = Σ_j w_j · max_i IRS[j][i] / Σ_j w_j,   w_j = max_n |z_j − E[z_j]|
///
/// A latent that one factor fixes scores 1; one that moves as much within a group as overall, 0.
/// `activeLatents` counts the non-constant latents (dlib's `num_active_dims` sums their *values*
/// instead, `np.sum(active_mus)`, which is not a count).
extension CodeSample {
    /// IRS on the training points: the weighted score, the per-latent scores (active latents only,
    /// in latent order) and the number of active latents.
    public func irs(diffQuantile: Double = 0.99, bins: Int = 20) -> (score: Double, perLatent: [Double], activeLatents: Int) {
        let n = trainCodes.count
        let latents = (0..<latentCount).map { l in latent(l, trainCodes).map(Double.init) }.filter { column in
            let m = column.reduce(0, +) / Double(max(column.count, 1))
            return column.contains { $0 != m }
        }
        guard n > 0, !latents.isEmpty else { return (0, [], 0) }
        let factors = (0..<factorCount).map { Information.discretize(factor($0, trainFactors).map(Float.init), bins: bins) }
        let maxDeviation = latents.map { column -> Double in
            let m = column.reduce(0, +) / Double(n)
            return column.reduce(0) { Swift.max($0, Swift.abs($1 - m)) }
        }
        var perLatent: [Double] = []
        for (j, column) in latents.enumerated() {
            var best = -Double.infinity
            for values in factors {
                var groups: [Int: [Double]] = [:]
                for (v, z) in zip(values, column) { groups[v, default: []].append(z) }
                var deviation = 0.0
                for key in groups.keys.sorted() {
                    let members = groups[key]!
                    let m = members.reduce(0, +) / Double(members.count)
                    deviation += CodeSample.quantile(members.map { Swift.abs($0 - m) }, diffQuantile)
                }
                deviation /= Double(groups.count)
                best = Swift.max(best, 1 - deviation / maxDeviation[j])
            }
            perLatent.append(best)
        }
        let weight = maxDeviation.reduce(0, +)
        let score = weight > 0 ? zip(perLatent, maxDeviation).reduce(0) { $0 + $1.0 * $1.1 } / weight
            : perLatent.reduce(0, +) / Double(perLatent.count)
        return (score, perLatent, latents.count)
    }

    /// The q-quantile of `values` with linear interpolation between order statistics (NumPy's default).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
