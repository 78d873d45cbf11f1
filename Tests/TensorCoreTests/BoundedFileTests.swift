import Foundation
import TensorCore
import Testing

/// `BoundedFile`: whole-file reads that refuse what is not a regular file or is too large,
/// before allocating, with the file named.
struct BoundedFileTests {
    @Test func readsAFileWholeAtAndBelowTheLimit() throws {
        let dir = try scratchDirectory("bounded"); defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Data((0..<5000).map { UInt8($0 % 251) })
        try bytes.write(to: URL(fileURLWithPath: dir + "/a.bin"))
        #expect(try BoundedFile.read(dir + "/a.bin", limit: 5000) == bytes)
        #expect(try BoundedFile.regularFileSize(dir + "/a.bin") == 5000)
        try Data().write(to: URL(fileURLWithPath: dir + "/empty"))
        #expect(try BoundedFile.read(dir + "/empty", limit: 0) == Data())
    }

    @Test func refusesAFileAboveTheLimitNamingItsSize() throws {
        let dir = try scratchDirectory("bounded"); defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: dir + "/big.toml"))
        #expect(throws: FileReadError(path: dir + "/big.toml",
                                      problem: "is 3.0 MiB, more than the 1.0 MiB allowed for this kind of file (wrong file?)")) {
            try BoundedFile.read(dir + "/big.toml", limit: BoundedFile.Limit.config)
        }
    }

    @Test func missingFilesAreNilOrTheCallersMessage() throws {
        let dir = try scratchDirectory("bounded"); defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try BoundedFile.readIfPresent(dir + "/none", limit: 10) == nil)
        #expect(try BoundedFile.readIfPresent(dir + "/none/deeper", limit: 10) == nil)
        #expect(throws: FileReadError(path: dir + "/none", problem: "no such config file")) {
            try BoundedFile.read(dir + "/none", limit: 10, missing: "no such config file")
        }
        #expect(BoundedFile.optionalText(dir + "/none") == nil)
    }

    @Test func refusesDirectoriesPipesAndDevicesWithoutBlocking() throws {
        let dir = try scratchDirectory("bounded"); defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FileReadError(path: dir, problem: "is a directory, not a file to read")) {
            try BoundedFile.read(dir, limit: 1 << 20)
        }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        // Reading a FIFO with no writer would block for ever; it is refused at once.
        #expect(throws: FileReadError.self) { try BoundedFile.read(dir + "/fifo", limit: 1 << 20) }
        // /dev/zero never ends: refused, not read until memory runs out.
        #expect(throws: FileReadError.self) { try BoundedFile.read("/dev/zero", limit: 1 << 20) }
        #expect(BoundedFile.optionalText("/dev/zero") == nil)
    }

    @Test func theCallersErrorTypeCarriesThePathAndProblem() throws {
        struct Mine: Error, Equatable { var path: String, problem: String }
        let dir = try scratchDirectory("bounded"); defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(count: 11).write(to: URL(fileURLWithPath: dir + "/x"))
        #expect(throws: Mine(path: dir + "/x", problem: "is 11 bytes, more than the 10 bytes allowed for this kind of file (wrong file?)")) {
            try BoundedFile.read(dir + "/x", limit: 10, as: Mine.init)
        }
        #expect(throws: Mine(path: dir + "/y", problem: "no such file")) { try BoundedFile.read(dir + "/y", limit: 10, as: Mine.init) }
    }
}
