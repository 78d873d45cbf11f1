import Datasets
import Foundation
import TensorCore

/// Counts a user asks for on the command line (`--points`, `--count`, `--steps`, `--train`,
/// `--batch`) checked against ``MemoryBudget`` before anything is allocated, with the bytes each
/// item needs at the least: `--points 1000000000` is an error naming the option and the sizes, not
/// an allocation that grows until the machine swaps (or, for `--batch`, aborts).
enum CountLimit {
    /// Throws a `ConfigError` naming `option` and `count` when `count × copies × bytesEach` exceeds
    /// the memory budget (or overflows).
    static func require(_ option: String, _ count: Int, copies: Int = 1, bytesEach: Int) throws {
        if let excess = MemoryBudget.excess(count: count, copies: copies, bytesEach: bytesEach) {
            throw ConfigError("\(option) \(count)", "holding them \(excess)")
        }
    }
}

extension TrainedRun {
    /// Bytes one point of an encoded sample holds at the least: its code (`Z` floats) and its factor
    /// classes (`F` integers: the grid's factors or the folder's annotations), each an array with its header.
    var samplePointBytes: Int {
        let factorCount = (dataset as? any GroundTruthDataset)?.factors.count ?? annotationFactors?.count ?? 0
        return 64 + config.latentCount * MemoryLayout<Float>.size + factorCount * MemoryLayout<Int>.size
    }
}
