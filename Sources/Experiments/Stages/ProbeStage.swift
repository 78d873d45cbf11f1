import Foundation

/// Latent names (`evaluation.probe`, ``LatentNaming``) → `factors.json`, `mi_matrix.csv`.
public struct ProbeStage: RunStage {
    /// `evaluation.probe` (default false).
    public struct Options: StageOptions {
        public var probe = false
        public var isEnabled: Bool { probe }
        public var fingerprint: [String: ConfigValue] { ["probe": .boolean(probe)] }
    }

    public init() {}
    public var name: String { "probe" }
    public var output: String { "factors.json" }
    public var keys: [String: Set<String>] { ["evaluation": ["probe"]] }
    public func options(_ r: ConfigReader) throws -> Options { Options(probe: try r.boolean("evaluation.probe") ?? false) }

    public func run(_ context: StageContext, options: Options, log: @escaping (String) -> Void) throws -> String {
        try context.trained().probe(meter: logMeter(log)).map { "z\($0.latent)=\($0.name)" }.joined(separator: " ")
    }
}
