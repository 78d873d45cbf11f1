import TensorCore

/// How many ground-truth factors differ between the two images of a weak-supervision pair
/// (Locatello et al. 2020, §5: "k").
public enum ChangedFactors: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Exactly `k` factors differ in every pair.
    case fixed(Int)
    /// For every pair k is drawn uniformly from 1…F′−1 (F′ = factors with more than one class),
    /// the paper's "k = Rnd".
    case random

    public var description: String {
        switch self {
        case .fixed(let k): return String(k)
        case .random: return "random"
        }
    }
}

extension FactorSpace {
    /// Factors that can change (more than one class).
    public var variableFactors: [Int] { factors.indices.filter { factors[$0].classCount > 1 } }

    /// `count` pairs of factor combinations that differ in exactly k factors (Locatello et al.
    /// 2020, §5): the first combination is drawn uniformly; k distinct factors among those with
    /// more than one class are chosen uniformly, and each is redrawn uniformly among its *other*
    /// classes, so the pair really differs in k factors. Every draw comes from `rng` (unlike
    /// disentanglement_lib's `simple_dynamics`, which changes `choice([1, k])` factors, may redraw
    /// the same class, and draws the new classes from NumPy's unseeded global generator — its issue #31).
    public func samplePairClasses(_ count: Int, changing changed: ChangedFactors,
                                  rng: inout RandomGenerator) -> (first: [[Int]], second: [[Int]]) {
        let variable = variableFactors
        precondition(!variable.isEmpty, "samplePairClasses: no factor has more than one class")
        var first: [[Int]] = [], second: [[Int]] = []
        first.reserveCapacity(count)
        second.reserveCapacity(count)
        for _ in 0..<count {
            let c = factors.map { rng.int(below: $0.classCount) }
            let k: Int
            switch changed {
            case .fixed(let fixed):
                precondition(fixed >= 1 && fixed <= variable.count, "samplePairClasses: k = \(fixed) outside 1…\(variable.count)")
                k = fixed
            case .random:
                k = variable.count == 1 ? 1 : 1 + rng.int(below: variable.count - 1)
            }
            // Partial Fisher–Yates: the first k entries of `order` are a uniform k-subset.
            var order = variable
            for i in 0..<k {
                let j = i + rng.int(below: order.count - i)
                order.swapAt(i, j)
            }
            var d = c
            for f in order.prefix(k) {
                let classes = factors[f].classCount
                d[f] = (c[f] + 1 + rng.int(below: classes - 1)) % classes
            }
            first.append(c)
            second.append(d)
        }
        return (first, second)
    }
}

extension GroundTruthDataset {
    /// A batch of `count` pairs as one tensor `[2·count, C, H, W]`: rows `0..<count` are the first
    /// images, rows `count..<2·count` their partners (see ``FactorSpace/samplePairClasses(_:changing:rng:)``).
    public func samplePairBatch(_ count: Int, changing changed: ChangedFactors, rng: inout RandomGenerator) -> Tensor {
        let (first, second) = samplePairClasses(count, changing: changed, rng: &rng)
        return images(classes: first + second)
    }
}
