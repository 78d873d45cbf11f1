import Foundation
import ImageIO
import Metrics
import Plotting
import TensorCore

/// How far a traversal moves each latent.
public enum TraversalRange: String, Sendable, CaseIterable {
    /// `±limit` standard deviations of the N(0, 1) prior (absolute values).
    case prior
    /// The latent's empirical range: min … max of its posterior means over held-out images.
    case empirical
}

extension TrainedRun {
    /// The latent names from `factors.json` (written by `probe`), or `z<i>`.
    /// A damaged `factors.json`, or one for another number of latents, is an error naming it.
    public func latentNames() throws -> [String] {
        try latentNaming()?.map(\.name) ?? (0..<config.latentCount).map { "z\($0)" }
    }

    /// The probe's names with their evidence (`factors.json`), one per latent; nil before `probe`.
    public func latentNaming() throws -> [LatentName]? {
        guard let names = try run.decode([LatentName].self, from: "factors.json") else { return nil }
        guard names.count == config.latentCount else {
            throw ConfigError(run.file("factors.json"), "names \(names.count) latents, the model has \(config.latentCount); run `untangle probe \(run.path)` again")
        }
        return names
    }

    /// Decoded traversals: for each latent in `latents`, the base code (mean of `baseCount`
    /// held-out posterior means) with that latent set to each of `steps` values, decoded.
    /// Returns images `[latents·steps, C, H, W]` and the values used per latent.
    public func traversal(latents: [Int], steps: Int = 11, range: TraversalRange = .prior, limit: Double = 2,
                          baseCount: Int = 16) -> (images: Tensor, values: [[Double]]) {
        let codes = encodeMeans(heldOutImages(max(baseCount, range == .empirical ? 512 : baseCount)))
        let z = config.latentCount, n = codes.shape[0]
        var base = [Float](repeating: 0, count: z)
        for i in 0..<min(baseCount, n) { for l in 0..<z { base[l] += codes.scalars[i * z + l] / Float(min(baseCount, n)) } }
        var rows: [Float] = [], values: [[Double]] = []
        for l in latents {
            var lo = -limit, hi = limit
            if range == .empirical {
                let column = (0..<n).map { Double(codes.scalars[$0 * z + l]) }
                lo = column.min()!; hi = column.max()!
            }
            let v = (0..<steps).map { steps == 1 ? (lo + hi) / 2 : lo + (hi - lo) * Double($0) / Double(steps - 1) }
            values.append(v)
            for value in v {
                var code = base
                code[l] = Float(value)
                rows += code
            }
        }
        return (decode(Tensor(shape: [latents.count * steps, z], scalars: rows)), values)
    }

