import Crypto
import Foundation

/// Lower-case hexadecimal SHA-256 digests (FIPS 180-4, computed by swift-crypto): of a byte
/// buffer, of a running digest, or of a whole file read in 1 MiB chunks (constant memory,
/// whatever the file's size). The one place Untangle turns digests into text: safetensors
/// checksums and `run.json`'s `executable_sha256` use it.
public enum SHA256Hex {
    /// The 64-character hex digest of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> String { hex(SHA256.hash(data: bytes)) }

    /// The 64-character hex digest of a finished digest.
    public static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    /// The 64-character hex digest of the file at `path`; throws `Safetensors.FormatError`
    /// naming the file when it cannot be opened or read.
    public static func of(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Safetensors.FormatError(path: path, problem: "cannot be opened for reading")
        }
        defer { try? handle.close() }
        var digest = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { digest.update(data: chunk) }
        } catch {
            throw Safetensors.FormatError(path: path, problem: "cannot be read (\(error.localizedDescription))")
        }
        return hex(digest.finalize())
    }
}
