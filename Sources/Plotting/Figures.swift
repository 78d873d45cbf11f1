import Foundation
import TensorCore

/// The figures Untangle draws with gnuplot. Each writes `output` (PNG) plus its
/// script and data beside it, and returns the script path.
public enum Figures {
    /// Training curves from a `log.csv`: the reconstruction loss (top) and the KL of
    /// every latent (bottom) against the step.
    @discardableResult
    public static func trainingCurves(logCSV: String, output: String, latentLabels: [String]? = nil) throws -> String {
        let bytes = try BoundedFile.read(logCSV, limit: BoundedFile.Limit.table, as: { PlotError.badInput(path: $0, problem: $1) })
        guard let text = String(data: bytes, encoding: .utf8) else { throw PlotError.badInput(path: logCSV, problem: "not UTF-8 text") }
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",").map(String.init), lines.count > 1 else {
            throw PlotError.badInput(path: logCSV, problem: "holds no rows to plot")
        }
        guard header.first == "step", header.contains("reconstruction") else {
            throw PlotError.badInput(path: logCSV, problem: "header '\(lines[0].prefix(60))' is not a training log's (step, …, reconstruction, …)")
        }
        for (k, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count, fields.allSatisfy({ Double($0) != nil }) else {
                throw PlotError.badInput(path: logCSV, problem: "line \(k + 1) is not \(header.count) numbers (damaged log?)")
            }
        }
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        let dataName = "\(stem).dat"
        let data = "# " + header.joined(separator: " ") + "\n" + lines.dropFirst().map { $0.replacingOccurrences(of: ",", with: " ") }.joined(separator: "\n") + "\n"
        let col = { (name: String) in (header.firstIndex(of: name) ?? 0) + 1 }
        let klColumns = header.enumerated().filter { $0.element.hasPrefix("kl_") }
        var script = Gnuplot.terminal(output, width: 900, height: 700)
        script += "set multiplot layout 2,1\nset grid\nset xlabel 'step'\nset key outside right\n"
        script += "set title 'Reconstruction loss (nats per image)'\nplot '\(dataName)' using 1:\(col("reconstruction")) with lines lw 2 title 'reconstruction'\n"
        script += "set title 'KL per latent (nats)'\nplot "
        script += klColumns.enumerated().map { k, c in
            let label = latentLabels.flatMap { k < $0.count ? $0[k] : nil } ?? c.element.replacingOccurrences(of: "kl_", with: "z")
            return "'\(dataName)' using 1:\(c.offset + 1) with lines lw 1.5 title \(Gnuplot.quote(label))"
        }.joined(separator: ", ") + "\nunset multiplot\n"
        return try Gnuplot.render(script: script, data: [dataName: data], output: output)
    }

    /// A heat map of `matrix [rows][columns]` (e.g. latent × factor MI) with labelled axes and values printed in the cells.
    @discardableResult
    public static func heatMap(_ matrix: [[Double]], rowLabels: [String], columnLabels: [String], title: String,
                               output: String) throws -> String {
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        var data = ""
        for (r, row) in matrix.enumerated() { for (c, v) in row.enumerated() { data += "\(c) \(r) \(v)\n" }; data += "\n" }
        var script = Gnuplot.terminal(output, width: 140 + 90 * columnLabels.count, height: 120 + 36 * rowLabels.count)
        script += "set title \(Gnuplot.quote(title))\nunset key\nset palette defined (0 'white', 1 '#f4a582', 2 '#b2182b')\n"
        script += "set xtics (" + columnLabels.enumerated().map { "\(Gnuplot.quote($0.element)) \($0.offset)" }.joined(separator: ", ") + ") rotate by 30 right\n"
        script += "set ytics (" + rowLabels.enumerated().map { "\(Gnuplot.quote($0.element)) \($0.offset)" }.joined(separator: ", ") + ")\n"
        script += "set xrange [-0.5:\(Double(columnLabels.count) - 0.5)]\nset yrange [\(Double(rowLabels.count) - 0.5):-0.5]\n"
        script += "plot '\(stem).dat' using 1:2:3 with image, '\(stem).dat' using 1:2:(sprintf('%.2f',$3)) with labels font ',8'\n"
        return try Gnuplot.render(script: script, data: ["\(stem).dat": data], output: output)
    }

    /// Bars of `values` (e.g. KL per latent) with `labels` under them.
    @discardableResult
    public static func bars(_ values: [Double], labels: [String], title: String, ylabel: String, output: String) throws -> String {
        try labelledBars(values, errors: nil, labels: labels, title: title, ylabel: ylabel, output: output)
    }

    /// One line per series of `(x, mean, std)` points with error bars: a metric against a
    /// swept hyperparameter, mean ± std over seeds, one line per model. When no point reaches
    /// below 0 (mean − std ≥ 0: a score such as MIG or DCI), the y axis starts at 0 instead of a
    /// margin below it; otherwise (an ELBO, say) both ends get the margin. Likewise the x axis
    /// starts at 0 when no x is negative (minutes, images, a linear hyperparameter). The key sits
    /// below the plot, so long series names do not narrow it.
    @discardableResult
    public static func errorBarLines(_ series: [(name: String, points: [(x: Double, mean: Double, std: Double)])],
                                     xlabel: String, ylabel: String, title: String, logX: Bool = false,
                                     output: String) throws -> String {
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        var data: [String: String] = [:]
        var plots: [String] = []
        for (k, s) in series.enumerated() {
            let name = "\(stem).\(k).dat"
            data[name] = s.points.sorted { $0.x < $1.x }.map { "\($0.x) \($0.mean) \($0.std)" }.joined(separator: "\n") + "\n"
            plots.append("'\(name)' using 1:2:3 with yerrorlines lw 2 title \(Gnuplot.quote(s.name))")
        }
        var script = Gnuplot.terminal(output, width: 800, height: 520)
        script += "set title \(Gnuplot.quote(title))\nset xlabel \(Gnuplot.quote(xlabel))\nset ylabel \(Gnuplot.quote(ylabel))\nset grid\nset key below\n"
        if logX { script += "set logscale x 2\n" }
        // Margins keep end points off the frame (left, right, top, bottom); a non-negative axis
        // starts at 0 with no margin below it.
        let fromZeroY = series.allSatisfy { $0.points.allSatisfy { $0.mean - $0.std >= 0 } }
        let fromZeroX = !logX && series.allSatisfy { $0.points.allSatisfy { $0.x >= 0 } }
        script += "set offsets \(fromZeroX ? "0" : "graph 0.03"), graph 0.03, graph 0.05, \(fromZeroY ? "0" : "graph 0.05")\n"
        if fromZeroY { script += "set yrange [0:*]\n" }
        if fromZeroX { script += "set xrange [0:*]\n" }
        script += "plot " + plots.joined(separator: ", ") + "\n"
        return try Gnuplot.render(script: script, data: data, output: output)
    }

    /// Bars of `means` with ± `stds` error bars, one per label: a metric per model (mean ± std over seeds).
    @discardableResult
    public static func errorBars(means: [Double], stds: [Double], labels: [String], title: String, ylabel: String,
                                 output: String) throws -> String {
        try labelledBars(means, errors: stds, labels: labels, title: title, ylabel: ylabel, output: output)
    }

    /// One bar per label (`NaN` values leave a gap), with ± `errors` whiskers when given; plain
    /// bars start at y = 0 and are a little narrower per label (420 px high, 440 with errors).
    static func labelledBars(_ values: [Double], errors: [Double]?, labels: [String], title: String, ylabel: String,
                             output: String) throws -> String {
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        let data = labels.indices.map { i in
            "\(i) \(Gnuplot.quote(labels[i])) \(values[i].isFinite ? String(values[i]) : "NaN")" + (errors.map { " \($0[i])" } ?? "")
        }.joined(separator: "\n") + "\n"
        var script = errors == nil ? Gnuplot.terminal(output, width: max(500, 70 * labels.count + 120), height: 420)
            : Gnuplot.terminal(output, width: max(500, 90 * labels.count + 160), height: 440)
        script += "set title \(Gnuplot.quote(title))\nset ylabel \(Gnuplot.quote(ylabel))\nunset key\nset grid ytics\n"
        script += "set style fill solid 0.7\nset boxwidth 0.6\nset xtics rotate by 30 right\nset xrange [-0.6:\(Double(labels.count) - 0.4)]\n"
        if errors == nil { script += "set yrange [0:*]\n" }
        script += "plot '\(stem).dat' using 1:3:xtic(2) with boxes lc rgb '#2166ac'"
            + (errors == nil ? "" : ", '' using 1:3:4 with yerrorbars lc rgb 'black' pt 0 lw 1.5") + "\n"
        return try Gnuplot.render(script: script, data: ["\(stem).dat": data], output: output)
    }

    /// An image grid `[rows·columns, C, H, W]` drawn `with image` (grey or RGB) with a title,
    /// labels on the rows and on the columns: for traversal and saliency panels.
    @discardableResult
    public static func imageGrid(_ images: Tensor, rows: Int, columns: Int, rowLabels: [String], columnLabels: [String] = [],
                                 title: String, output: String, pixelScale: Int = 2) throws -> String {
        precondition(images.rank == 4 && images.shape[0] == rows * columns, "imageGrid: want [rows·columns, C, H, W]")
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        let gap = 2, totalW = columns * (w + gap), totalH = rows * (h + gap)
        var data = ""
        data.reserveCapacity(totalW * totalH * 16)
        for y in 0..<totalH {
            let (r, iy) = (y / (h + gap), y % (h + gap))
            for x in 0..<totalW {
                let (col, ix) = (x / (w + gap), x % (w + gap))
                var values = [Float](repeating: 1, count: c)
                if iy < h && ix < w {
                    let k = r * columns + col
                    for ch in 0..<c { values[ch] = images.scalars[((k * c + ch) * h + iy) * w + ix] }
                }
                data += "\(x) \(y)" + values.map { String(format: " %.3f", min(max($0, 0), 1) * 255) }.joined() + "\n"
            }
            data += "\n"
        }
        let left = 20 + 7 * (rowLabels.map(\.count).max() ?? 10), top = 60
        var script = Gnuplot.terminal(output, width: left + 20 + totalW * pixelScale, height: top + 90 + totalH * pixelScale)
        script += "set title \(Gnuplot.quote(title))\nunset key\nset border 0\nset tics scale 0\nunset colorbox\n"
        script += "set lmargin at screen \(Double(left) / Double(left + 20 + totalW * pixelScale))\n"
        script += "set xrange [-0.5:\(Double(totalW) - 0.5)]\nset yrange [\(Double(totalH) - 0.5):-0.5]\n"
        script += "set ytics (" + rowLabels.enumerated().map { "\(Gnuplot.quote($0.element)) \(Double($0.offset * (h + gap)) + Double(h) / 2)" }.joined(separator: ", ") + ")\n"
        if columnLabels.isEmpty {
            script += "unset xtics\n"
        } else {
            let rotate = (columnLabels.map(\.count).max() ?? 0) * 7 > (w + gap) * pixelScale ? " rotate by 20 right" : ""
            script += "set xtics (" + columnLabels.enumerated().map { "\(Gnuplot.quote($0.element)) \(Double($0.offset * (w + gap)) + Double(w) / 2)" }.joined(separator: ", ") + ")\(rotate)\n"
        }
        script += c == 3 ? "plot '\(stem).dat' using 1:2:3:4:5 with rgbimage\n" : "set palette grey\nset cbrange [0:255]\nplot '\(stem).dat' using 1:2:3 with image\n"
        return try Gnuplot.render(script: script, data: ["\(stem).dat": data], output: output)
    }

    /// An animated GIF of `frames` (each `[C, H, W]`, values in [0, 1]) via gnuplot's gif terminal,
    /// `delay` in hundredths of a second, scaled by `pixelScale`.
    @discardableResult
    public static func animatedGIF(_ frames: [Tensor], title: String, output: String, delay: Int = 12, pixelScale: Int = 3) throws -> String {
        precondition(!frames.isEmpty, "animatedGIF: no frames")
        let (h, w) = (frames[0].shape[1], frames[0].shape[2])
        let stem = URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        var data: [String: String] = [:]
        var script = "set terminal gif animate delay \(delay) size \(w * pixelScale + 40),\(h * pixelScale + 50)\n"
        script += "set output \(Gnuplot.quote(URL(fileURLWithPath: output).lastPathComponent))\n"
        script += "set title \(Gnuplot.quote(title))\nunset key\nunset tics\nunset border\nunset colorbox\nset palette grey\nset cbrange [0:1]\n"
        script += "set xrange [-0.5:\(Double(w) - 0.5)]\nset yrange [\(Double(h) - 0.5):-0.5]\n"
        for (k, frame) in frames.enumerated() {
            let name = "\(stem).\(k).dat"
            let channels = frame.shape[0], plane = h * w
            var text = ""
            for y in 0..<h {
                for x in 0..<w {
                    var v: Float = 0
                    for ch in 0..<channels { v += frame.scalars[ch * plane + y * w + x] / Float(channels) }
                    text += "\(x) \(y) \(String(format: "%.3f", v))\n"
                }
                text += "\n"
            }
            data[name] = text
            script += "plot '\(name)' using 1:2:3 with image\n"
        }
        return try Gnuplot.render(script: script, data: data, output: output)
    }
}