    /// Writes `traversals.png` (labelled grid, one row per latent sorted by KL, with name and
    /// KL), `traversals-plain.png` (the bare grid) and `traversals.gif` (all latents moving
    /// together, there and back) into `RUN/figures/`. Returns the paths. `kl` (mean KL per
    /// latent) is computed when not given. `meter` counts the five parts (decoding, the three
    /// figures, the per-step frames).
    @discardableResult
    public func writeTraversals(steps: Int = 11, range: TraversalRange = .prior, limit: Double = 2,
                                includeInactive: Bool = false, kl knownKL: [Double]? = nil, meter: WorkMeter? = nil) throws -> [String] {
        try CountLimit.require("--steps", steps, copies: 2 * config.latentCount, bytesEach: dataset.imageBytes) // a row per latent, and the grid
        meter?.begin("writing traversals", total: 5, unit: "parts")
        defer { meter?.end() }
        let kl = knownKL ?? klPerLatent()
        let names = try latentNames()
        var latents = kl.indices.sorted { kl[$0] > kl[$1] }
        if !includeInactive {
            let active = latents.filter { kl[$0] > LatentNaming.activeKL }
            latents = active.isEmpty ? Array(latents.prefix(1)) : active
        }
        let (images, values) = traversal(latents: latents, steps: steps, range: range, limit: limit)
        meter?.advance()
        let directory = (run.path as NSString).appendingPathComponent("figures")
        let labelled = (directory as NSString).appendingPathComponent("traversals.png")
        let rowLabels = latents.map { String(format: "z%d %@ (%.2f)", $0, names[$0], kl[$0]) }
        let columnLabels = range == .prior ? values[0].map { String(format: "%.1f", $0) } : []
        try Figures.imageGrid(images, rows: latents.count, columns: steps, rowLabels: rowLabels, columnLabels: columnLabels,
                              title: "Latent traversals (\(range == .prior ? "±\(limit) prior σ" : "empirical range")), rows sorted by KL (nats)",
                              output: labelled)
        meter?.advance()
        let plain = (directory as NSString).appendingPathComponent("traversals-plain.png")
        try PNGFile.write(RasterImage(tensor: ImageGrid.tile(images, columns: steps)), to: plain)
        meter?.advance()
        let size = images.shape[1...].product
        let frames: [Tensor] = (Array(0..<steps) + Array((1..<(steps - 1)).reversed())).map { s in
            let rows = Tensor(shape: [latents.count] + Array(images.shape[1...]), scalars: latents.indices.flatMap { r in
                images.scalars[((r * steps + s) * size)..<((r * steps + s + 1) * size)]
            })
            return ImageGrid.tile(rows, columns: min(latents.count, 5), spacing: 2, background: 0.3)
        }
        let gif = (directory as NSString).appendingPathComponent("traversals.gif")
        try Figures.animatedGIF(frames, title: latents.prefix(5).map { names[$0] }.joined(separator: " | "), output: gif, delay: 15, pixelScale: 2)
        meter?.advance()
        // One image per latent and step, for the report's interactive traversal (a slider per latent).
        let single = (directory as NSString).appendingPathComponent("traversal")
        var files: [String] = []
        for (r, l) in latents.enumerated() {
            for step in 0..<steps {
                let file = single + String(format: "/z%d-%02d.png", l, step)
                let image = Tensor(shape: Array(images.shape[1...]), scalars: Array(images.scalars[((r * steps + step) * size)..<((r * steps + step + 1) * size)]))
                try PNGFile.write(RasterImage(tensor: image), to: file)
                files.append(file)
            }
        }
        let index = TraversalFrames(steps: steps, latents: latents.enumerated().map { r, l in
            TraversalFrames.Latent(latent: l, name: names[l], kl: kl[l], values: values[r])
        })
        try AtomicFile.write(try JSONEncoder.sorted.encode(index), to: single + "/" + TraversalFrames.fileName)
        meter?.advance()
        return [labelled, plain, gif] + files
    }
}

/// The frames of the report's interactive traversal (`figures/traversal/frames.json`): one image
/// `z<latent>-<step>.png` per traversed latent and step, with the latent values of each step.
public struct TraversalFrames: Codable, Equatable {
    /// One traversed latent: its index, probe name, KL and the value at each step.
    public struct Latent: Codable, Equatable {
        public var latent: Int, name: String, kl: Double, values: [Double]
    }
    /// The file name under `figures/traversal/`.
    public static let fileName = "frames.json"
    /// Steps per latent.
    public var steps: Int
    /// The traversed latents, sorted by KL.
    public var latents: [Latent]

    /// The report's section: a slider per latent moving over its precomputed frames (pure
    /// HTML and JavaScript, no server; the frames are relative links).
    public func html() -> String {
        let escape = HTML.escape
        let middle = steps / 2
        let rows = latents.map { l in
            let values = l.values.map { String(format: "%.2f", $0) }.joined(separator: ",")
            return """
            <div class="trav"><img id="trav-\(l.latent)" src="figures/traversal/\(String(format: "z%d-%02d.png", l.latent, middle))" alt="z\(l.latent)">
            <label>z\(l.latent) · \(escape(l.name)) (KL \(String(format: "%.2f", l.kl))) <input type="range" min="0" max="\(steps - 1)" value="\(middle)"
            data-latent="\(l.latent)" data-values="\(values)" oninput="traverse(this)"> <span id="trav-value-\(l.latent)">\(String(format: "%.2f", l.values[middle]))</span></label></div>
            """
        }.joined(separator: "\n")
        return """
        <h2>Interactive traversal</h2>
        <p>Move one latent at a time from the held-out mean code (the other latents stay put); frames precomputed, no server needed.
        For a live explorer with any image: <code>untangle serve RUN</code>.</p>
        <style>.trav { display: inline-block; margin: 0.5em 1em; text-align: center; } .trav img { width: 160px; image-rendering: pixelated; display: block; margin: auto; }</style>
        \(rows)
        <script>
        function traverse(input) {
          const l = input.dataset.latent, s = String(input.value).padStart(2, "0");
          document.getElementById("trav-" + l).src = "figures/traversal/z" + l + "-" + s + ".png";
          document.getElementById("trav-value-" + l).textContent = input.dataset.values.split(",")[input.value];
        }
        </script>
        """
    }
}
