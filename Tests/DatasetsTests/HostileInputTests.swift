import Datasets
import Foundation
import ImageIO
import TensorCore
import Testing

/// Peak resident memory of this process so far, bytes (`getrusage`; Linux reports KiB).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

/// Runs `body` and expects it to raise the process's peak resident memory by less than `limit`
/// bytes: a header that lies about a size must be refused before it is allocated.
func expectBoundedMemory(_ limit: Int = 512 << 20, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) rethrows {
    let before = peakResidentBytes()
    try body()
    let grown = peakResidentBytes() - before
    #expect(grown < limit, "peak resident memory grew by \(grown >> 20) MiB", sourceLocation: sourceLocation)
}

/// A one-member ZIP archive written by hand, so each size field can lie.
struct HandmadeZip {
    var name = "a.npy"
    var payload: [UInt8]
    var method: UInt16 = 0
    var crc: UInt32 = 0
    var claimedCompressed: UInt32? = nil, claimedUncompressed: UInt32? = nil
    /// ZIP64 extra field values (uncompressed, compressed), written when the 32-bit fields say 0xFFFFFFFF.
    var zip64: (uncompressed: UInt64, compressed: UInt64)? = nil
    var claimedCount: UInt16? = nil

    func bytes() -> [UInt8] {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
        let nameBytes = Array(name.utf8)
        let compressed = zip64 != nil ? 0xFFFF_FFFF : (claimedCompressed ?? UInt32(payload.count))
        let uncompressed = zip64 != nil ? 0xFFFF_FFFF : (claimedUncompressed ?? UInt32(payload.count))
        let extra = zip64.map { le16(1) + le16(16) + le64($0.uncompressed) + le64($0.compressed) } ?? []
        var out = le32(0x0403_4B50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
        out += le32(compressed) + le32(uncompressed) + le16(UInt16(nameBytes.count)) + le16(0) + nameBytes + payload
        let directory = out.count
        out += le32(0x0201_4B50) + le16(45) + le16(45) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
        out += le32(compressed) + le32(uncompressed) + le16(UInt16(nameBytes.count)) + le16(UInt16(extra.count)) + le16(0)
        out += le16(0) + le16(0) + le32(0) + le32(0) + nameBytes + extra
        let directorySize = out.count - directory
        let count = claimedCount ?? 1
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(count) + le16(count) + le32(UInt32(directorySize)) + le32(UInt32(directory)) + le16(0)
        return out
    }

    func write(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID())-\(name)").path
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A valid PNG of `width × height` grey pixels, with its IHDR then rewritten to claim `claimed`
/// (CRC recomputed, so only the size lies).
func pngClaiming(width: Int, height: Int, claimed: (Int, Int)) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID()).png").path
    try PNGFile.write(RasterImage(width: width, height: height, channels: 1, pixels: [UInt8](repeating: 7, count: width * height)), to: path)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    // signature (8) + length (4) + "IHDR" (4): width at 16, height at 20, CRC over type+data at 29.
    for (offset, value) in [(16, claimed.0), (20, claimed.1)] {
        for k in 0..<4 { bytes[offset + k] = UInt8((value >> (8 * (3 - k))) & 0xFF) }
    }
    var crc = UInt32(0xFFFF_FFFF)
    for byte in bytes[12..<29] {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    for k in 0..<4 { bytes[29 + k] = UInt8((crc >> (8 * (3 - k))) & 0xFF) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite struct HostileInputTests {
    let npy = NPYArray(float32: [1, 2, 3, 4], shape: [2, 2]).serialized()

    @Test func zipMemberClaimingGigabytesIsRefusedBeforeAllocation() throws {
        // A stored member whose sizes say 4 GB but whose data is 144 bytes.
        let path = try HandmadeZip(payload: npy, claimedCompressed: 4_000_000_000, claimedUncompressed: 4_000_000_000).write("claims4g.npz")
        try expectBoundedMemory {
            expectDataError("claims4g.npz", "a.npy") { _ = try ZipArchive(path: path).read("a.npy") }
        }
        // A deflated member claiming 4 GB from a few bytes: more than deflate can produce.
        let deflated = try HandmadeZip(payload: [0x03, 0x00], method: 8, claimedCompressed: 2, claimedUncompressed: 4_000_000_000).write("ratio.npz")
        try expectBoundedMemory {
            expectDataError("ratio.npz", "more than deflate can produce") { _ = try ZipArchive(path: deflated).read("a.npy") }
        }
    }

    @Test func zip64SizesBeyondTheBudgetOrNegativeAreRefused() throws {
        let huge = try HandmadeZip(payload: npy, zip64: (200_000_000_000, 200_000_000_000)).write("zip64-200g.npz")
        try expectBoundedMemory {
            expectDataError("zip64-200g.npz") { _ = try ZipArchive(path: huge).read("a.npy") }
        }
        // 2^63 + 5 reads as a negative Int: refused when the directory is read, never used as a size.
        let negative = try HandmadeZip(payload: npy, zip64: (UInt64(1) << 63 | 5, UInt64(1) << 63 | 5)).write("zip64-negative.npz")
        expectDataError("zip64-negative.npz", "corrupt ZIP64 sizes") { _ = try ZipArchive(path: negative) }
        // An end record claiming 60,000 members in a 200-byte archive.
        let count = try HandmadeZip(payload: npy, claimedCount: 60_000).write("count.npz")
        expectDataError("count.npz", "60000 members cannot fit") { _ = try ZipArchive(path: count) }
    }

    @Test func deflateThatEndsEarlyIsAnErrorNotAnAllocation() throws {
        // An honest ratio (1 KB claimed from 2 bytes would be fine) but a stream that yields nothing.
        let path = try HandmadeZip(payload: [0x03, 0x00], method: 8, claimedCompressed: 2, claimedUncompressed: 1000).write("short.npz")
        expectDataError("short.npz", "deflate data is corrupt or truncated") { _ = try ZipArchive(path: path).read("a.npy") }
    }

    @Test func npyShapesThatOverflowOrExceedTheFileAreRefused() throws {
        var overflow: [UInt8] = [0x93] + Array("NUMPY".utf8)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        header += String(repeating: " ", count: 117 - header.utf8.count) + "\n"
        overflow += [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + [0, 0, 0, 0]
        var bytes = overflow
        expectDataError("more elements than any file can hold") { _ = try NPYArray.parse(&bytes, source: "overflow.npy") }
        var huge = Array(overflow.prefix(10)) + Array(header.replacingOccurrences(of: "(4294967296, 4294967296)", with: "(1000000, 1000000)      ").utf8) + [0, 0, 0, 0]
        try expectBoundedMemory {
            expectDataError("truncated data") { _ = try NPYArray.parse(&huge, source: "huge.npy") }
        }
    }

    @Test func pngHeaderClaimingAGiantImageIsRefused() throws {
        let path = try pngClaiming(width: 8, height: 8, claimed: (100_000, 100_000))
        try expectBoundedMemory {
            do {
                _ = try PNGFile.read(path)
                Issue.record("a 100000×100000 header in a tiny file was read")
            } catch let error as ImageIOError {
                #expect(error.description.contains(path) && error.description.contains("100000×100000"), "\(error)")
            }
        }
        // The same lie inside an image folder names the file.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-folder-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: folder + "/giant.png")
        expectDataError("giant.png", "100000×100000") { _ = try ImageFolder(directory: folder) }
    }

    @Test func conflictingCSVRowsForOneImageAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["a.png", "b.png"] {
            try PNGFile.write(RasterImage(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 9, count: 16)), to: folder + "/" + name)
        }
        try "file,label\na.png,0\nb.png,1\na.png,1\n".write(toFile: folder + "/labels.csv", atomically: true, encoding: .utf8)
        expectDataError("labels.csv", "lines 2 and 4", "a.png") {
            _ = try ImageFolder(directory: folder, labelsCSV: folder + "/labels.csv", labelColumn: "label")
        }
        // An identical repeated row is harmless.
        try "file,label\na.png,0\nb.png,1\na.png,0\n".write(toFile: folder + "/labels.csv", atomically: true, encoding: .utf8)
        #expect(try ImageFolder(directory: folder, labelsCSV: folder + "/labels.csv", labelColumn: "label").labelNames == ["0", "1"])
    }

    @Test func csvNamesImagesInSubfoldersAndDifferentCase() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("folder-sub-\(UUID())").path
        for name in ["scans/A.png", "scans/b.png", "other/c.PNG", ".hidden/d.png"] {
            try PNGFile.write(RasterImage(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 5, count: 16)), to: folder + "/" + name)
        }
        try "file,label\n./scans/a.png,0\nscans\\B.png,1\nother/c.PNG,1\n".write(toFile: folder + "/labels.csv", atomically: true, encoding: .utf8)
        let data = try ImageFolder(directory: folder, labelsCSV: folder + "/labels.csv", labelColumn: "label")
        #expect(data.files == ["other/c.PNG", "scans/A.png", "scans/b.png"], "hidden folders skipped, sub-folders read")
        #expect((0..<3).map(data.label(of:)) == [1, 0, 1])
        // Two files that differ only in case make a case-insensitive name ambiguous.
        try PNGFile.write(RasterImage(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 5, count: 16)), to: folder + "/scans/a.png")
        try "file,label\nSCANS/A.PNG,0\nscans/a.png,0\nscans/b.png,1\nother/c.PNG,1\n".write(toFile: folder + "/labels.csv", atomically: true, encoding: .utf8)
        expectDataError("labels.csv", "matches scans/A.png and scans/a.png") {
            _ = try ImageFolder(directory: folder, labelsCSV: folder + "/labels.csv", labelColumn: "label")
        }
    }

    @Test func aLargeFolderIsReadLazilyWithTheSameImages() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("folder-lazy-\(UUID())").path
        var rng = RandomGenerator(seed: 2)
        for k in 0..<12 { // grey and RGB mixed: all become RGB
            let channels = k % 3 == 0 ? 3 : 1
            let pixels = (0..<(20 * 16 * channels)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            try PNGFile.write(RasterImage(width: 20, height: 16, channels: channels, pixels: pixels), to: folder + "/img-\(k).png")
        }
        let eager = try ImageFolder(directory: folder, resize: true, size: 8)
        let lazy = try ImageFolder(directory: folder, resize: true, size: 8, residentLimit: 0)
        #expect(!eager.isLazy && lazy.isLazy && lazy.imageShape == [3, 8, 8] && eager.imageShape == lazy.imageShape)
        #expect(eager.images(Array(0..<12)) == lazy.images(Array(0..<12)))
    }

    @Test func dataStopActionsRunInOrderOnceRegisteredAndNotAfterRemoval() {
        final class Seen: @unchecked Sendable { var lines: [String] = [] }
        let seen = Seen(), actions = DataStop.Actions()
        let first = actions.register { seen.lines.append("first: \($0)") }
        let second = actions.register { seen.lines.append("second: \($0.problem)") }
        actions.run(DataError("/data/a.png", "gone"))
        #expect(seen.lines == ["first: /data/a.png: gone", "second: gone"])
        actions.remove(first)
        actions.remove(first + second + 1) // unknown: ignored
        actions.run(DataError("/data/b.png", "resized"))
        #expect(seen.lines.last == "second: resized" && seen.lines.count == 3)
        actions.remove(second)
        actions.run(DataError("/data/c.png", "gone"))
        #expect(seen.lines.count == 3)
    }

    @Test func memoryBudgetParsesUnits() {
        #expect(MemoryBudget.parse("8G") == 8 << 30 && MemoryBudget.parse("512m") == 512 << 20 && MemoryBudget.parse("1000") == 1000)
        #expect(MemoryBudget.parse("lots") == nil && MemoryBudget.parse("-1G") == nil && MemoryBudget.parse(nil) == nil)
        #expect(MemoryBudget.excess(10, limit: 100) == nil && MemoryBudget.excess(200, limit: 100)?.contains("memory budget") == true)
        #expect([1 << 40, 1 << 40].checkedProduct == nil && [3, -1].checkedProduct == nil && [2, 3, 4].checkedProduct == 24)
    }
}

