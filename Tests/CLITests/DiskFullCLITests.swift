import Foundation
import TestSupport
import Testing

/// A full disk and a read-only one, as a user meets them: through the binary, with a file-size
/// limit (`ulimit -f`, SIGXFSZ ignored, so every write past it fails with EFBIG — no privileges
/// needed) and, where this process may mount, a real tmpfs that fills up (ENOSPC) and is then
/// remounted read-only (EROFS).
@Suite(.serialized) struct DiskFullCLITests {
    /// Runs `untangle arguments` with files limited to `blocks` × 512 bytes (dash's unit).
    func runLimited(_ blocks: Int, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Products.run(URL(fileURLWithPath: "/bin/sh"),
                         ["-c", "ulimit -f \(blocks); trap '' XFSZ; exec \"$0\" \"$@\"", CLI.binary.path] + arguments)
    }

    /// Every file under `directory` (relative paths) with its bytes.
    func contents(of directory: String) -> [String: Data] {
        var files: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: directory)
        while let relative = walker?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: directory + "/" + relative) { files[relative] = data }
        }
        return files
    }

    /// What a failed write may not leave: temporary files, and PNGs without their IEND chunk.
    func expectNoDebris(in directory: String, _ context: String) {
        let iend = Data([0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        for (name, data) in contents(of: directory) {
            #expect(!name.contains(".tmp-"), "\(context): leftover \(name)")
            if name.hasSuffix(".png") { #expect(data.suffix(8) == iend, "\(context): truncated \(name)") }
        }
    }

    @Test func aWriteThatFailsPartWayNamesTheFileAndLosesNothingFinished() throws {
        let (dir, run) = try CLI.tinyRun("fullreport", steps: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = contents(of: run).filter { !$0.key.hasPrefix(".lock") }
        for command in [["report", run], ["encode", run, "--count", "500"], ["traverse", run, "--steps", "3"]] {
            let (status, output) = try runLimited(4, command)
            #expect(status != 0, "\(command): \(output)")
            #expect(output.contains(run) && (output.contains("File too large") || output.contains("disk full")), "\(command): \(output)")
            #expect(!output.contains("USAGE") && !output.contains("NSCocoaErrorDomain"), "\(command): \(output)")
            expectNoDebris(in: run, "\(command)")
            let after = contents(of: run)
            for (name, data) in before { #expect(after[name] == data, "\(command) changed the finished \(name)") }
        }
        // With room again, the same command finishes.
        let (status, output) = try CLI.run(["report", run])
        #expect(status == 0, "\(output)")
        expectNoDebris(in: run, "report with room")
    }

    @Test func trainingThatCannotWriteItsCheckpointStopsCleanlyAndResumes() throws {
        let dir = try temporaryFolder("fulltrain")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try preemptConfig(in: dir, steps: 300) // checkpoints every 100 steps; a checkpoint is ≈ 3 MB
        let (status, output) = try runLimited(400, ["train", "--config", config, "--results", dir])
        #expect(status != 0 && output.contains("step-00000100.safetensors") && output.contains("File too large"), "\(output)")
        let run = dir + "/preempt/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/preempt").first))
        expectNoDebris(in: run, "train")
        let log = try String(contentsOfFile: run + "/log.csv", encoding: .utf8).split(separator: "\n")
        let width = log[0].split(separator: ",").count
        #expect(log.allSatisfy { $0.split(separator: ",").count == width }, "a half-written log row")
        let (resumed, resumeOutput) = try CLI.run(["train", "--config", config, "--results", dir, "--resume"])
        #expect(resumed == 0 && FileManager.default.fileExists(atPath: run + "/model.safetensors"), "\(resumeOutput)")
    }

    /// Whether this process may mount a tmpfs (root in a container that allows it).
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-mount-probe-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard shell("mount -t tmpfs -o size=64k tmpfs '\(probe)'") == 0 else { return false }
        return shell("umount '\(probe)'") == 0
    }()

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " >/dev/null 2>&1"]
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: DiskFullCLITests.canMount, "needs permission to mount a tmpfs"))
    func aRealFullDiskThenAReadOnlyOneGetClearMessages() throws {
        let (dir, run) = try CLI.tinyRun("fulldisk", steps: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mountPoint = dir + "/disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(Self.shell("mount -t tmpfs -o size=2m tmpfs '\(mountPoint)'") == 0)
        defer { Self.shell("umount '\(mountPoint)'") }
        let copy = mountPoint + "/run"
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        // Fill the disk but for a few kilobytes.
        #expect(Self.shell("head -c $(( $(df -k --output=avail '\(mountPoint)' | tail -1) * 1024 - 16384 )) /dev/zero > '\(mountPoint)/filler'") == 0)
        let before = contents(of: copy).filter { !$0.key.hasPrefix(".lock") }
        let (full, fullOutput) = try CLI.run(["report", copy])
        #expect(full != 0 && fullOutput.contains(copy) && (fullOutput.contains("No space left") || fullOutput.contains("disk full")), "\(fullOutput)")
        expectNoDebris(in: copy, "report on a full disk")
        let after = contents(of: copy)
        for (name, data) in before { #expect(after[name] == data, "a full disk changed the finished \(name)") }

        #expect(Self.shell("rm -f '\(mountPoint)/filler' && mount -o remount,ro '\(mountPoint)'") == 0)
        for command in [["report", copy], ["evaluate", copy, "--metrics", "mig"]] {
            let (status, output) = try CLI.run(command)
            #expect(status != 0 && output.contains("Read-only file system") && output.contains(copy), "\(command): \(output)")
            #expect(!output.contains("another process"), "\(command) mistook a read-only disk for a busy run: \(output)")
        }
    }
}
