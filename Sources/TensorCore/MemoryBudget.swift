import Foundation

/// How much memory one read of an untrusted file, or one configured model and batch, may
/// claim. Every size taken from a file (npy shapes, zip sizes, PNG dimensions, safetensors
/// shapes) or a config (latents, widths, batch size) is checked against it *before* anything
/// is allocated, so no input can make the process abort on a failed allocation.
///
/// Concretely: `bytes` is the `UNTANGLE_MEMORY_BUDGET` environment variable when set
/// (`8G`, `512M`, `64K` or a plain byte count), else ¾ of the machine's physical memory.
public enum MemoryBudget {
    /// The budget in bytes.
    public static let bytes: Int = parse(ProcessInfo.processInfo.environment["UNTANGLE_MEMORY_BUDGET"])
        ?? Int(ProcessInfo.processInfo.physicalMemory / 4 * 3)

    /// Parses `8G`, `512M`, `64K`, `1000` (bytes); nil when absent or malformed.
    public static func parse(_ text: String?) -> Int? {
        guard var text = text?.trimmingCharacters(in: .whitespaces).uppercased(), !text.isEmpty else { return nil }
        var scale = 1
        if let unit = text.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(unit)] {
            scale = 1 << (10 * power)
            text.removeLast()
        }
        guard let value = Double(text), value.isFinite, value > 0, value * Double(scale) < 9e18 else { return nil }
        return Int(value * Double(scale))
    }

    /// `bytes` in words: "4.0 GiB", "512 MiB", "12 KiB", "100 bytes".
    public static func describe(_ bytes: Int) -> String {
        let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let value = Double(bytes) / Double(size)
            return value >= 100 ? String(format: "%.0f %@", value, name) : String(format: "%.1f %@", value, name)
        }
        return "\(bytes) bytes"
    }

    /// nil when `bytes` fits `limit` (default: the budget), else the sentence to put in an error:
    /// "needs 4.0 GiB, more than the memory budget of 17 GiB (UNTANGLE_MEMORY_BUDGET)".
    public static func excess(_ bytes: Int, limit: Int = MemoryBudget.bytes) -> String? {
        guard bytes > limit else { return nil }
        return "needs \(describe(bytes)), more than the memory budget of \(describe(limit)) (set UNTANGLE_MEMORY_BUDGET to change it)"
    }

    /// ``excess(_:limit:)`` of `count` items of `copies × bytesEach` bytes, the product checked for
    /// overflow (an overflowing product always exceeds): what a count taken from a user needs.
    public static func excess(count: Int, copies: Int = 1, bytesEach: Int, limit: Int = MemoryBudget.bytes) -> String? {
        excess([count, copies, bytesEach].checkedProduct ?? Int.max, limit: limit)
    }
}

extension Collection where Element == Int {
    /// The product of the elements, or nil when one is negative or the product overflows `Int`:
    /// the element count of a shape read from an untrusted file.
    public var checkedProduct: Int? {
        var result = 1
        for value in self {
            guard value >= 0 else { return nil }
            let (product, overflow) = result.multipliedReportingOverflow(by: value)
            guard !overflow else { return nil }
            result = product
        }
        return result
    }

    /// `checkedProduct × elementSize`, nil on overflow: the byte size of a shape.
    public func checkedByteCount(elementSize: Int) -> Int? {
        guard let count = checkedProduct else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        return overflow ? nil : bytes
    }
}
