import Foundation

/// Discrete information measures with plug-in (empirical frequency) estimates, in nats.
public enum Information {
    /// Equal-width histogram discretisation of one latent over its own range, as
    /// disentanglement_lib's `_histogram_discretize`: bins 1…`bins`, edges
    /// `min + (max − min)·b/bins`; a value equal to an inner edge goes to the upper bin.
    ///
    /// Concretely: 3 bins of [.1, .2, .3, .4, .5, .6] → [1, 1, 2, 2, 3, 3].
    public static func discretize(_ values: [Float], bins: Int = 20) -> [Int] {
        guard let lo = values.min(), let hi = values.max(), hi > lo else { return values.map { _ in 1 } }
        let edges = (0..<bins).map { Double(lo) + (Double(hi) - Double(lo)) * Double($0) / Double(bins) }
        return values.map { v in
            // np.digitize(v, edges[:-1]... ) = number of left edges ≤ v.
            var count = 0
            for e in edges where Double(v) >= e { count += 1 }
            return count
        }
    }

    /// Mutual information `I(a; b) = Σ p(a,b) log(p(a,b)/(p(a)p(b)))` of two label sequences
    /// (scikit-learn's `mutual_info_score`).
    public static func mutualInformation(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "mutualInformation: sequences of \(a.count) and \(b.count)")
        // Labels → dense indices in order of first appearance, cells summed in index order: the
        // same sequences always give the same bits (no summation in hash order).
        func dense(_ labels: [Int]) -> (indices: [Int], count: Int) {
            var index: [Int: Int] = [:]
            let indices = labels.map { label in
                if let i = index[label] { return i }
                index[label] = index.count
                return index.count - 1
            }
            return (indices, index.count)
        }
        let (ia, ka) = dense(a), (ib, kb) = dense(b)
        var pa = [Int](repeating: 0, count: ka), pb = [Int](repeating: 0, count: kb)
        for (x, y) in zip(ia, ib) { pa[x] += 1; pb[y] += 1 }
        // The joint table: dense while small, else the sorted cells that occur (many distinct labels).
        let cells: [(cell: Int, count: Int)]
        if ka * kb <= 4 * a.count + 1024 {
            var joint = [Int](repeating: 0, count: ka * kb)
            for (x, y) in zip(ia, ib) { joint[x * kb + y] += 1 }
            cells = joint.enumerated().filter { $0.element > 0 }.map { ($0.offset, $0.element) }
        } else {
            var joint: [Int: Int] = [:]
            for (x, y) in zip(ia, ib) { joint[x * kb + y, default: 0] += 1 }
            cells = joint.map { ($0.key, $0.value) }.sorted { $0.cell < $1.cell }
        }
        let n = a.count
        var mi = 0.0
        for (cell, count) in cells {
            let (x, y) = (cell / kb, cell % kb)
            // The ratio p(a,b)/(p(a)p(b)) = count·N/(n_a·n_b) from exact integer products: it is
            // exactly 1, and the term exactly 0, for a constant sequence (n_a = N, count = n_b),
            // so a constant latent has MI 0, not rounding noise (dlib's modularity needs that).
            mi += Double(count) / Double(n) * log(Double(count * n) / Double(pa[x] * pb[y]))
        }
        return max(0, mi)
    }

    /// Entropy `H(a) = I(a; a)`.
    public static func entropy(_ a: [Int]) -> Double { mutualInformation(a, a) }

    /// `MI[i][j] = I(codes_i; factors_j)` for discretised codes (one array per latent) and factor classes (one per factor).
    public static func matrix(codes: [[Int]], factors: [[Int]]) -> [[Double]] {
        codes.map { c in factors.map { mutualInformation(c, $0) } }
    }
}

/// Ranks `0…n−1` of `values` in ascending order, ties sharing their average rank.
public func averageRanks<T: Comparable>(_ values: [T]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
        for t in i...j { ranks[order[t]] = Double(i + j) / 2 }
        i = j + 1
    }
    return ranks
}

/// Spearman rank correlation (Pearson correlation of average ranks); 0 when either is constant.
public func spearman(_ a: [Double], _ b: [Double]) -> Double { pearson(averageRanks(a), averageRanks(b)) }

/// Pearson correlation; 0 when either sequence is constant.
public func pearson(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "pearson: \(a.count) vs \(b.count) values")
    let n = Double(a.count)
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
}
