import Foundation

/// Runs a helper program to completion (git, gnuplot, sbatch, a Python reference) — the one
/// place the package starts a short-lived child process and collects what it prints.
public enum ChildProcess {
    /// What a finished child left: its exit status, standard output and standard error.
    public struct Result: Sendable {
        public var status: Int32, output: String, errors: String
        /// Output and errors together (for messages).
        public var combined: String { output + errors }
    }

    /// Runs `arguments[0]` (found on PATH through `/usr/bin/env`) with the other arguments in
    /// `directory` (default: the current one) and waits. Both pipes are drained concurrently,
    /// so a child that writes a lot to either never blocks. Throws when it cannot start.
    public static func run(_ arguments: [String], in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errors = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errors = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                      errors: String(decoding: errors, as: UTF8.self))
    }
}
