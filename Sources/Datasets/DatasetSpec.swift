import Foundation

/// A data set named on the command line or in a config: `kind[:path][?key=value&…]`.
///
/// - `dsprites` — the built-in dSprites generator;
/// - `dsprites:PATH.npz` — the official dSprites file;
/// - `lesions[?noise=0.1&seed=0]` — the synthetic lesion data set with label noise;
/// - `images:DIR[?labels=FILE.csv&label=COLUMN&resize=1]` — a folder of PNGs.
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
        let allowed: [String: Set<String>] = ["dsprites": [], "lesions": ["noise", "seed"], "images": ["labels", "label", "resize"]]
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
            return Lesions(labelNoise: noise, noiseSeed: UInt64(seed))
        default:
            return try ImageFolder(directory: path!, labelsCSV: options["labels"], labelColumn: options["label"],
                                   resize: ["1", "true", "yes"].contains(options["resize"] ?? "0"))
        }
    }
}
