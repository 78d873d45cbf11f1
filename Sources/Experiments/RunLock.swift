import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Thrown when another process holds a run's lock.
public struct RunBusy: Error, CustomStringConvertible {
    /// The run directory and what its lock file says about the holder (host, pid, command, since).
    public var path: String, holder: String
    /// The message.
    public var description: String { "\(path) is being worked on by another process (\(holder)); nothing done" }
}

extension RunPipeline {
    /// The error of a run whose lock another process holds (`RunBusy`).
    public typealias Busy = RunBusy
}

extension RunDirectory {
    /// Takes the run's exclusive lock (`RUN/.lock`) for this process — re-entrant, released when
    /// the returned value is freed or the process dies — and removes temporary files that an
    /// interrupted write left behind. Every command that writes into a run directory holds it.
    /// Throws ``RunBusy`` (naming the holder's pid and command) when another process holds it.
    public func lock() throws -> RunLock {
        try AtomicFile.createDirectory(path)
        let lock = RunLock(path: file(".lock"))
        switch lock.acquire() {
        case .acquired: break
        case .busy: throw RunBusy(path: path, holder: lock.holder)
        case .unopenable(let reason):
            throw FileWriteError(path: lock.path, reason: "cannot open the run's lock file (\(reason)); nothing done")
        }
        AtomicFile.removeStaleTemporaries(in: path)
        return lock
    }
}

/// An advisory exclusive lock on a file (`flock`), released when the process ends however it ends.
public final class RunLock {
    let path: String
    private var descriptor: Int32 = -1
    private var reentered = false

    /// Lock files this process holds: a second `acquire` of one of them
    /// in the same process (`untangle run` → its train stage) succeeds without a second `flock`,
    /// which the kernel would refuse, since every `open` is a separate lock owner.
    nonisolated(unsafe) private static var held: Set<String> = []
    private static let heldGuard = NSLock()

    init(path: String) {
        self.path = path
    }

    /// What `acquire` found.
    enum Outcome: Equatable { case acquired, busy, unopenable(String) }

    /// Takes the lock without waiting (or re-enters it when this process holds it already); on
    /// success records host, pid and command in the file. A lock file that cannot be opened (a
    /// read-only file system, no permission) is not "busy": the reason is returned.
    func acquire() -> Outcome {
        RunLock.heldGuard.lock()
        defer { RunLock.heldGuard.unlock() }
        if RunLock.held.contains(path) {
            reentered = true
            return .acquired
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .unopenable(String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return .busy
        }
        descriptor = fd
        RunLock.held.insert(path)
        let command = CommandLine.arguments.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: " ")
        let text = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) (\(command)) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        return .acquired
    }

    /// Who holds the lock (the text its holder wrote).
    var holder: String {
        (BoundedFile.optionalText(path, limit: 4096) ?? "unknown").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { release() }

    /// Releases the lock (also done when the value is freed, or by the kernel when the process ends).
    public func release() {
        if reentered { reentered = false; return }
        guard descriptor >= 0 else { return }
        RunLock.heldGuard.lock()
        RunLock.held.remove(path)
        RunLock.heldGuard.unlock()
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// Whether some process holds the lock on `path` now.
    static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
