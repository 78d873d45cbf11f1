#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The CPU time of this process, for timing that other work on the machine barely disturbs.
public enum ProcessClock {
    /// Seconds of CPU time consumed by every thread of the process so far
    /// (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`: user + system time).
    public static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