/// Mutation-style fuzzing: seeded byte flips and truncations of valid files. Every reader must
/// either read the file or throw its own error naming the file — never crash, hang or allocate
/// without bound. Bounded: a fixed number of cases per reader, deterministic per seed.
@Suite struct MutationFuzzTests {
    /// `count` mutants of `bytes`: 1–4 random byte changes, or a truncation (every fourth).
    static func mutants(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { k in
            var m = bytes
            if k % 4 == 3 {
                m = Array(m.prefix(Int(rng.next() % UInt64(m.count))))
            } else {
                for _ in 0...(Int(rng.next() % 4)) {
                    m[Int(rng.next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            return m
        }
    }

    /// Writes each mutant to a temporary file and calls `read`; errors of the expected kinds pass.
    static func fuzz(_ original: String, count: Int = 150, seed: UInt64, read: (String) throws -> Void) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID())-" + (original as NSString).lastPathComponent).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try expectBoundedMemory(1 << 30) {
            for mutant in mutants(of: bytes, count: count, seed: seed) {
                try Data(mutant).write(to: URL(fileURLWithPath: path))
                do { try read(path) } catch let error as DataError {
                    #expect(error.source.contains(path), "\(error)")
                } catch let error as ImageIOError {
                    #expect(error.description.contains(path), "\(error)")
                }
            }
        }
    }

    @Test func npyMutants() throws {
        try MutationFuzzTests.fuzz(fixture("f4.npy"), seed: 1) { _ = try NPYArray.read($0) }
        try MutationFuzzTests.fuzz(fixture("v2.npy"), seed: 2) { _ = try NPYArray.read($0) }
    }

    @Test func npzMutants() throws {
        try MutationFuzzTests.fuzz(fixture("mini_dsprites.npz"), count: 120, seed: 3) { _ = try DSpritesFile(path: $0) }
        try MutationFuzzTests.fuzz(fixture("mini_dsprites_stored.npz"), count: 120, seed: 4) { _ = try DSpritesFile(path: $0) }
    }

    @Test func pngMutants() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-source-\(UUID()).png").path
        try PNGFile.write(RasterImage(width: 16, height: 12, channels: 3, pixels: (0..<(16 * 12 * 3)).map { UInt8($0 % 251) }), to: path)
        try MutationFuzzTests.fuzz(path, count: 200, seed: 5) { _ = try PNGFile.read($0) }
    }

    @Test func csvMutants() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-csv-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["a.png", "b.png", "c.png"] {
            try PNGFile.write(RasterImage(width: 4, height: 4, channels: 1, pixels: [UInt8](repeating: 3, count: 16)), to: folder + "/" + name)
        }
        let csv = folder + "/source.csv"
        try "file,label,size\na.png,benign,3.5\nb.png,malignant,9\n\"c.png\",benign,4\n".write(toFile: csv, atomically: true, encoding: .utf8)
        try MutationFuzzTests.fuzz(csv, count: 150, seed: 6) { path in
            _ = try ImageFolder(directory: folder, labelsCSV: path, labelColumn: "label")
        }
    }
}
