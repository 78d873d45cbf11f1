import Foundation

/// A data set named on the command line or in a config: `kind[:path][?key=value&…]`.
///
/// - `dsprites` — the built-in dSprites generator;
/// - `dsprites:PATH.npz` — the official dSprites file;
/// - `lesions[?variant=hard&noise=0.1&seed=0]` — the synthetic lesion data set (``Lesions``; variant
///   `standard` by default, `hard` for the pre-0.4.0 grid), optionally with label noise;
/// - `images:DIR[?labels=FILE.csv&label=COLUMN&resize=1&rule=A+B]` — a folder of PNGs (a CSV
///   column `mask` gives ground-truth masks; `rule` names the annotation columns the label depends on).
public struct DatasetSpec: Equatable, Sendable, CustomStringConvertible {
    /// `dsprites`, `lesions` or `images`.
    public var kind: String
    /// The file or directory, if any.
    public var path: String?
    /// `key=value` options.
    public var options: [String: String]

    /// Parses `text`, rejecting unknown kinds and options with a message naming them.
    public init(parsing text: String) throws {
        var rest = Substring(text)
        var options: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, !kv[0].isEmpty else { throw DataError(text, "option '\(pair)' is not key=value") }
                options[String(kv[0])] = String(kv[1])
            }
            rest = rest[..<q]
        }
        let parts = rest.split(separator: ":", maxSplits: 1)
        kind = parts.first.map(String.init) ?? ""
        path = parts.count > 1 ? String(parts[1]) : nil
        self.options = options
        let allowed: [String: Set<String>] = ["dsprites": [], "lesions": ["noise", "seed", "variant"], "images": ["labels", "label", "resize", "rule"]]
        guard let known = allowed[kind] else {
            throw DataError(text, "unknown data set '\(kind)' (known: dsprites, dsprites:FILE.npz, lesions, images:DIR)")
        }
        if let bad = options.keys.sorted().first(where: { !known.contains($0) }) {
            throw DataError(text, "unknown option '\(bad)' for \(kind) (allowed: \(known.sorted().joined(separator: ", ")))")
        }
        if kind == "images" && path == nil { throw DataError(text, "images needs a directory: images:DIR") }
        if kind == "lesions" && path != nil { throw DataError(text, "lesions is built in and takes no path") }
    }

    public var description: String {
        let query = options.keys.sorted().map { "\($0)=\(options[$0]!)" }.joined(separator: "&")
        return kind + (path.map { ":" + $0 } ?? "") + (query.isEmpty ? "" : "?" + query)
    }

    private func number(_ key: String, default value: Double) throws -> Double {
        guard let text = options[key] else { return value }
        guard let v = Double(text), v.isFinite else { throw DataError(description, "option \(key)=\(text) is not a number") }
        return v
    }

    /// The spec as a run written by untangle `version` meant it: before 0.4.0 the lesion set had
    /// one grid, today's `hard` variant, so a `lesions` spec without a variant from such a run
    /// reads as `lesions?variant=hard` (an old run keeps its data when it is resumed or re-scored).
    public func asWritten(byVersion version: String?) -> DatasetSpec {
        guard kind == "lesions", options["variant"] == nil else { return self }
        let parts = (version ?? "0").split(separator: ".").map { Int($0) ?? 0 }
        guard parts.lexicographicallyPrecedes([0, 4, 0]) else { return self }
        var spec = self
        spec.options["variant"] = Lesions.Variant.hard.rawValue
        return spec
    }

    /// Opens the data set (loading files as needed).
    public func open() throws -> any ImageDataset {
        switch kind {
        case "dsprites":
            if let path { return try DSpritesFile(path: path) }
            return DSprites()
        case "lesions":
            let noise = try number("noise", default: 0)
            guard (0..<0.5).contains(noise) else { throw DataError(description, "noise must lie in [0, 0.5), got \(noise)") }
            let seed = try number("seed", default: 0)
            guard seed >= 0, seed == seed.rounded() else { throw DataError(description, "seed must be a non-negative integer") }
            let name = options["variant"] ?? Lesions.Variant.standard.rawValue
            guard let variant = Lesions.Variant(rawValue: name) else {
                throw DataError(description, "unknown variant '\(name)' (known: \(Lesions.Variant.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return Lesions(variant: variant, labelNoise: noise, noiseSeed: UInt64(seed))
        default:
            return try ImageFolder(directory: path!, labelsCSV: options["labels"], labelColumn: options["label"],
                                   resize: ["1", "true", "yes"].contains(options["resize"] ?? "0"),
                                   ruleFactors: options["rule"].map { $0.split(separator: "+").map(String.init) } ?? [])
        }
    }
}
