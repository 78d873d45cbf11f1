import Foundation

/// One CSV column of an image folder used as a ground-truth factor for naming latents and for
/// the metrics that need factors: the user's own annotations (a digit, a stage, a size in mm).
///
/// Concretely: a column whose non-empty cells all parse as numbers is *numeric*: with at most
/// ``AnnotatedFactor/maximumClasses`` distinct values each value is a class, else the values are
/// cut into that many equal-frequency bins (classes ordered by value). Any other column is
/// *categorical*: its distinct strings, sorted, are the classes. Empty cells are missing (`nil`)
/// and are left out of every computation on that factor.
public struct AnnotatedFactor: Sendable, Equatable {
    /// The column name.
    public var name: String
    /// Class of each image (dataset index order); nil where the cell is empty.
    public var classes: [Int?]
    /// What each class stands for: the value, or the bin `[lo, hi]`.
    public var classNames: [String]
    /// Whether the column holds numbers.
    public var isNumeric: Bool

    /// Most classes per factor (numbers are binned beyond it), as the MI estimator's 20 latent bins.
    public static let maximumClasses = 20

    /// Number of classes.
    public var classCount: Int { classNames.count }
    /// Number of images without a value.
    public var missing: Int { classes.filter { $0 == nil }.count }

    /// The factor of `name` from one value per image.
    public init(name: String, cells: [String]) {
        self.name = name
        let present = cells.filter { !$0.isEmpty }
        let numbers = present.compactMap { Double($0) }.filter(\.isFinite)
        isNumeric = !present.isEmpty && numbers.count == present.count
        if isNumeric {
            let distinct = Array(Set(numbers)).sorted()
            if distinct.count <= AnnotatedFactor.maximumClasses {
                let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($0.element, $0.offset) })
                classNames = distinct.map { $0.rounded() == $0 && abs($0) < 1e15 ? String(Int($0)) : String($0) }
                classes = cells.map { Double($0).flatMap { index[$0] } }
            } else {
                // Equal-frequency bins: edges at the k/K quantiles of the present values.
                let sorted = numbers.sorted(), k = AnnotatedFactor.maximumClasses
                let edges = (1..<k).map { sorted[min(sorted.count - 1, $0 * sorted.count / k)] }
                func bin(_ v: Double) -> Int { edges.filter { v >= $0 }.count }
                let bins = cells.map { Double($0).map(bin) }
                let used = Array(Set(bins.compactMap { $0 })).sorted()
                let renumber = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($0.element, $0.offset) })
                classes = bins.map { $0.flatMap { renumber[$0] } }
                classNames = used.map { b in
                    let members = zip(bins, cells).filter { $0.0 == b }.compactMap { Double($0.1) }
                    return String(format: "[%g, %g]", members.min() ?? 0, members.max() ?? 0)
                }
            }
        } else {
            let distinct = Array(Set(present)).sorted()
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($0.element, $0.offset) })
            classNames = distinct
            classes = cells.map { $0.isEmpty ? nil : index[$0] }
        }
    }
}

extension ImageFolder {
    /// The annotation columns usable as factors, and the others with the reason each is left out:
    /// the label column (it is what the classifiers predict), columns with one value only, and
    /// categorical columns with a distinct value for more than half the images (identifiers,
    /// free text).
    public var annotations: (factors: [AnnotatedFactor], skipped: [(column: String, reason: String)]) {
        var factors: [AnnotatedFactor] = [], skipped: [(String, String)] = []
        for column in attributes.keys.sorted() {
            if column == labelColumn { skipped.append((column, "the label being predicted")); continue }
            let factor = AnnotatedFactor(name: column, cells: attributes[column]!)
            if factor.classCount < 2 {
                skipped.append((column, factor.classCount == 0 ? "no values" : "one value only"))
            } else if !factor.isNumeric && factor.classCount > count / 2 {
                skipped.append((column, "\(factor.classCount) distinct values for \(count) images (an identifier?)"))
            } else {
                factors.append(factor)
            }
        }
        return (factors, skipped)
    }
}
