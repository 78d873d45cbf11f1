import Foundation
import ImageIO
import TensorCore

/// A plotting failure: gnuplot missing, or its error with the script path.
public enum PlotError: Error, CustomStringConvertible, Equatable {
    case gnuplotMissing
    case failed(script: String, message: String)
    case noOutput(script: String, expected: String)
    /// A data file to plot is damaged: the file and what is wrong with it.
    case badInput(path: String, problem: String)

    public var description: String {
        switch self {
        case .gnuplotMissing:
            return "gnuplot is not installed: run Scripts/bootstrap, or apt-get install gnuplot-nox"
        case .failed(let script, let message):
            return "gnuplot failed on \(script):\n\(message)"
        case .noOutput(let script, let expected):
            return "gnuplot ran \(script) but wrote no \(expected)"
        case .badInput(let path, let problem):
            return "\(path): \(problem)"
        }
    }
}

/// A small gnuplot driver: each figure is a directory-local script plus its data files,
/// kept next to the PNG (`<figure>.gp`, `<figure>.*.dat`) so a user can edit and rerun it.
/// Rendering uses the `pngcairo` terminal; output depends only on the data.
public enum Gnuplot {
    /// The gnuplot executable, found on PATH.
    public static var executable: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/gnuplot"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Writes `data` files (name → contents) and `script` beside `output`, runs gnuplot in that
    /// directory and checks that it wrote a whole file (a PNG must decode). Returns the script path.
    ///
    /// The kept script names `output`; gnuplot itself renders into a temporary sibling that is
    /// decoded and then renamed over `output`, so a full disk or a killed gnuplot never leaves
    /// a truncated PNG under the final name.
    @discardableResult
    public static func render(script: String, data: [String: String], output: String,
                              gnuplot: String? = Gnuplot.executable) throws -> String {
        guard let gnuplot, FileManager.default.isExecutableFile(atPath: gnuplot) else { throw PlotError.gnuplotMissing }
        let url = URL(fileURLWithPath: output)
        let directory = url.deletingLastPathComponent().path
        try AtomicFile.createDirectory(directory)
        let stem = url.deletingPathExtension().lastPathComponent
        for (name, contents) in data { try AtomicFile.write(contents, to: (directory as NSString).appendingPathComponent(name)) }
        let scriptPath = (directory as NSString).appendingPathComponent("\(stem).gp")
        try AtomicFile.write(script, to: scriptPath)
        let partialName = ".\(url.lastPathComponent).tmp-\(getpid())"
        let partial = (directory as NSString).appendingPathComponent(partialName)
        let partialScript = partial + ".gp"
        defer {
            try? FileManager.default.removeItem(atPath: partial)
            try? FileManager.default.removeItem(atPath: partialScript)
        }
        try AtomicFile.write(script.replacingOccurrences(of: "set output \(quote(url.lastPathComponent))\n",
                                                         with: "set output \(quote(partialName))\n"), to: partialScript)
        let result = try ChildProcess.run([gnuplot, (partialScript as NSString).lastPathComponent], in: directory)
        guard result.status == 0 else { throw PlotError.failed(script: scriptPath, message: result.errors) }
        guard FileManager.default.fileExists(atPath: partial) else { throw PlotError.noOutput(script: scriptPath, expected: output) }
        if output.lowercased().hasSuffix(".png") {
            do {
                _ = try PNGFile.read(partial)
            } catch {
                throw PlotError.failed(script: scriptPath, message: "gnuplot wrote no whole PNG (disk full?): \(error)")
            }
        } else if ((try? FileManager.default.attributesOfItem(atPath: partial))?[.size] as? Int ?? 0) == 0 {
            throw PlotError.failed(script: scriptPath, message: "gnuplot wrote an empty \(output) (disk full?)")
        }
        guard rename(partial, output) == 0 else {
            throw PlotError.failed(script: scriptPath, message: "cannot rename its output to \(output): \(String(cString: strerror(errno)))")
        }
        return scriptPath
    }

    /// Quotes `text` for a gnuplot string (double quotes, escaped).
    public static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The common terminal lines: pngcairo at `width × height`, a plain font, and ``lineTypes``.
    static func terminal(_ output: String, width: Int, height: Int) -> String {
        "set terminal pngcairo size \(width),\(height) enhanced font 'DejaVu Sans,10' noenhanced\nset output \(quote(URL(fileURLWithPath: output).lastPathComponent))\n"
            + lineTypes
    }

    /// The ten colours of matplotlib's `tab10` (Vega's category10), in order.
    static let seriesColours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Line types 1–30 as `tab10`'s colours solid, then dashed, then dotted, cycling after 30: gnuplot's
    /// own cycle has 8 colours, so the 9th series of an overlay (a latent's KL, a method of the budget
    /// study) took the 1st one's colour.
    static let lineTypes: String = (0..<(3 * seriesColours.count)).map { t in
        "set linetype \(t + 1) lc rgb '\(seriesColours[t % seriesColours.count])' dt \(t / seriesColours.count + 1)\n"
    }.joined() + "set linetype cycle \(3 * seriesColours.count)\n"
}
