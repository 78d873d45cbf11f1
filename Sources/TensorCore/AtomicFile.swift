import Foundation

/// A file could not be written (disk full, permissions, …); names the file.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
    public var path: String, reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): could not write: \(reason)" }
}

/// Whole-file writes that never leave a partial file behind.
public enum AtomicFile {
    /// Writes `data` to a temporary sibling of `path`, flushes it to disk, then renames it
    /// over `path`. On failure (e.g. a full disk) the temporary file is removed, `path`
    /// keeps its previous contents, and the error names the file.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown)
            }
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try handle.write(contentsOf: data)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw FileWriteError(path: path, reason: error.localizedDescription)
        }
    }
}

extension AtomicFile {
    /// Writes UTF-8 `text` atomically.
    public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }
}
