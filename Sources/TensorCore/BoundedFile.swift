import Foundation

/// A file could not be read whole: not a regular file (a directory, a FIFO, a device such as
/// `/dev/zero`), larger than the reader allows, or refused by the system. Names the file.
public struct FileReadError: Error, CustomStringConvertible, Equatable {
    public var path: String, problem: String
    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// Whole-file reads with a cap on the size: the one way Untangle reads a file that a user or a
/// damaged run directory hands it (configs, run records, CSVs, tensors). Only regular files are
/// read — a FIFO would block for ever and `/dev/zero` would allocate without end — and a file
/// above `limit` bytes is refused before a byte is read, with the size and the limit in the
/// message, instead of exhausting memory (a 300 MB "config" took 1.9 GB to parse).
public enum BoundedFile {
    /// Limits, in bytes, for the kinds of files Untangle reads.
    public enum Limit {
        /// An experiment config or sweep file (TOML): a few KB in practice.
        public static let config = 1 << 20
        /// A JSON side file of a run directory (`run.json`, `metrics.json`, `evaluation.json`,
        /// `factors.json`, `classifiers.json`, …): a few KB to a few MB.
        public static let record = 64 << 20
        /// A CSV table or text log (labels, `log.csv`, `curve.csv`, `mi_matrix.csv`).
        public static let table = 256 << 20
        /// A tensor file (`.npy`, safetensors checkpoint): above it, the data would not fit the
        /// machines Untangle targets anyway.
        public static let tensors = 16 << 30
    }

    /// The size of the regular file at `path`; nil when nothing is there (ENOENT or ENOTDIR).
    /// Throws ``FileReadError`` for anything that is not a regular file or cannot be examined.
    public static func regularFileSize(_ path: String) throws -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileReadError(path: path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file (a pipe or a device?)"
            throw FileReadError(path: path, problem: "is \(kind), not a file to read")
        }
        return Int(info.st_size)
    }

    /// ``regularFileSize(_:)`` with its error rethrown as the caller's own error type.
    public static func regularFileSize<E: Error>(_ path: String, as wrap: (String, String) -> E) throws -> Int? {
        try rethrowing(as: wrap) { try regularFileSize(path) }
    }

    /// The bytes of the regular file at `path`, nil when there is none. Throws
    /// ``FileReadError`` when it is not a regular file, is larger than `limit` bytes (checked
    /// before reading, and again while reading, should it grow), or a read fails.
    public static func readIfPresent(_ path: String, limit: Int) throws -> Data? {
        guard let size = try regularFileSize(path) else { return nil }
        guard size <= limit else { throw tooLarge(path, size: size, limit: limit) }
        // O_NONBLOCK: should the path have been swapped for a FIFO since the check, open returns
        // at once instead of waiting for a writer.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw FileReadError(path: path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
            throw FileReadError(path: path, problem: "changed into something other than a regular file while being opened")
        }
        var data = Data(count: size + 1)
        var filled = 0
        while true {
            if filled == data.count {
                guard data.count <= limit else { throw tooLarge(path, size: data.count, limit: limit) }
                data.count = min(2 * data.count, limit + 1)
            }
            let n = data.withUnsafeMutableBytes { raw in Foundation.read(descriptor, raw.baseAddress! + filled, raw.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, problem: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= limit else { throw tooLarge(path, size: filled, limit: limit) }
        data.count = filled
        return data
    }

    /// ``readIfPresent(_:limit:)`` for a file that must exist: a missing file is a
    /// ``FileReadError`` saying `missing` (e.g. "no such config file").
    public static func read(_ path: String, limit: Int, missing: String = "no such file") throws -> Data {
        guard let data = try readIfPresent(path, limit: limit) else { throw FileReadError(path: path, problem: missing) }
        return data
    }

    /// ``readIfPresent(_:limit:)`` with its error rethrown as the caller's own error type
    /// (`as: ConfigError.init`, `DataError.init`: any initialiser taking the path and the problem).
    public static func readIfPresent<E: Error>(_ path: String, limit: Int, as wrap: (String, String) -> E) throws -> Data? {
        try rethrowing(as: wrap) { try readIfPresent(path, limit: limit) }
    }

    /// ``read(_:limit:missing:)`` with its error rethrown as the caller's own error type.
    public static func read<E: Error>(_ path: String, limit: Int, missing: String = "no such file", as wrap: (String, String) -> E) throws -> Data {
        try rethrowing(as: wrap) { try read(path, limit: limit, missing: missing) }
    }

    /// The UTF-8 text of `path`, or nil when it is absent, unreadable, too large or not UTF-8:
    /// for optional extras (a report's tables) whose absence only leaves a section out.
    public static func optionalText(_ path: String, limit: Int = Limit.table) -> String? {
        guard let data = try? readIfPresent(path, limit: limit) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    static func tooLarge(_ path: String, size: Int, limit: Int) -> FileReadError {
        FileReadError(path: path, problem: "is \(MemoryBudget.describe(size)), more than the \(MemoryBudget.describe(limit)) allowed for this kind of file (wrong file?)")
    }

    /// `body`'s result, a ``FileReadError`` it throws rethrown as `wrap(path, problem)`.
    private static func rethrowing<T, E: Error>(as wrap: (String, String) -> E, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FileReadError { throw wrap(error.path, error.problem) }
    }
}
