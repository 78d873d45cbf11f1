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
    ///
    /// Only a regular file (or a symbolic link, which is replaced, never followed) is replaced: a
    /// device, FIFO, socket or folder at `path` is an error — renaming over `/dev/null` as root
    /// would put a plain file in its place.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        var existing = stat()
        if lstat(path, &existing) == 0 {
            let type = existing.st_mode & S_IFMT
            guard type == S_IFREG || type == S_IFLNK else {
                throw FileWriteError(path: path, reason: "is \(type == S_IFDIR ? "a folder" : "a device, pipe or socket"), not a file to replace (choose another output path)")
            }
        }
        try createDirectory(directory.path, for: path)
        // POSIX calls, so that the error says what the system said (ENOSPC, EROFS, EFBIG, EACCES).
        func fail(_ what: String) -> FileWriteError {
            let reason = "\(what): \(String(cString: strerror(errno)))"
            unlink(temporary)
            return FileWriteError(path: path, reason: reason)
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        guard writeAll(data, to: descriptor) else { let error = fail("write failed"); close(descriptor); throw error }
        guard fsync(descriptor) == 0 else { let error = fail("fsync failed"); close(descriptor); throw error }
        guard close(descriptor) == 0 else { throw fail("close failed") }
        guard rename(temporary, path) == 0 else { throw fail("rename failed") }
    }
}

extension AtomicFile {
    /// Creates the folder `path` and its parents (`mkdir -p`) with POSIX calls, so that an error
    /// says which component failed and why — a file in the way, no permission, a full disk —
    /// instead of Foundation's `NSCocoaErrorDomain` text. The error names `file` (default: `path`).
    public static func createDirectory(_ path: String, for file: String? = nil) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") where !part.isEmpty {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if mkdir(prefix, 0o777) == 0 { continue }
            let code = errno
            var info = stat()
            if stat(prefix, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFDIR { continue }
                throw FileWriteError(path: file ?? path, reason: "cannot create the folder: \(prefix) exists and is not a folder")
            }
            throw FileWriteError(path: file ?? path, reason: "cannot create the folder \(prefix): \(String(cString: strerror(code)))")
        }
    }

    /// Writes all of `data` to `descriptor`, resuming short writes and retrying on EINTR; false
    /// (with `errno` set) when a write fails.
    static func writeAll(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    /// Appends `data` to the existing file at `path` and flushes it to disk, all or nothing: when
    /// a write fails part-way (a full disk), the file is cut back to its previous length, so a log
    /// never ends in half a row. The error names the file and what the system said.
    public static func append(_ data: Data, to path: String) throws {
        // O_NONBLOCK and the check after: a FIFO put in the file's place fails at once instead of
        // blocking until a reader comes.
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileWriteError(path: path, reason: "is not a regular file, not a file to append to")
        }
        let start = lseek(descriptor, 0, SEEK_END)
        guard start >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        let failure: String? = !writeAll(data, to: descriptor) ? "write failed: " + String(cString: strerror(errno))
            : fsync(descriptor) != 0 ? "fsync failed: " + String(cString: strerror(errno)) : nil
        if let failure {
            _ = ftruncate(descriptor, start)
            throw FileWriteError(path: path, reason: failure + " (the file is left as it was)")
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
