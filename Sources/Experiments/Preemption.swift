import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Graceful stops for training, as a cluster scheduler expects: on SIGTERM (Slurm's preemption
/// and `scancel`), SIGINT (Ctrl-C) or SIGUSR1 (Slurm's `--signal` warning before the time
/// limit) the trainer finishes the current step, writes a checkpoint and stops with
/// ``TrainingError/preempted(step:signal:checkpoint:)``; the CLI exits with
/// ``RunCommandExit/preempted``. A second signal of the same kind stops the process at once
/// (the default action), so a stuck run can still be killed.
///
/// Only a flag is set in the handler (async-signal-safe); the trainer polls it between steps.
public enum Preemption {
    /// The signals that ask for a checkpoint and a stop.
    public static let signals: [Int32] = [SIGTERM, SIGINT, SIGUSR1]

    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    nonisolated(unsafe) private static var installed = false

    /// Installs the handlers (idempotent). Call before a training loop.
    public static func install() {
        guard !installed else { return }
        installed = true
        _ = flag
        // A launcher may hand us these signals blocked (the mask survives exec; Foundation's
        // Process does so): unblock them, or the handlers would never run.
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for s in signals {
            signal(s) { received in
                if Preemption.flagPointer.pointee != 0 { // the second time: the default action
                    signal(received, SIG_DFL)
                    raise(received)
                    return
                }
                Preemption.flagPointer.pointee = sig_atomic_t(received)
            }
        }
    }

    private static var flagPointer: UnsafeMutablePointer<sig_atomic_t> { flag }

    /// The signal received since the handlers were installed (or the last ``reset()``), if any.
    public static var requested: Int32? {
        let value = flag.pointee
        return value == 0 ? nil : Int32(value)
    }

    /// The signal's name: "SIGTERM", "SIGINT", "SIGUSR1".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGUSR1: return "SIGUSR1"
        default: return "signal \(signal)"
        }
    }
}
