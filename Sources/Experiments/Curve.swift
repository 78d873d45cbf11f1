import Datasets
import Foundation
import Metrics
import TensorCore

/// One row of a run's learning curve, `RUN/curve.csv`: the model scored at a training step.
public struct CurvePoint: Equatable, Sendable {
    /// Training step, images seen so far (`step × images per step`).
    public var step: Int, imagesSeen: Int
    /// Wall-clock seconds spent training up to this step (evaluations excluded; carried over a
    /// resume), the process CPU seconds of the same (all threads), and the wall-clock seconds this
    /// evaluation took.
    public var trainSeconds: Double, trainCPUSeconds: Double, evalSeconds: Double
    /// The scores, in ``LearningCurve/metricColumns`` order.
    public var values: [Double]
    /// The probe's name of every latent at this step (commas replaced by `+`, so the field stays one CSV cell).
    public var names: [String]

    /// The score called `column` (one of ``LearningCurve/metricColumns``).
    public func value(_ column: String) -> Double? { LearningCurve.metricColumns.firstIndex(of: column).map { values[$0] } }
}

/// Learning curves (`training.eval_every`): the cheap disentanglement metrics and the probe's
/// names, scored during training on one fixed set of ground-truth points, so curves of one run
/// and of many runs are comparable step by step and second by second.
///
/// Every evaluation draws the same `training.eval_points` factor combinations (seeded by the
/// experiment seed, separate from the training stream) and encodes them with the current
/// weights: MIG, SAP (dlib's linear SVM), DCI (dlib's gradient-boosted trees: disentanglement,
/// completeness, test informativeness) and modularity
/// on `eval_points` training and `eval_points / 2` evaluation codes, the active units (KL >
/// 0.01 nats on the held-out images) and the number of ground-truth factors at least one
/// latent is named after (``LatentNaming/fromGroundTruth(mutualInformation:factorEntropies:factorNames:kl:)``).
/// Time is recorded twice: `train_seconds` (wall clock) and `train_cpu_seconds` (process CPU
/// time of all threads). On a shared or busy machine the wall clock includes waiting for the
/// cores; CPU seconds ÷ `training.threads` is the time the same work takes on idle cores, the
/// axis the budget summaries use.
/// The training RNG is not touched, so a run scores the same with or without curves and
/// whether or not it was resumed.
///
/// The codes themselves are kept too, so any metric (a new one, or a fixed definition) can be
/// recomputed later without the weights: `RUN/curve/factors.npy` (int64 `[N, F]` factor classes
/// of the N = `eval_points` + `eval_points / 2` points, training points first) and
/// `RUN/curve/codes-STEP.npy` (float32 `[N, Z]` posterior means at that step).
public enum LearningCurve {
    /// The file in the run directory.
    public static let fileName = "curve.csv"
    /// The score columns, in file order.
    public static let metricColumns = ["mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness",
                                       "modularity", "active_units", "named_factors"]
    /// The CSV header.
    public static let header = (["step", "images_seen", "train_seconds", "train_cpu_seconds", "eval_seconds"] + metricColumns + ["names"])
        .joined(separator: ",")

    /// Scores `trained` (its current weights) at `step`; `evalSeconds` is measured here.
    static func evaluate(_ trained: TrainedRun, step: Int, trainSeconds: Double, trainCPUSeconds: Double,
                         points: Int) throws -> CurvePoint {
        let start = Date()
        let data = try trained.groundTruth()
        var evaluator = DisentanglementMetrics(space: data, representation: trained.representation(data), seed: trained.config.seed,
                                              encodingBatch: trained.encodingPiece)
        evaluator.trainCount = points
        evaluator.evalCount = max(points / 2, 2)
        let sample = evaluator.codeSample()
        try saveCodes(sample, step: step, run: trained.run)
        let mi = sample.mutualInformationMatrix()
        let kl = trained.klPerLatent(count: 512)
        let factorNames = data.factors.map(\.name)
        let names = LatentNaming.fromGroundTruth(mutualInformation: mi, factorEntropies: sample.factorEntropies(),
                                                 factorNames: factorNames, kl: kl).map(\.name)
        let named = LatentNaming.namedFactors(names, among: factorNames).count
        let values = sampleScores(sample, mutualInformation: mi, seed: trained.config.seed)
            + [Double(kl.filter { $0 > LatentNaming.activeKL }.count), Double(named)]
        return CurvePoint(step: step, imagesSeen: step * trained.config.imagesPerStep, trainSeconds: trainSeconds,
                          trainCPUSeconds: trainCPUSeconds, evalSeconds: Date().timeIntervalSince(start), values: values,
                          names: names.map { $0.replacingOccurrences(of: ",", with: "+") })
    }

    /// The scores computed from the codes alone (the first six of ``metricColumns``); `mi` is the
    /// sample's MI matrix when the caller has it already.
    static func sampleScores(_ sample: CodeSample, mutualInformation: [[Double]]? = nil, seed: UInt64) -> [Double] {
        let mi = mutualInformation ?? sample.mutualInformationMatrix()
        let dci = sample.dci(seed: seed)
        return [sample.mig(mutualInformation: mi), sample.sap().score, dci.disentanglement, dci.completeness,
                dci.evalAccuracy, CodeSample.modularity(mutualInformation: mi)]
    }

