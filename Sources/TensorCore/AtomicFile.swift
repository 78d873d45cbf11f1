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

extension AtomicFile {
    /// Whether `name` is a temporary file of an interrupted atomic write (`.NAME.tmp-PID`,
    /// optionally with a further suffix), and the writer's pid.
    static func temporaryWriter(of name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let digits = name[marker.upperBound...].prefix { $0.isNumber }
        return Int32(digits)
    }

    /// Removes the temporary files that interrupted atomic writes (a `kill -9`, a power cut)
    /// left in `directory` and its subdirectories, skipping those whose writer is still alive.
    /// Returns the paths removed. Call it while holding the directory's lock.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var removed: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard let pid = temporaryWriter(of: name) else { continue }
            if pid != getpid() && kill(pid, 0) == 0 { continue } // a live writer (another process)
            let path = (directory as NSString).appendingPathComponent(relative)
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }
}
