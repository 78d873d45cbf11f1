import Foundation
import TensorCore

/// A plotting failure: gnuplot missing, or its error with the script path.
public enum PlotError: Error, CustomStringConvertible, Equatable {
    case gnuplotMissing
    case failed(script: String, message: String)
    case noOutput(script: String, expected: String)

    public var description: String {
        switch self {
        case .gnuplotMissing:
            return "gnuplot is not installed: run Scripts/bootstrap, or apt-get install gnuplot-nox"
        case .failed(let script, let message):
            return "gnuplot failed on \(script):\n\(message)"
        case .noOutput(let script, let expected):
            return "gnuplot ran \(script) but wrote no \(expected)"
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
    /// directory, and checks that `output` was written. Returns the script path.
    @discardableResult
    public static func render(script: String, data: [String: String], output: String,
                              gnuplot: String? = Gnuplot.executable) throws -> String {
        guard let gnuplot, FileManager.default.isExecutableFile(atPath: gnuplot) else { throw PlotError.gnuplotMissing }
        let url = URL(fileURLWithPath: output)
        let directory = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stem = url.deletingPathExtension().lastPathComponent
        for (name, contents) in data { try AtomicFile.write(contents, to: (directory as NSString).appendingPathComponent(name)) }
        let scriptPath = (directory as NSString).appendingPathComponent("\(stem).gp")
        try AtomicFile.write(script, to: scriptPath)
        try? FileManager.default.removeItem(atPath: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gnuplot)
        process.arguments = ["\(stem).gp"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PlotError.failed(script: scriptPath, message: message) }
        guard FileManager.default.fileExists(atPath: output) else { throw PlotError.noOutput(script: scriptPath, expected: output) }
        return scriptPath
    }

    /// Quotes `text` for a gnuplot string (double quotes, escaped).
    public static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The common terminal line: pngcairo at `width × height`, a plain font.
    static func terminal(_ output: String, width: Int, height: Int) -> String {
        "set terminal pngcairo size \(width),\(height) enhanced font 'DejaVu Sans,10' noenhanced\nset output \(quote(URL(fileURLWithPath: output).lastPathComponent))\n"
    }
}