    /// Recomputes the code-based columns of `RUN/curve.csv` (MIG, SAP, DCI, modularity) from the
    /// kept codes with today's metric definitions — for curves scored by an earlier version —
    /// keeping steps, times, active units and names; rewrites the file atomically and returns the rows.
    public static func rescore(run path: String) throws -> [CurvePoint] {
        let run = try RunDirectory(existing: path)
        let config = try run.loadConfig()
        let file = (path as NSString).appendingPathComponent(fileName)
        var points = try read(file)
        let directory = (path as NSString).appendingPathComponent(codesDirectory)
        let factors = try NPYArray.read(directory + "/factors.npy")
        let classes = try factors.integers(source: directory + "/factors.npy")
        let data = try TrainedRun.openDataset(config, field: "\(run.configPath): data.dataset", run: run)
        guard let grid = data as? any GroundTruthDataset, factors.shape.count == 2, factors.shape[1] == grid.factors.count else {
            throw ConfigError(directory + "/factors.npy", "does not hold [N, \((data as? any GroundTruthDataset)?.factors.count ?? 0)] factor classes of \(config.dataset)")
        }
        let (n, f) = (factors.shape[0], factors.shape[1]), trainCount = config.evalPoints
        guard n > trainCount else { throw ConfigError(directory + "/factors.npy", "holds \(n) points, fewer than training.eval_points + 1") }
        let rows = (0..<n).map { Array(classes[($0 * f)..<(($0 + 1) * f)]) }
        for (j, factor) in grid.factors.enumerated() where rows.contains(where: { $0[j] < 0 || $0[j] >= factor.classCount }) {
            throw ConfigError(directory + "/factors.npy", "column \(j) (\(factor.name)) holds classes outside 0..<\(factor.classCount)")
        }
        for k in points.indices {
            let codesPath = directory + String(format: "/codes-%08d.npy", points[k].step)
            let codes = try NPYArray.read(codesPath)
            guard codes.dtype == .float32, codes.shape.count == 2, codes.shape[0] == n else {
                throw ConfigError(codesPath, "expected float32 codes of shape [\(n), Z], got \(codes.dtype) \(codes.shape)")
            }
            let z = codes.shape[1]
            let values = codes.doubles().map(Float.init)
            let all = (0..<n).map { Array(values[($0 * z)..<(($0 + 1) * z)]) }
            let sample = CodeSample(trainCodes: Array(all[..<trainCount]), trainFactors: Array(rows[..<trainCount]),
                                    evalCodes: Array(all[trainCount...]), evalFactors: Array(rows[trainCount...]),
                                    classCounts: grid.factors.map(\.classCount))
            points[k].values.replaceSubrange(0..<6, with: sampleScores(sample, seed: config.seed))
        }
        try AtomicFile.write(([header] + points.map(line)).joined(separator: "\n") + "\n", to: file)
        return points
    }

    /// A terminal table of `points`: step, images, training minutes (wall clock), each score.
    public static func table(_ points: [CurvePoint]) -> String {
        var out = "step      images    minutes  " + metricColumns.map { $0.padding(toLength: max(8, $0.count + 1), withPad: " ", startingAt: 0) }.joined() + "\n"
        for p in points {
            out += String(p.step).padding(toLength: 10, withPad: " ", startingAt: 0) + String(p.imagesSeen).padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: "%7.1f  ", p.trainSeconds / 60)
                + zip(metricColumns, p.values).map { String(format: "%.3f", $0.1).padding(toLength: max(8, $0.0.count + 1), withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        return out
    }

    /// The directory of the kept codes.
    public static let codesDirectory = "curve"

    /// Writes the sample's codes at `step` (and, the first time, its factors) under `RUN/curve/`.
    static func saveCodes(_ sample: CodeSample, step: Int, run: RunDirectory) throws {
        let directory = (run.path as NSString).appendingPathComponent(codesDirectory)
        try AtomicFile.createDirectory(directory)
        let codes = sample.trainCodes + sample.evalCodes, factors = sample.trainFactors + sample.evalFactors
        let factorsPath = directory + "/factors.npy"
        if !FileManager.default.fileExists(atPath: factorsPath) {
            try NPYArray(int64: factors.flatMap { $0.map(Int64.init) }, shape: [factors.count, sample.factorCount]).write(to: factorsPath)
        }
        try NPYArray(float32: codes.flatMap { $0 }, shape: [codes.count, sample.latentCount])
            .write(to: directory + String(format: "/codes-%08d.npy", step))
    }

    /// The CSV line of `point` (no newline).
    public static func line(_ point: CurvePoint) -> String {
        ([String(point.step), String(point.imagesSeen), String(format: "%.2f", point.trainSeconds),
          String(format: "%.2f", point.trainCPUSeconds), String(format: "%.2f", point.evalSeconds)] + point.values.map { String(format: "%.6g", $0) }
            + [point.names.joined(separator: ";")]).joined(separator: ",")
    }

    /// Reads a `curve.csv`; a malformed line is an error naming the file and the line.
    public static func read(_ path: String) throws -> [CurvePoint] {
        let data = try BoundedFile.read(path, limit: BoundedFile.Limit.table, missing: "no learning curve here", as: ConfigError.init)
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigError(path, "the learning curve is not UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first.map(String.init) == header else {
            throw ConfigError(path, "line 1: expected the header '\(header)'")
        }
        return try lines.dropFirst().enumerated().map { k, line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let numbers = cells.prefix(5 + metricColumns.count).map { Double($0) }
            guard cells.count == 6 + metricColumns.count, numbers.allSatisfy({ $0 != nil }),
                  let step = Int(cells[0]), let seen = Int(cells[1]) else {
                throw ConfigError(path, "line \(k + 2): expected \(6 + metricColumns.count) comma-separated fields (numbers, then names)")
            }
            return CurvePoint(step: step, imagesSeen: seen, trainSeconds: numbers[2]!, trainCPUSeconds: numbers[3]!,
                              evalSeconds: numbers[4]!, values: numbers[5...].map { $0! }, names: cells.last!.split(separator: ";").map(String.init))
        }
    }
}
