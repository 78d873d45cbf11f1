import Datasets
import Foundation
import Metrics

/// `untangle score CODES.npy FACTORS.npy`: every sample-based metric of ``MetricRegistry`` on
/// codes that Untangle did not produce (another library's encoder, a PyTorch model).
///
/// `CODES.npy` is `[N, Z]` (any numeric dtype; a 1-D array is one latent), `FACTORS.npy` `[N, F]`
/// with one ground-truth factor per column (any dtype: each column's distinct values, sorted,
/// become its classes 0…K−1). The first `trainFraction` of the rows (default ⅔, as dlib's
/// 10,000 / 5,000) are the training points, the rest the evaluation points — shuffle them
/// beforehand if the file is ordered.
public enum ExternalCodes {
    /// The codes as a ``CodeSample``: rows split at `trainFraction`; returns the sample and the
    /// number of classes of each factor.
    public static func load(codes codesPath: String, factors factorsPath: String, trainFraction: Double = 2.0 / 3) throws -> CodeSample {
        let codes = try NPYArray.read(codesPath), factors = try NPYArray.read(factorsPath)
        func matrix(_ a: NPYArray, _ path: String) throws -> (rows: Int, columns: Int) {
            switch a.shape.count {
            case 1: return (a.shape[0], 1)
            case 2: return (a.shape[0], a.shape[1])
            default: throw DataError(path, "expected a [N, columns] array, found shape \(a.shape)")
            }
        }
        let (n, z) = try matrix(codes, codesPath), (nf, f) = try matrix(factors, factorsPath)
        guard n == nf else { throw DataError(factorsPath, "has \(nf) rows but \(codesPath) has \(n)") }
        let trainCount = Int((Double(n) * trainFraction).rounded())
        guard trainCount >= 2, n - trainCount >= 1, z >= 1, f >= 1 else {
            throw DataError(codesPath, "\(n) rows cannot be split into ≥ 2 training and ≥ 1 evaluation points (fraction \(trainFraction))")
        }
        let values = codes.doubles()
        guard values.allSatisfy(\.isFinite) else { throw DataError(codesPath, "holds NaN or infinite codes") }
        let labels = factors.doubles()
        var classes = [[Int]](repeating: [Int](repeating: 0, count: f), count: n), classCounts: [Int] = []
        for j in 0..<f {
            let distinct = Array(Set((0..<n).map { labels[$0 * f + j] })).sorted()
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($0.element, $0.offset) })
            for i in 0..<n { classes[i][j] = index[labels[i * f + j]]! }
            classCounts.append(distinct.count)
        }
        let rows = (0..<n).map { i in (0..<z).map { Float(values[i * z + $0]) } }
        return CodeSample(trainCodes: Array(rows[..<trainCount]), trainFactors: Array(classes[..<trainCount]),
                          evalCodes: Array(rows[trainCount...]), evalFactors: Array(classes[trainCount...]), classCounts: classCounts)
    }

    /// Every sample-based metric on `sample`, in registry order.
    public static func score(_ sample: CodeSample, seed: UInt64 = 0) -> [(String, Double)] {
        let inputs = MetricInputs(sample: sample, seed: seed)
        return MetricRegistry.all.filter { $0.need == .sample }.flatMap { $0.scores(inputs) }
    }
}
