import Datasets
import Foundation
import TensorCore

/// Pixel saliency vs factor explanations (`explanation.compare`) → `compare/`, `explanations/`.
///
/// ```toml
/// [explanation]
/// compare = true                       # needs classify = true and ground-truth masks
/// compare_count = 100
/// ```
public struct CompareStage: RunStage {
    /// `explanation.compare` and its image count.
    public struct Options: StageOptions {
        public var compare = false, count = 100
        public var isEnabled: Bool { compare }
        public var fingerprint: [String: ConfigValue] { compare ? ["compare_count": .integer(count)] : [:] }
    }

    public init() {}
    public var name: String { "compare" }
    public var output: String { "compare/scores.csv" }
    public var keys: [String: Set<String>] { ["explanation": ["compare", "compare_count"]] }

    public func options(_ r: ConfigReader) throws -> Options {
        var o = Options()
        o.compare = try r.boolean("explanation.compare") ?? o.compare
        o.count = try r.integer("explanation.compare_count", atLeast: 1) ?? o.count
        if o.compare, try r.boolean("explanation.classify") != true {
            throw ConfigError(r.source, "explanation.compare needs explanation.classify = true")
        }
        return o
    }

    public func check(_ data: any ImageDataset, source: String) throws {
        if data.maskedView == nil {
            throw ConfigError(source, "explanation.compare needs ground-truth masks (lesions, or an image folder whose labels CSV has a mask column)")
        }
    }

    public func run(_ context: StageContext, options o: Options, log: @escaping (String) -> Void) throws -> String {
        _ = try context.trained().compare(count: o.count, seed: 0, meter: logMeter(log))
        return "wrote compare/scores.csv"
    }

    /// `compare.<model>.<method>.<score>` from `compare/scores.csv` (timings left out) and the
    /// factor-level checks of `compare/factors.json` (``FactorRuleCheck/scalars``).
    public func scalars(_ run: RunDirectory) throws -> [String: Double] {
        var out: [String: Double] = [:]
        if let text = BoundedFile.optionalText(run.file(output)) {
            let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            if let header = lines.first, header.count > 2 {
                for line in lines.dropFirst() where line.count == header.count {
                    for (c, name) in header.enumerated().dropFirst(2) where name != "seconds" {
                        if let x = Double(line[c]) { out["compare.\(line[0]).\(line[1]).\(name)"] = x }
                    }
                }
            }
        }
        if let check = try run.decode(FactorRuleCheck.self, from: "compare/" + FactorRuleCheck.fileName) {
            out.merge(check.scalars) { $1 }
        }
        return out
    }

    public func reportSection(_ trained: TrainedRun) throws -> String { trained.compareSection() }
}
