/// Errors loading data; each names the file (or data set) and the problem.
public struct DataError: Error, CustomStringConvertible, Equatable {
    /// The file or data-set specification concerned.
    public var source: String
    /// What is wrong, in words a user can act on.
    public var problem: String

    public init(_ source: String, _ problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}
