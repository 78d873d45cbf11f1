import ArgumentParser
import Experiments
import Foundation
import TensorCore

/// `--threads N` (default 2), checked and applied the same way by every command.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads.") var threads = 2

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    /// Sets the BLAS and kernel thread count.
    func apply() { Parallel.setThreadCount(threads) }
}

/// The run directory a stage works on, and whether an unfinished run may be used.
struct RunArguments: ParsableArguments {
    @Argument(help: "A run directory (Results/<experiment>/<run-id>).") var runDirectory: String
    @Flag(help: "Use an unfinished run's newest checkpoint anyway (a look before training ends).") var allowUnfinished = false

    /// Opens the run (taking its lock; refusing an unfinished one unless --allow-unfinished).
    func open() throws -> TrainedRun { try TrainedRun(path: runDirectory, allowUnfinished: allowUnfinished) }

    /// `RUN/name`.
    func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
}

/// A command that cannot go on, for a reason in its arguments' *state* (not their syntax): its
/// message is printed without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
