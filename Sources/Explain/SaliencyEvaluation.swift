import Foundation
import Metrics
import TensorCore

/// Scores of a saliency map against ground truth (Quantus' definitions; the spec's list).
/// Maps are `H·W` values (channels summed beforehand); masks are `H·W` of 0/1.
public enum SaliencyScores {
    /// Relevance mass accuracy (Arras et al. 2022): positive relevance inside the mask / all positive relevance.
    public static func relevanceMass(_ map: [Float], mask: [Float]) -> Double {
        var inside = 0.0, total = 0.0
        for (a, m) in zip(map, mask) where a > 0 { total += Double(a); if m > 0 { inside += Double(a) } }
        return total > 0 ? inside / total : 0
    }

    /// Relevance rank accuracy: |top-K pixels ∩ mask| / K with K = |mask|.
    public static func relevanceRank(_ map: [Float], mask: [Float]) -> Double {
        let k = mask.filter { $0 > 0 }.count
        guard k > 0 else { return 0 }
        let top = map.indices.sorted { map[$0] > map[$1] }.prefix(k)
        return Double(top.filter { mask[$0] > 0 }.count) / Double(k)
    }

    /// Pointing game (Zhang et al. 2018): is the maximum within `tolerance` pixels of the mask?
    public static func pointingGame(_ map: [Float], mask: [Float], width: Int, tolerance: Int = 0) -> Bool {
        guard let best = map.indices.max(by: { map[$0] < map[$1] }) else { return false }
        let (by, bx) = (best / width, best % width)
        for (i, m) in mask.enumerated() where m > 0 {
            let (y, x) = (i / width, i % width)
            if (y - by) * (y - by) + (x - bx) * (x - bx) <= tolerance * tolerance { return true }
        }
        return false
    }

    /// Deletion or insertion curve AUC (Petsiuk et al. 2018): pixels ranked by the map (descending)
    /// are changed `step` at a time — deleted to 0, or inserted from `start` (a blurred copy) — and
    /// `probability` of the class of interest is recorded for every stage (one batched call);
    /// AUC = (Σ − first/2 − last/2)/n over the n intervals.
    public static func curveAUC(image: [Float], map: [Float], channels: Int, start: [Float]? = nil, step: Int = 64,
                                probability: (Tensor) -> [Double], shape: [Int]) -> Double {
        let plane = map.count
        let order = map.indices.sorted { map[$0] > map[$1] }
        var current = start ?? image
        let target = start == nil ? [Float](repeating: 0, count: image.count) : image
        var stages: [Float] = current
        var n = 0
        for begin in stride(from: 0, to: plane, by: step) {
            for p in order[begin..<min(plane, begin + step)] { for c in 0..<channels { current[c * plane + p] = target[c * plane + p] } }
            stages += current
            n += 1
        }
        let p = probability(Tensor(shape: [n + 1] + shape, scalars: stages))
        return (p.reduce(0, +) - p[0] / 2 - p[n] / 2) / Double(n)
    }

    /// A 3×3-box blurred copy, iterated `passes` times (insertion's starting image).
    public static func blurred(_ image: [Float], channels: Int, height h: Int, width w: Int, passes: Int = 4) -> [Float] {
        var out = image
        for _ in 0..<passes {
            let src = out
            for c in 0..<channels { for y in 0..<h { for x in 0..<w {
                var s: Float = 0, n: Float = 0
                for dy in -1...1 { for dx in -1...1 where (0..<h).contains(y + dy) && (0..<w).contains(x + dx) {
                    s += src[(c * h + y + dy) * w + x + dx]; n += 1
                } }
                out[(c * h + y) * w + x] = s / n
            } } }
        }
        return out
    }

