import Autodiff
import Crypto
import Foundation
import TensorCore

/// Reading and writing the safetensors format, so checkpoints load unchanged in
/// PyTorch/numpy (`safetensors.numpy.load_file`).
///
/// Layout: an 8-byte little-endian header length N, an N-byte JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …,
/// "__metadata__": {"key": "value"}}`, then the raw little-endian data; offsets are
/// relative to the end of the header. Untangle writes F32 tensors in name order.
///
/// Integrity: the metadata carries the SHA-256 of the whole data section (`sha256`), of
/// each tensor's bytes (`sha256.<name>`) and of the header's layout and other metadata
/// (`sha256.__layout__`); ``read(_:)`` verifies them and names the tensor and
/// byte range that fails, so flipped bits in a checkpoint are never trained on. Files without
/// them (written before checksums, or by other tools) load with a note on standard error.
public enum Safetensors {
    /// A checkpoint problem, naming the file and (where it applies) the tensor.
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var path: String, problem: String
        public init(path: String, problem: String) { self.path = path; self.problem = problem }
        public var description: String { "\(path): \(problem)" }
    }

    /// Header size limit (100 MB), as in the reference implementation.
    static let maximumHeaderSize = 100_000_000

    /// Metadata key of the data section's SHA-256 (lower-case hex).
    public static let checksumKey = "sha256"

    /// Metadata key of the SHA-256 of the tensor layout (names, shapes, offsets), so a flipped
    /// bit in the header's names or shapes is caught too.
    public static let layoutKey = "sha256.__layout__"

    /// SHA-256 of one line per tensor, sorted by name: `name F32 d0,d1,… begin end`, then one
    /// line per metadata entry other than the checksums, sorted by key: `key=value`.
    static func layoutDigest(_ entries: [(name: String, shape: [Int], offsets: [Int])], metadata: [String: String]) -> String {
        let tensorLines = entries.sorted { $0.name < $1.name }
            .map { "\($0.name) F32 \($0.shape.map(String.init).joined(separator: ",")) \($0.offsets.map(String.init).joined(separator: " "))" }
        let metadataLines = metadata.keys.filter { !$0.hasPrefix(checksumKey) }.sorted().map { "\($0)=\(metadata[$0]!)" }
        return Data((tensorLines + metadataLines).joined(separator: "\n").utf8).withUnsafeBytes { sha256($0) }
    }

    /// Lower-case hex SHA-256 of `bytes`.
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        SHA256Hex.of(bytes)
    }

    /// The file's bytes for `tensors` and string `metadata` (plus the checksums).
    public static func serialize(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var metadata = metadata.filter { !$0.key.hasPrefix(checksumKey) } // stale checksums are recomputed
        var offset = 0
        var whole = SHA256()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
            t.scalars.withUnsafeBytes { bytes in
                metadata["\(checksumKey).\(name)"] = sha256(bytes)
                whole.update(bufferPointer: bytes)
            }
        }
        metadata[checksumKey] = SHA256Hex.hex(whole.finalize())
        metadata[layoutKey] = layoutDigest(names.map { name in
            let t = tensors[name]!
            return (name, t.shape, header[name].flatMap { ($0 as? [String: Any])?["data_offsets"] as? [Int] } ?? [])
        }, metadata: metadata)
        header["__metadata__"] = metadata
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to a multiple of 8 so the data is aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            tensors[name]!.scalars.withUnsafeBytes { data.append(contentsOf: $0) } // x86/ARM are little-endian
        }
        return data
    }

    /// Writes atomically: a temporary file in the same directory, flushed, then renamed
    /// over `path`, so a crash or a full disk never leaves a half-written checkpoint.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(serialize(tensors, metadata: metadata), to: path)
    }

    /// Reads and validates a safetensors file: header size, JSON, dtypes (F32 only),
    /// shapes, and that the data offsets tile the data section exactly.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ problem: String) -> FormatError { FormatError(path: path, problem: problem) }
        let data = try BoundedFile.read(path, limit: BoundedFile.Limit.tensors, missing: "no such checkpoint file", as: FormatError.init(path:problem:))
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength > 0, headerLength <= maximumHeaderSize else { throw fail("bad header length \(headerLength)") }
        guard 8 + headerLength <= data.count else {
            throw fail("truncated: header claims \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: 8..<(8 + headerLength))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + headerLength, dataLength = data.count - dataStart
        var metadata: [String: String] = [:]
        var spans: [(begin: Int, end: Int, name: String)] = []
        var tensors: [String: Tensor] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)': entry needs dtype, shape and data_offsets [begin, end]")
            }
            guard dtype == "F32" else { throw fail("tensor '\(name)': dtype \(dtype) is not supported (F32 only)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)': negative dimension in shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data section (truncated file?)")
            }
            guard let bytes = shape.checkedByteCount(elementSize: 4), end - begin == bytes else {
                let needs = shape.checkedByteCount(elementSize: 4).map { "\($0) bytes" } ?? "more bytes than any file holds"
                throw fail("tensor '\(name)': shape \(shape) needs \(needs), offsets span \(end - begin)")
            }
            spans.append((begin, end, name))
        }
        spans.sort { $0.begin < $1.begin }
        var expected = 0
        for span in spans {
            guard span.begin == expected else {
                throw fail("tensor '\(span.name)': data_offsets overlap or leave a gap at byte \(expected)")
            }
            expected = span.end
        }
        guard expected == dataLength else { throw fail("\(dataLength - expected) bytes of data belong to no tensor") }
        let shapes = Dictionary(uniqueKeysWithValues: spans.map { ($0.name, (header[$0.name] as! [String: Any])["shape"] as! [Int]) })
        try verifyChecksums(data, dataStart: dataStart, spans: spans, shapes: shapes, metadata: metadata, path: path)
        for span in spans {
            let shape = (header[span.name] as! [String: Any])["shape"] as! [Int]
            let count = shape.product
            let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                data.withUnsafeBytes { raw in
                    let source = UnsafeRawBufferPointer(rebasing: raw[(dataStart + span.begin)..<(dataStart + span.end)])
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
                }
                initialized = count
            }
            tensors[span.name] = Tensor(shape: shape, scalars: scalars)
        }
        return (tensors, metadata)
    }

    /// Checks `sha256.<name>` for every tensor and `sha256` for the whole data section; throws
    /// naming the first tensor (and its byte range) whose bytes differ. Without checksums,
    /// prints a note once per file.
    static func verifyChecksums(_ data: Data, dataStart: Int, spans: [(begin: Int, end: Int, name: String)],
                                shapes: [String: [Int]], metadata: [String: String], path: String) throws {
        guard let expectedWhole = metadata[checksumKey] else {
            if metadata.keys.contains(where: { $0.hasPrefix(checksumKey + ".") }) { // per-tensor checksums without the whole one
                throw FormatError(path: path, problem: "the metadata lost its '\(checksumKey)' entry but keeps per-tensor checksums: the header is corrupt")
            }
            FileHandle.standardError.write(Data("note: \(path) carries no checksum (written before checksums were added, or by another tool); loaded unverified\n".utf8))
            return
        }
        let names = Set(spans.map(\.name))
        let checksummed = Set(metadata.keys.filter { $0.hasPrefix(checksumKey + ".") && $0 != layoutKey }.map { String($0.dropFirst(checksumKey.count + 1)) })
        guard checksummed == names else {
            let odd = checksummed.symmetricDifference(names).sorted().prefix(3).joined(separator: ", ")
            throw FormatError(path: path, problem: "the header's tensor names do not match its checksums (\(odd)): the file is corrupt")
        }
        if let expectedLayout = metadata[layoutKey] {
            let layout = spans.map { ($0.name, shapes[$0.name] ?? [], [$0.begin, $0.end]) }
            guard layoutDigest(layout, metadata: metadata) == expectedLayout else {
                throw FormatError(path: path, problem: "checksum mismatch in the header (tensor shapes, offsets or metadata): the file is corrupt")
            }
        }
        try data.withUnsafeBytes { raw in
            for span in spans {
                guard let expected = metadata["\(checksumKey).\(span.name)"] else { continue }
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + span.begin)..<(dataStart + span.end)])
                guard sha256(bytes) == expected else {
                    throw FormatError(path: path, problem: "checksum mismatch in tensor '\(span.name)' (data bytes \(span.begin)..<\(span.end) of the data section, file offset \(dataStart + span.begin)): the file is corrupt")
                }
            }
            guard sha256(UnsafeRawBufferPointer(rebasing: raw[dataStart...])) == expectedWhole else {
                throw FormatError(path: path, problem: "checksum mismatch in the data section (bytes \(dataStart)..<\(raw.count)): the file is corrupt")
            }
        }
    }

    /// Copies tensors into `parameters` by name, checking that every parameter is present
    /// with its exact shape before changing any of them.
    public static func load(_ tensors: [String: Tensor], into parameters: [Parameter], path: String) throws {
        for p in parameters {
            guard let t = tensors[p.name] else {
                throw FormatError(path: path, problem: "tensor '\(p.name)' is missing (the checkpoint is for a different model?)")
            }
            guard t.shape == p.value.shape else {
                throw FormatError(path: path, problem: "tensor '\(p.name)' has shape \(t.shape), the model expects \(p.value.shape)")
            }
            if t.hasNonFinite { throw FormatError(path: path, problem: "tensor '\(p.name)' holds NaN or infinite values") }
        }
        for p in parameters { p.value = tensors[p.name]! }
    }
}
