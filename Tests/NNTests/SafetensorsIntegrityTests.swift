import Foundation
import NN
import TensorCore
import Testing

/// Checksums in safetensors metadata: flipped bits are found and named, older files still load.
@Suite struct SafetensorsIntegrityTests {
    let tensors: [String: Tensor] = ["a.weight": Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]),
                                     "b.bias": Tensor(shape: [4], scalars: [0.5, -1, 2, 8])]

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("integrity-\(UUID())-\(name)").path
    }

    /// Known answers (FIPS 180-2 appendix B): "abc", the empty file, and a file of 3 MiB that
    /// spans several 1 MiB chunks and must hash as one buffer does; a missing file names itself.
    @Test func fileDigestsMatchKnownAnswersAcrossChunks() throws {
        let abc = temporary("abc")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: abc))
        #expect(try SHA256Hex.of(file: abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let empty = temporary("empty")
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(try SHA256Hex.of(file: empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let big = temporary("big")
        let bytes = Data((0..<(3 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) })
        try bytes.write(to: URL(fileURLWithPath: big))
        #expect(try SHA256Hex.of(file: big) == bytes.withUnsafeBytes { SHA256Hex.of($0) })
        expectFormatError("missing-file", "cannot be opened") { _ = try SHA256Hex.of(file: temporary("missing-file")) }
    }

    func expectFormatError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a FormatError containing \(fragments)", sourceLocation: sourceLocation)
        } catch let error as Safetensors.FormatError {
            for f in fragments { #expect(error.description.contains(f), "'\(error)' lacks '\(f)'", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("expected a FormatError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyFileCarriesChecksumsThatVerify() throws {
        let path = temporary("ok.safetensors")
        try Safetensors.write(tensors, metadata: ["step": "3"], to: path)
        let (read, metadata) = try Safetensors.read(path)
        #expect(read == tensors && metadata["step"] == "3")
        #expect(metadata["sha256"]?.count == 64 && metadata["sha256.a.weight"]?.count == 64 && metadata["sha256.b.bias"] != nil)
    }

    @Test func aFlippedBitInTheDataIsFoundAndNamed() throws {
        let path = temporary("flipped.safetensors")
        try Safetensors.write(tensors, to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0x10 // inside b.bias, the last tensor in name order
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectFormatError(path, "checksum mismatch in tensor 'b.bias'", "data bytes 24..<40") { _ = try Safetensors.read(path) }
    }

    @Test func aFileWithoutChecksumsStillLoads() throws {
        // As written before checksums (and by safetensors.numpy): no sha256 metadata.
        var header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        while header.utf8.count % 8 != 0 { header += " " }
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += [Float(1.5), -2].withUnsafeBytes { Array($0) }
        let path = temporary("legacy.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try Safetensors.read(path).tensors["w"] == Tensor(shape: [2], scalars: [1.5, -2]))
    }

    @Test func shapesThatOverflowAreRefused() throws {
        var header = #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        while header.utf8.count % 8 != 0 { header += " " }
        let bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        let path = temporary("overflow.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectFormatError(path, "more bytes than any file holds") { _ = try Safetensors.read(path) }
    }

    @Test func mutantsAreReadOrRefusedNeverCrash() throws {
        let path = temporary("mutant.safetensors")
        try Safetensors.write(tensors, to: path)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = RandomGenerator(seed: 11)
        var refused = 0
        for k in 0..<200 {
            var m = original
            if k % 4 == 3 { m = Array(m.prefix(Int(rng.next() % UInt64(m.count)))) } else {
                m[Int(rng.next() % UInt64(m.count))] ^= UInt8(1 << (rng.next() % 8))
            }
            try Data(m).write(to: URL(fileURLWithPath: path))
            do {
                let (read, _) = try Safetensors.read(path)
                #expect(read == tensors, "mutant \(k) read as different tensors without an error")
            } catch let error as Safetensors.FormatError {
                #expect(error.path == path)
                refused += 1
            }
        }
        #expect(refused > 150, "only \(refused) of 200 mutants refused")
    }
}
