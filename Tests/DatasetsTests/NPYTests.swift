import Datasets
import Foundation
import Testing

func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// Expects `body` to throw a `DataError` whose message contains every fragment.
func expectDataError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a DataError containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as DataError {
        for f in fragments {
            #expect(error.description.contains(f), "'\(error.description)' lacks '\(f)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a DataError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct NPYTests {
    @Test func readsEachSupportedDtype() throws {
        let u1 = try NPYArray.read(fixture("u1.npy"))
        #expect(u1.dtype == .uint8 && u1.shape == [2, 3] && u1.doubles() == [0, 1, 2, 3, 4, 5])
        let i8 = try NPYArray.read(fixture("i8.npy"))
        #expect(i8.dtype == .int64 && i8.shape == [4])
        #expect(try i8.integers(source: "i8") == [-3, 0, 7, 1 << 40])
        let f4 = try NPYArray.read(fixture("f4.npy"))
        #expect(f4.shape == [2, 2] && f4.doubles() == [0.5, -1.25, 3.0, Double(Float(1e-3))])
        let f8 = try NPYArray.read(fixture("f8.npy"))
        #expect(f8.doubles() == [0, 0.25, 0.5, 0.75, 1])
        #expect(try NPYArray.read(fixture("v2.npy")).doubles() == [0, 1, 2, 3])
        let scalar = try NPYArray.read(fixture("scalar_shape.npy"))
        #expect(scalar.shape == [] && scalar.doubles() == [2.5])
    }

    @Test func rejectsMalformedFilesWithClearErrors() {
        expectDataError("big_endian.npy", "big-endian") { _ = try NPYArray.read(fixture("big_endian.npy")) }
        expectDataError("fortran.npy", "Fortran") { _ = try NPYArray.read(fixture("fortran.npy")) }
        expectDataError("complex.npy", "unsupported dtype '<c8'") { _ = try NPYArray.read(fixture("complex.npy")) }
        expectDataError("truncated.npy", "truncated data") { _ = try NPYArray.read(fixture("truncated.npy")) }
        expectDataError("bad_header.npy", "bad .npy header") { _ = try NPYArray.read(fixture("bad_header.npy")) }
        expectDataError("not_npy.npy", "not a .npy file") { _ = try NPYArray.read(fixture("not_npy.npy")) }
        expectDataError("nowhere.npy", "no such file") { _ = try NPYArray.read(fixture("nowhere.npy")) }
        expectDataError("i8", "expected an integer array") { _ = try NPYArray(float32: [1], shape: [1]).integers(source: "i8") }
    }

    @Test func writtenFilesReadBack() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("untangle-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let array = NPYArray(float32: [1, 2, 3, 4, 5, 6], shape: [3, 2])
        try array.write(to: path)
        #expect(try NPYArray.read(path) == array)
        #expect((array.serialized().count - 24) % 64 == 0, "header padded to a multiple of 64")
    }
}

@Suite struct NPZTests {
    @Test func readsCompressedAndStoredArchivesAndSkipsPickles() throws {
        for name in ["mini_dsprites.npz", "mini_dsprites_stored.npz"] {
            let archive = try ZipArchive(path: fixture(name))
            let imgs = try archive.array("imgs")
            #expect(imgs.dtype == .uint8 && imgs.shape == [48, 64, 64])
            #expect(try archive.array("latents_classes.npy").shape == [48, 6])
        }
        // The pickled metadata member is an object array: it exists but is never parsed by loaders.
        let archive = try ZipArchive(path: fixture("mini_dsprites.npz"))
        #expect(archive.entries["metadata.npy"] != nil)
        expectDataError("metadata.npy", "unsupported dtype") { _ = try archive.array("metadata") }
    }

    @Test func rejectsCorruptArchives() {
        expectDataError("truncated.npz") { _ = try ZipArchive(path: fixture("truncated.npz")).array("imgs") }
        expectDataError("corrupt_crc.npz", "imgs") { _ = try ZipArchive(path: fixture("corrupt_crc.npz")).array("imgs") }
        expectDataError("f8.npy", "not a zip/npz archive") { _ = try ZipArchive(path: fixture("f8.npy")) }
        expectDataError("no member 'nope'") { _ = try ZipArchive(path: fixture("mini_dsprites.npz")).read("nope") }
    }
}