    /// Structural similarity (Wang et al. 2004) of two maps rescaled to [0, 1], mean over 7×7 windows
    /// (scikit-image's defaults: uniform window, C₁ = (0.01)², C₂ = (0.03)²).
    public static func ssim(_ a: [Float], _ b: [Float], width w: Int) -> Double {
        func unit(_ v: [Float]) -> [Double] {
            let lo = Double(v.min() ?? 0), hi = Double(v.max() ?? 0)
            return v.map { hi > lo ? (Double($0) - lo) / (hi - lo) : 0 }
        }
        let (x, y) = (unit(a), unit(b)), h = a.count / w, r = 3
        let (c1, c2) = (0.0001, 0.0009)
        var total = 0.0, count = 0
        for cy in r..<(h - r) { for cx in r..<(w - r) {
            var mx = 0.0, my = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
            for dy in -r...r { for dx in -r...r {
                let i = (cy + dy) * w + cx + dx
                mx += x[i]; my += y[i]; sxx += x[i] * x[i]; syy += y[i] * y[i]; sxy += x[i] * y[i]
            } }
            let n = Double((2 * r + 1) * (2 * r + 1))
            mx /= n; my /= n
            let vx = (sxx / n - mx * mx) * n / (n - 1), vy = (syy / n - my * my) * n / (n - 1), cxy = (sxy / n - mx * my) * n / (n - 1)
            total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
            count += 1
        }}
        return count > 0 ? total / Double(count) : 0
    }

    /// Spearman rank correlation of two maps.
    public static func rankCorrelation(_ a: [Float], _ b: [Float]) -> Double { spearman(a.map(Double.init), b.map(Double.init)) }

    /// Channel sum of one image's attributions `[C·H·W]` → `[H·W]`.
    public static func collapse(_ attributions: ArraySlice<Float>, channels: Int) -> [Float] {
        let plane = attributions.count / channels
        return (0..<plane).map { p in (0..<channels).reduce(0) { $0 + attributions[attributions.startIndex + $1 * plane + p] } }
    }

    /// The 98th percentile of |a| (at least 1e-12): the unit of every rendered map, as in Captum's
    /// `visualize_image_attr` (`outlier_perc = 2`), so one colour bar (−1 … +1 of it) reads them all.
    public static func displayScale(_ map: [Float]) -> Float {
        let magnitudes = map.map { Swift.abs($0) }.sorted()
        return max(magnitudes[min(magnitudes.count - 1, Int(0.98 * Double(magnitudes.count)))], 1e-12)
    }

    /// The signed heat-map rendering: v = a / ``displayScale(_:)`` clipped to [−1, 1], red for
    /// positive and blue for negative blended over the image at 0.6 of its grey level. Returns `[3, H, W]`.
    public static func heatMap(_ map: [Float], over grey: [Float], height h: Int, width w: Int) -> Tensor {
        let p98 = displayScale(map)
        var out = Tensor.zeros([3, h, w])
        for p in 0..<(h * w) {
            let v = min(max(map[p] / p98, -1), 1), g = 0.6 * grey[p]
            out.scalars[p] = v > 0 ? g + (1 - g) * v : g * (1 + v)                       // red
            out.scalars[h * w + p] = g * (1 - Swift.abs(v))                               // green
            out.scalars[2 * h * w + p] = v < 0 ? g + (1 - g) * (-v) : g * (1 - v)        // blue
        }
        return out
    }

    /// The absolute rendering (Captum's `sign = "absolute_value"`, blended): v = |a| / ``displayScale(_:)``
    /// clipped to [0, 1], blended from the image (0.6 of its grey level) towards yellow-white
    /// through orange as v grows. Returns `[3, H, W]`.
    public static func absoluteHeatMap(_ map: [Float], over grey: [Float], height h: Int, width w: Int) -> Tensor {
        let p98 = displayScale(map)
        var out = Tensor.zeros([3, h, w])
        for p in 0..<(h * w) {
            let v = min(Swift.abs(map[p]) / p98, 1), g = 0.6 * grey[p]
            let colour = absoluteColour(v)
            for c in 0..<3 { out.scalars[c * h * w + p] = (1 - v) * g + v * colour[c] }
        }
        return out
    }

    /// The colour ramp of ``absoluteHeatMap(_:over:height:width:)`` at v ∈ [0, 1]: dark red → orange → pale yellow.
    public static func absoluteColour(_ v: Float) -> [Float] { [min(1, 0.5 + v), min(1, 1.6 * v * v), 0.8 * v * v * v] }
}
