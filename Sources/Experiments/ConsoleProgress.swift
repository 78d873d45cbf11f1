import Foundation
import TensorCore

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

extension ConsoleProgress {
    /// A ``WorkMeter`` that shows a long step as it runs — on a terminal one redrawn line
    /// (`betavae: encoding 702112 distinct images [██████··········] 312448/702112 images  5930 images/s  ETA 1m05s`),
    /// drawn once the phase has run `quiet` seconds and cleared when it ends; elsewhere (logs,
    /// Slurm, pipes) a plain line every `plainEvery` seconds of the phase. A phase that ends
    /// sooner shows nothing, so only steps that take long get a progress line. `write` receives
    /// the plain lines (default: stdout), `draw` the terminal's redraws (text with `\r`, no
    /// newline); `indent` goes before every line; `clock` as ``WorkMeter``'s.
    public static func meter(isTerminal: Bool = isatty(STDOUT_FILENO) != 0, quiet: Double = 1, plainEvery: Double = 10, indent: String = "",
                             clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
                             draw: @escaping (String) -> Void = { print($0, terminator: ""); fflush(nil) },
                             write: @escaping (String) -> Void = { print($0); fflush(nil) }) -> WorkMeter {
        let state = MeterLineState()
        return WorkMeter(clock: clock) { reading, finished in
            state.lock.lock()
            defer { state.lock.unlock() }
            if isTerminal {
                if finished {
                    if state.drawn { draw("\r\u{1B}[K") }
                    state.drawn = false
                } else if reading.seconds >= quiet {
                    draw("\r\u{1B}[K" + indent + meterLine(reading, bar: true))
                    state.drawn = true
                }
            } else if finished {
                state.lastPlain = 0
            } else if reading.seconds - state.lastPlain >= plainEvery {
                state.lastPlain = reading.seconds
                write(indent + meterLine(reading, bar: false))
            }
        }
    }

    /// One reading as text: label, done/total and unit (a 16-cell bar, or the percentage),
    /// rate (one decimal below 10 a second) and ETA.
    public static func meterLine(_ r: WorkMeter.Reading, bar: Bool) -> String {
        let cells = 16, filled = Int(Double(cells) * r.fraction)
        let counts = "\(r.done)/\(r.total) \(r.unit)"
        let position = bar ? "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: cells - filled) + "] " + counts
                           : counts + String(format: " (%.0f %%)", 100 * r.fraction)
        let rate = String(format: r.rate < 10 ? "%.1f" : "%.0f", r.rate)
        return "\(r.label) \(position)  \(rate) \(r.unit)/s  ETA " + duration(r.secondsRemaining)
    }
}

/// What one meter's display remembers between readings.
private final class MeterLineState: @unchecked Sendable {
    let lock = NSLock()
    var drawn = false
    var lastPlain = 0.0
}
