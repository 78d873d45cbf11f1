import Foundation

/// Prints training progress: a redrawn bar on a terminal, plain periodic lines otherwise
/// (logs, CI, pipes).
public final class ConsoleProgress {
    let isTerminal: Bool
    let plainEvery: Int
    private var lastDraw = Date.distantPast

    /// `plainEvery`: steps between plain lines when not on a terminal.
    public init(isTerminal: Bool = isatty(STDOUT_FILENO) != 0, plainEvery: Int) {
        self.isTerminal = isTerminal
        self.plainEvery = max(1, plainEvery)
    }

    /// The one-line summary of `u`.
    public static func line(_ u: ProgressUpdate) -> String {
        var s = String(format: "step %d/%d  loss %.2f  rec %.2f  kl %.2f", u.step, u.totalSteps, u.loss, u.reconstruction, u.kl)
        if let extra = u.extra { s += String(format: "  %@ %.3f", u.extraName, extra) }
        s += String(format: "  %.0f img/s  ETA %@", u.imagesPerSecond, duration(u.secondsRemaining))
        return s
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    /// Shows `u`.
    public func update(_ u: ProgressUpdate) {
        let done = u.step >= u.totalSteps
        if isTerminal {
            guard done || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
            lastDraw = Date()
            let width = 24, filled = Int(Double(width) * Double(u.step) / Double(max(u.totalSteps, 1)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\u{1B}[K[\(bar)] " + ConsoleProgress.line(u), terminator: done ? "\n" : "")
            fflush(nil)
        } else if u.step % plainEvery < 10 || done {
            print(ConsoleProgress.line(u))
            fflush(nil)
        }
    }
}
