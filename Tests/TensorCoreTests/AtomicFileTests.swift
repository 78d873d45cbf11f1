import Foundation
import TensorCore
import Testing

/// `AtomicFile`: what it refuses to replace, and folder creation that says which component failed.
struct AtomicFileTests {
    /// A FIFO (standing in for `/dev/null`, which a rename as root replaced with a plain file) or a
    /// folder at the target is refused and left as it was; a regular file and a symbolic link are
    /// replaced (the link itself, never its target).
    @Test func onlyRegularFilesAndLinksAreReplaced() throws {
        let dir = try scratchDirectory("atomic"); defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pipe", 0o600) == 0)
        #expect(throws: FileWriteError(path: dir + "/pipe", reason: "is a device, pipe or socket, not a file to replace (choose another output path)")) {
            try AtomicFile.write("x", to: dir + "/pipe")
        }
        var info = stat()
        #expect(lstat(dir + "/pipe", &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO is still a FIFO")
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        #expect(throws: FileWriteError.self) { try AtomicFile.write("x", to: dir + "/folder") }
        try AtomicFile.write("old", to: dir + "/file")
        try AtomicFile.write("new", to: dir + "/file")
        #expect(try String(contentsOfFile: dir + "/file", encoding: .utf8) == "new")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/file")
        try AtomicFile.write("via link", to: dir + "/link")
        #expect(try String(contentsOfFile: dir + "/file", encoding: .utf8) == "new", "the link's target is untouched")
        #expect(try String(contentsOfFile: dir + "/link", encoding: .utf8) == "via link")
        #expect(FileManager.default.temporaryWriters(in: dir).isEmpty)
        // Appending to a FIFO (a log replaced by one) fails at once instead of waiting for a reader.
        #expect(throws: FileWriteError.self) { try AtomicFile.append(Data("row\n".utf8), to: dir + "/pipe") }
        try AtomicFile.append(Data("more".utf8), to: dir + "/file")
        #expect(try String(contentsOfFile: dir + "/file", encoding: .utf8) == "newmore")
    }

    /// `mkdir -p` that names the component in the way instead of Foundation's NSCocoaErrorDomain text.
    @Test func createDirectoryNamesTheComponentInTheWay() throws {
        let dir = try scratchDirectory("atomic"); defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.createDirectory(dir + "/a/b/c")
        try AtomicFile.createDirectory(dir + "/a/b/c") // exists: fine
        try AtomicFile.createDirectory(dir + "/a/./b//c/")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: dir + "/a/b/c", isDirectory: &isDirectory) && isDirectory.boolValue)
        try AtomicFile.write("x", to: dir + "/a/file")
        #expect(throws: FileWriteError(path: dir + "/a/file/out", reason: "cannot create the folder: \(dir)/a/file exists and is not a folder")) {
            try AtomicFile.createDirectory(dir + "/a/file/out")
        }
        #expect(throws: FileWriteError(path: dir + "/a/file/out/x.png", reason: "cannot create the folder: \(dir)/a/file exists and is not a folder")) {
            try AtomicFile.write("x", to: dir + "/a/file/out/x.png")
        }
    }
}

extension FileManager {
    /// Leftover `.NAME.tmp-PID` files in `directory`.
    func temporaryWriters(in directory: String) -> [String] {
        ((try? contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
    }
}
