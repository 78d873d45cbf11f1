import Foundation
import TensorCore

/// `RUN/evaluation.json`, the one record of the `evaluate` stage (and of `untangle evaluate`):
/// the sampling settings, every score under its name (`mig`, `dci.disentanglement`, … — the
/// names ``MetricRegistry``'s metrics return) and the seconds each step took.
///
/// On disk it is one flat JSON object with sorted keys — the scores beside the settings, as in
/// disentanglement_lib's `results.json` — plus a `seconds` object:
/// `{"batch_size": 64, "eval_points": 5000, "mig": 0.31, "seconds": {"mig": 0.0, …}, "seed": 0, "train_points": 10000}`.
/// It is written and read through this type only; a file with a missing setting or a score that
/// is not a number does not decode (``RunDirectory/decode(_:from:)`` names the file).
public struct EvaluationRecord: Codable, Equatable, Sendable {
    /// The record's file name in a run directory.
    public static let fileName = "evaluation.json"

    /// Training and evaluation points the sample-based metrics used (for an annotated image
    /// folder, ⅔ and ⅓ of its complete images: ``TrainedRun/evaluationPoints(train:eval:)``).
    public var trainPoints: Int, evalPoints: Int
    /// Batch size of the BetaVAE and FactorVAE scores' draws; seed of every metric's sampling.
    public var batchSize: Int, seed: Int
    /// Score name → value.
    public var scores: [String: Double]
    /// Step name (`encode-sample`, each metric) → wall-clock seconds.
    public var seconds: [String: Double]

    /// A record of the given settings, scores and step seconds (score names must not be a setting's key).
    public init(trainPoints: Int, evalPoints: Int, batchSize: Int, seed: Int, scores: [String: Double], seconds: [String: Double]) {
        precondition(Set(scores.keys).isDisjoint(with: Self.settingKeys), "EvaluationRecord: a score named like a setting")
        self.trainPoints = trainPoints; self.evalPoints = evalPoints; self.batchSize = batchSize; self.seed = seed
        self.scores = scores; self.seconds = seconds
    }

    /// The keys that are not scores.
    static let settingKeys: Set<String> = ["train_points", "eval_points", "batch_size", "seed", "seconds"]

    /// Any key of the flat object.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    /// Reads the flat object: the four settings and `seconds` are required, every other key is a score.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        trainPoints = try c.decode(Int.self, forKey: Key("train_points"))
        evalPoints = try c.decode(Int.self, forKey: Key("eval_points"))
        batchSize = try c.decode(Int.self, forKey: Key("batch_size"))
        seed = try c.decode(Int.self, forKey: Key("seed"))
        seconds = try c.decode([String: Double].self, forKey: Key("seconds"))
        var scores: [String: Double] = [:]
        for key in c.allKeys where !Self.settingKeys.contains(key.stringValue) {
            scores[key.stringValue] = try c.decode(Double.self, forKey: key)
        }
        self.scores = scores
    }

    /// Writes the flat object (the settings, `seconds`, then each score under its name).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(trainPoints, forKey: Key("train_points"))
        try c.encode(evalPoints, forKey: Key("eval_points"))
        try c.encode(batchSize, forKey: Key("batch_size"))
        try c.encode(seed, forKey: Key("seed"))
        try c.encode(seconds, forKey: Key("seconds"))
        for (name, value) in scores { try c.encode(value, forKey: Key(name)) }
    }

    /// Writes the record into `run` atomically (sorted keys: deterministic bytes); returns its path.
    @discardableResult
    public func write(to run: RunDirectory) throws -> String {
        let path = run.file(Self.fileName)
        try AtomicFile.write(try JSONEncoder.sorted.encode(self) + Data("\n".utf8), to: path)
        return path
    }

    /// The record in `run`: nil when the run has not been evaluated; a `ConfigError` naming the
    /// file when it is damaged.
    public static func read(from run: RunDirectory) throws -> EvaluationRecord? {
        try run.decode(EvaluationRecord.self, from: fileName)
    }
}
