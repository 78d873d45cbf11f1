import Foundation
import TensorCore

/// An n-dimensional array read from (or written to) NumPy's `.npy` format.
///
/// Format (NEP 1): magic `\x93NUMPY`, version (1.0: 2-byte header length; 2.0/3.0:
/// 4-byte), then an ASCII Python dict `{'descr': '<f8', 'fortran_order': False,
/// 'shape': (N, 6), }` padded with spaces to a multiple of 64 bytes, then the raw
/// little-endian data in C order. Supported dtypes: `u1`, `i8`, `f4`, `f8` (also `i4`, `b1`).
public struct NPYArray: Equatable, Sendable {
    /// Element types Untangle reads.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "u1", bool = "b1", int32 = "i4", int64 = "i8", float32 = "f4", float64 = "f8"
        /// Bytes per element.
        public var size: Int {
            switch self {
            case .uint8, .bool: return 1
            case .int32, .float32: return 4
            case .int64, .float64: return 8
            }
        }
        /// NumPy's descr string (little-endian).
        public var descr: String { size == 1 ? "|\(rawValue)" : "<\(rawValue)" }
    }

    /// Element type.
    public var dtype: DType
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Raw little-endian element bytes, C order.
    public var bytes: [UInt8]

    /// An array of `dtype` and `shape` over raw little-endian `bytes`.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.size, "NPYArray: \(bytes.count) bytes for \(shape) of \(dtype)")
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Parses `.npy` bytes; `source` names the file in errors. The data bytes are moved out of
    /// `data` without copying the (possibly gigabytes of) payload twice.
    public static func parse(_ data: inout [UInt8], source: String) throws -> NPYArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard data.count >= 10, Array(data[0..<6]) == magic else {
            throw DataError(source, "not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = data[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw DataError(source, "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw DataError(source, "unsupported .npy format version \(major).\(data[7])")
        }
        guard data.count >= headerStart + headerLength else {
            throw DataError(source, "truncated .npy header (needs \(headerLength) bytes, file has \(data.count - headerStart))")
        }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let (dtype, shape) = try parseHeader(header, source: source)
        guard let expected = shape.checkedByteCount(elementSize: dtype.size) else {
            throw DataError(source, "bad .npy header: shape \(shape) has more elements than any file can hold")
        }
        let available = data.count - headerStart - headerLength
        guard available >= expected else {
            throw DataError(source, "truncated data: shape \(shape) of \(dtype.descr) needs \(expected) bytes, found \(available)")
        }
        guard available == expected else {
            throw DataError(source, "\(available - expected) unexpected bytes after the data of shape \(shape)")
        }
        data.removeFirst(headerStart + headerLength)
        return NPYArray(dtype: dtype, shape: shape, bytes: data)
    }

    /// Reads a `.npy` file.
    public static func read(_ path: String) throws -> NPYArray {
        let contents = try BoundedFile.read(path, limit: BoundedFile.Limit.tensors, as: DataError.init)
        var bytes = [UInt8](contents)
        return try parse(&bytes, source: path)
    }

    static func parseHeader(_ header: String, source: String) throws -> (DType, [Int]) {
        func value(of key: String) throws -> Substring {
            guard let keyRange = header.range(of: "'\(key)'"),
                  let colon = header[keyRange.upperBound...].firstIndex(of: ":") else {
                throw DataError(source, "bad .npy header: no '\(key)' in \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return header[header.index(after: colon)...].drop { $0 == " " }
        }
        guard header.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") else {
            throw DataError(source, "bad .npy header: not a dict: \(header.prefix(60))")
        }
        let descrField = try value(of: "descr")
        guard let quote = descrField.first, quote == "'" || quote == "\"",
              let end = descrField.dropFirst().firstIndex(of: quote) else {
            throw DataError(source, "bad .npy header: 'descr' is not a string (structured dtypes are not supported)")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<end])
        guard let order = descr.first, "<|=>".contains(order) else {
            throw DataError(source, "bad .npy header: dtype '\(descr)' has no byte-order mark")
        }
        guard order != ">" else { throw DataError(source, "big-endian dtype '\(descr)' is not supported") }
        guard let dtype = DType(rawValue: String(descr.dropFirst())) else {
            throw DataError(source, "unsupported dtype '\(descr)' (supported: u1, b1, i4, i8, f4, f8)")
        }
        let fortran = try value(of: "fortran_order")
        if fortran.hasPrefix("True") { throw DataError(source, "Fortran-ordered arrays are not supported; save with C order") }
        guard fortran.hasPrefix("False") else { throw DataError(source, "bad .npy header: fortran_order is neither True nor False") }
        let shapeField = try value(of: "shape")
        guard shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw DataError(source, "bad .npy header: 'shape' is not a tuple")
        }
        let inner = shapeField[shapeField.index(after: shapeField.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            guard let n = Int(text), n >= 0 else { throw DataError(source, "bad .npy header: shape entry '\(part)' is not a size") }
            shape.append(n)
        }
        return (dtype, shape)
    }

    /// The `.npy` bytes of this array (format 1.0, or 2.0 when the header needs it).
    public func serialized() -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let prefix = 10
        let padded = ((prefix + header.utf8.count + 1 + 63) / 64) * 64
        header += String(repeating: " ", count: padded - prefix - header.utf8.count - 1) + "\n"
        precondition(header.utf8.count < 65536, "NPYArray: header too long")
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    /// Writes a `.npy` file atomically.
    public func write(to path: String) throws {
        do {
            try AtomicFile.write(Data(serialized()), to: path)
        } catch let error as FileWriteError {
            throw DataError(path, "cannot write: \(error.reason)")
        }
    }
}

extension NPYArray {
    /// A float32 array of `shape` from `values`.
    public init(float32 values: [Float], shape: [Int]) {
        self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// An int64 array of `shape` from `values`.
    public init(int64 values: [Int64], shape: [Int]) {
        self.init(dtype: .int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// Elements converted to `Double` (any dtype).
    public func doubles() -> [Double] {
        bytes.withUnsafeBytes { raw in
            switch dtype {
            case .uint8, .bool: return raw.map { Double($0) }
            case .int32: return (0..<count).map { Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .int64: return (0..<count).map { Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            case .float32: return (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
            case .float64: return (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
            }
        }
    }

    /// Elements as `Int` (integer and boolean dtypes only).
    public func integers(source: String) throws -> [Int] {
        switch dtype {
        case .float32, .float64: throw DataError(source, "expected an integer array, found dtype \(dtype.descr)")
        default: return doubles().map { Int($0) }
        }
    }
}
