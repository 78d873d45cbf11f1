import Foundation

/// Counts the finished units of a long piece of work — images encoded, trees grown, training
/// steps — from any thread, and tells an observer how far it has come, so a long step of
/// `evaluate`, `classify` or `compare` can show done/total, rate and ETA while it runs.
///
/// The work is a series of phases: ``begin(_:total:unit:)`` starts one (resetting the count and
/// the clock), ``advance(by:)`` adds finished units, ``end()`` closes it. The observer gets a
/// ``Reading`` at most every ``interval`` seconds while a phase runs, and once more, with
/// `finished` true, at its end. How a reading is shown (a redrawn line on a terminal, plain log
/// lines elsewhere) is the observer's business; the meter only counts. A meter changes no result:
/// it reads nothing the work computes. The observer is called on whichever thread advances the
/// meter (at most one call per interval), so it must not assume the main thread.
///
/// Concretely, after `d` of `n` units in `t` seconds: rate `d / t` units per second and
/// ETA `(n − d) · t / d` seconds.
public final class WorkMeter: @unchecked Sendable {
    /// One look at a phase.
    public struct Reading: Sendable, Equatable {
        /// What the phase does ("betavae: encoding the pool").
        public var label: String
        /// The counted unit, plural ("images", "trees").
        public var unit: String
        /// Units finished and units in the phase.
        public var done: Int, total: Int
        /// Seconds since the phase began.
        public var seconds: Double

        public init(label: String, unit: String, done: Int, total: Int, seconds: Double) {
            self.label = label; self.unit = unit; self.done = done; self.total = total; self.seconds = seconds
        }

        /// Units per second so far (0 before the first unit).
        public var rate: Double { seconds > 0 ? Double(done) / seconds : 0 }
        /// Estimated seconds left, `(total − done) · seconds / done`; infinite before the first unit.
        public var secondsRemaining: Double { done > 0 ? Double(total - done) * seconds / Double(done) : .infinity }
        /// `done / total` in [0, 1] (1 for an empty phase).
        public var fraction: Double { total > 0 ? min(1, Double(done) / Double(total)) : 1 }
    }

    /// Minimum seconds between two readings of a running phase.
    public let interval: Double
    /// Put before every phase's label ("betavae: "), empty for none.
    public let prefix: String
    private let observer: (Reading, _ finished: Bool) -> Void
    private let clock: @Sendable () -> Double
    private let lock = NSLock()
    private var reading: Reading?
    private var started = 0.0, lastReport = -Double.infinity

    /// A meter that hands its readings to `observer`. `clock` gives seconds (the monotonic
    /// system clock unless a test substitutes its own).
    public init(interval: Double = 0.2, prefix: String = "", clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
                observer: @escaping (Reading, _ finished: Bool) -> Void) {
        self.interval = interval
        self.prefix = prefix
        self.clock = clock
        self.observer = observer
    }

    /// A meter for one part of the work (a metric of `evaluate`): its own phases, the same
    /// observer, labels read "`name`: label".
    public func scoped(_ name: String) -> WorkMeter {
        WorkMeter(interval: interval, prefix: prefix + name + ": ", clock: clock, observer: observer)
    }

    /// Starts a phase of `total` units called `label` (an open phase is ended first).
    public func begin(_ label: String, total: Int, unit: String) {
        end()
        lock.lock()
        started = clock()
        lastReport = started
        reading = Reading(label: prefix + label, unit: unit, done: 0, total: max(total, 0), seconds: 0)
        lock.unlock()
    }

    /// Adds `count` finished units to the open phase (nothing without one).
    public func advance(by count: Int = 1) {
        lock.lock()
        guard var r = reading else { lock.unlock(); return }
        let now = clock()
        r.done = min(r.total, r.done + count)
        r.seconds = now - started
        reading = r
        let due = now - lastReport >= interval
        if due { lastReport = now }
        lock.unlock()
        if due { observer(r, false) }
    }

    /// Ends the open phase: the observer gets its last reading with `finished` true.
    public func end() {
        lock.lock()
        guard var r = reading else { lock.unlock(); return }
        r.seconds = clock() - started
        reading = nil
        lock.unlock()
        observer(r, true)
    }
}
