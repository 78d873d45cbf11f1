import Foundation

/// The package's executables as the tests run them: found beside the test runner, started as a
/// user would start them.
public enum Products {
    /// The product `name` (default `untangle`): the test runner lives next to the products in
    /// `.build/<triple>/<configuration>/`.
    public static func url(_ name: String = "untangle") -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/\(name)")
    }

    /// Runs `executable` with `arguments` (optionally in `directory`) to the end; returns the exit
    /// status and stdout and stderr together.
    public static func run(_ executable: URL, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
