import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The last words of a command whose data changed under it: a lazily read image folder
/// (``ImageFolder``) whose file is removed or resized while a command runs cannot throw from
/// ``ImageDataset/render(_:into:)``, so it stops the process (exit status 65, `EX_DATAERR`).
/// Before it does, every action registered in ``actions`` runs once with the error — a run
/// pipeline registers one that writes the run's `failed.json`, so `sweep --status` reports the
/// run as failed, with the file and the reason, instead of as merely unfinished.
///
/// Render runs on several threads at once: the first thread to stop runs the actions, prints
/// the message and exits; any other thread that stops meanwhile waits for the exit.
public enum DataStop {
    /// The process's actions.
    public static let actions = Actions()
    /// Held from the first stop until the process exits.
    private static let stopping = NSLock()

    /// Runs ``actions``, writes `message` to standard error and exits with status 65.
    static func stop(_ error: DataError, message: String) -> Never {
        stopping.lock() // never unlocked: a second stopping thread waits here for the exit
        actions.run(error)
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(65)
    }

    /// Actions to run with the error before a data stop exits, each under a token; thread-safe.
    public final class Actions: @unchecked Sendable {
        private var registered: [Int: @Sendable (DataError) -> Void] = [:]
        private var lastToken = 0
        private let lock = NSLock()

        /// An empty set (the process's own is ``DataStop/actions``).
        public init() {}

        /// Registers `action`; returns the token for ``remove(_:)``.
        public func register(_ action: @escaping @Sendable (DataError) -> Void) -> Int {
            lock.lock()
            defer { lock.unlock() }
            lastToken += 1
            registered[lastToken] = action
            return lastToken
        }

        /// Removes the action registered under `token` (an unknown token is ignored).
        public func remove(_ token: Int) {
            lock.lock()
            defer { lock.unlock() }
            registered[token] = nil
        }

        /// Runs every registered action with `error`, in registration order.
        public func run(_ error: DataError) {
            lock.lock()
            let pending = registered.sorted { $0.key < $1.key }.map(\.value)
            lock.unlock()
            for action in pending { action(error) }
        }
    }
}
