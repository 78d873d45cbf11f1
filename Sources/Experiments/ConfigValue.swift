import Foundation
import TensorCore
import TOMLKit

/// A configuration value: the plain-Swift tree a TOML file is converted into, so
/// configs can be overridden, validated, hashed and written back deterministically.
public indirect enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case string(String), integer(Int), float(Double), boolean(Bool)
    case array([ConfigValue]), table([String: ConfigValue])

    /// Parses TOML `text`; errors name `source` and the line and column.
    public static func parseTOML(_ text: String, source: String) throws -> [String: ConfigValue] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(source, "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        return try convert(table, source: source)
    }

    /// Reads and parses a TOML file.
    public static func readTOML(_ path: String) throws -> [String: ConfigValue] {
        let data = try BoundedFile.read(path, limit: BoundedFile.Limit.config, missing: "no such config file", as: ConfigError.init)
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigError(path, "not UTF-8 text") }
        return try parseTOML(text, source: path)
    }

    private static func convert(_ table: TOMLTable, source: String) throws -> [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        for key in table.keys { out[key] = try convert(table[key]!, source: source, key: key) }
        return out
    }

    private static func convert(_ value: TOMLValueConvertible, source: String, key: String) throws -> ConfigValue {
        switch value.type {
        case .string: return .string(value.string!)
        case .int: return .integer(value.int!)
        case .double: return .float(value.double!)
        case .bool: return .boolean(value.bool!)
        case .table: return .table(try convert(value.table!, source: source))
        case .array: return .array(try value.array!.map { try convert($0, source: source, key: key) })
        default: throw ConfigError(source, "key '\(key)': dates and times are not supported in configs")
        }
    }

    /// Parses the value part of a `--set key=value` override: a TOML value (number,
    /// boolean, quoted string, array), or else the bare text as a string.
    public static func parseOverride(_ text: String) -> ConfigValue {
        if let parsed = try? parseTOML("v = \(text)", source: "override"), let v = parsed["v"] { return v }
        return .string(text)
    }

    /// TOML text of the value (inline form).
    public var description: String {
        switch self {
        case .string(let s):
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
        case .integer(let i): return String(i)
        case .float(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d > 0 ? "inf" : "-inf" }
            return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case .boolean(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .table(let t): return "{ " + t.keys.sorted().map { "\($0) = \(t[$0]!)" }.joined(separator: ", ") + " }"
        }
    }

    /// A TOML document: top-level scalars first, then one `[section]` per table, keys sorted.
    public static func renderTOML(_ root: [String: ConfigValue]) -> String {
        var lines: [String] = []
        for key in root.keys.sorted() { if case .table = root[key]! {} else { lines.append("\(key) = \(root[key]!)") } }
        for key in root.keys.sorted() {
            guard case .table(let section) = root[key]! else { continue }
            if !lines.isEmpty { lines.append("") }
            lines.append("[\(key)]")
            for k in section.keys.sorted() { lines.append("\(k) = \(section[k]!)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Sets `path` (`section.key`) in `root`, creating the section.
    public static func set(_ value: ConfigValue, at path: String, in root: inout [String: ConfigValue]) throws {
        let parts = path.split(separator: ".").map(String.init)
        guard parts.count == 2 else { throw ConfigError("--set \(path)", "keys are written section.key (e.g. model.beta)") }
        var section: [String: ConfigValue] = [:]
        if let existing = root[parts[0]] {
            guard case .table(let t) = existing else { throw ConfigError("--set \(path)", "'\(parts[0])' is not a section") }
            section = t
        }
        section[parts[1]] = value
        root[parts[0]] = .table(section)
    }
}

/// A configuration problem, naming the file (or flag) and the key.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var source: String, problem: String
    public init(_ source: String, _ problem: String) { self.source = source; self.problem = problem }
    public var description: String { "\(source): \(problem)" }
}
