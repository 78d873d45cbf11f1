import Autodiff
import Foundation
import TensorCore

/// Reading and writing the safetensors format, so checkpoints load unchanged in
/// PyTorch/numpy (`safetensors.numpy.load_file`).
///
/// Layout: an 8-byte little-endian header length N, an N-byte JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …,
/// "__metadata__": {"key": "value"}}`, then the raw little-endian data; offsets are
/// relative to the end of the header. Untangle writes F32 tensors in name order.
public enum Safetensors {
    /// A checkpoint problem, naming the file and (where it applies) the tensor.
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var path: String, problem: String
        public init(path: String, problem: String) { self.path = path; self.problem = problem }
        public var description: String { "\(path): \(problem)" }
    }

    /// Header size limit (100 MB), as in the reference implementation.
    static let maximumHeaderSize = 100_000_000

    /// The file's bytes for `tensors` and string `metadata`.
    public static func serialize(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail(FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such checkpoint file")
        }
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
            guard end - begin == 4 * shape.product else {
                throw fail("tensor '\(name)': shape \(shape) needs \(4 * shape.product) bytes, offsets span \(end - begin)")
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
