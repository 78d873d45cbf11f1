import CPNG
import Foundation
import TensorCore

/// A read-only ZIP archive (as written by `numpy.savez` / `savez_compressed`): the
/// central directory is parsed up front, members are read on demand, stored or
/// deflated, with ZIP64 sizes and offsets, and their CRC-32 checked.
public struct ZipArchive {
    /// One member of the archive.
    public struct Entry: Sendable {
        public var name: String
        var method: UInt16, crc: UInt32
        var compressedSize: Int, uncompressedSize: Int, localHeaderOffset: Int
    }

    /// The archive path (for messages).
    public let path: String
    let data: Data
    /// Members by name.
    public private(set) var entries: [String: Entry] = [:]

    /// Opens `path` (memory-mapped) and reads its central directory.
    public init(path: String) throws {
        self.path = path
        // Only a regular file is mapped (a FIFO or a device would block or never end).
        guard try BoundedFile.regularFileSize(path, as: DataError.init) != nil else { throw DataError(path, "no such file") }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DataError(path, "cannot read: \(error.localizedDescription)")
        }
        try readDirectory()
    }

    private func u16(_ o: Int) -> Int { Int(data[data.startIndex + o]) | Int(data[data.startIndex + o + 1]) << 8 }
    private func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    /// A 64-bit field; values above `Int.max` come out negative and are refused by the callers.
    private func u64(_ o: Int) -> Int { Int(truncatingIfNeeded: UInt64(u32(o)) | UInt64(u32(o + 4)) << 32) }

    private mutating func readDirectory() throws {
        let n = data.count
        guard n >= 22 else { throw DataError(path, "not a zip/npz archive (too short: \(n) bytes)") }
        // The end-of-central-directory record sits in the last 22 + 65535 bytes.
        var eocd = -1
        var o = n - 22
        while o >= max(0, n - 22 - 65535) {
            if u32(o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw DataError(path, "not a zip/npz archive (no end-of-central-directory record; truncated?)") }
        var count = u16(eocd + 10), directoryOffset = u32(eocd + 16)
        if (count == 0xFFFF || directoryOffset == 0xFFFF_FFFF), eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let record = u64(eocd - 20 + 8)
            guard record >= 0, record <= n - 56, u32(record) == 0x0606_4B50 else { throw DataError(path, "corrupt ZIP64 end record") }
            count = u64(record + 32)
            directoryOffset = u64(record + 48)
        }
        // Every size below comes from the file: check it against the file before using it.
        guard directoryOffset >= 0, directoryOffset <= n else {
            throw DataError(path, "corrupt end record: central directory offset \(directoryOffset) outside the \(n)-byte archive")
        }
        guard count >= 0, count <= (n - directoryOffset) / 46 else {
            throw DataError(path, "corrupt end record: \(count) members cannot fit in the \(n - directoryOffset) bytes of the central directory")
        }
        var p = directoryOffset
        for _ in 0..<count {
            guard p <= n - 46, u32(p) == 0x0201_4B50 else {
                throw DataError(path, "corrupt central directory (truncated archive?)")
            }
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            guard p + 46 + nameLength + extraLength <= n else { throw DataError(path, "corrupt central directory entry") }
            let name = String(decoding: data[(data.startIndex + p + 46)..<(data.startIndex + p + 46 + nameLength)], as: UTF8.self)
            var entry = Entry(name: name, method: UInt16(u16(p + 10)), crc: UInt32(u32(p + 16)),
                              compressedSize: u32(p + 20), uncompressedSize: u32(p + 24), localHeaderOffset: u32(p + 42))
            // ZIP64 extra field (id 1): present values replace the 0xFFFFFFFF placeholders, in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), size = u16(e + 2)
                if id == 1 {
                    var q = e + 4
                    let fieldEnd = min(extraEnd, e + 4 + size)
                    if entry.uncompressedSize == 0xFFFF_FFFF, q + 8 <= fieldEnd { entry.uncompressedSize = u64(q); q += 8 }
                    if entry.compressedSize == 0xFFFF_FFFF, q + 8 <= fieldEnd { entry.compressedSize = u64(q); q += 8 }
                    if entry.localHeaderOffset == 0xFFFF_FFFF, q + 8 <= fieldEnd { entry.localHeaderOffset = u64(q) }
                }
                e += 4 + size
            }
            guard entry.compressedSize >= 0, entry.uncompressedSize >= 0, entry.localHeaderOffset >= 0 else {
                throw DataError("\(path) member \(name)", "corrupt ZIP64 sizes (a size or offset beyond 2^63)")
            }
            entries[name] = entry
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The most bytes deflate can produce per compressed byte (RFC 1951: a 258-byte match
    /// costs at least 2 bits, so about 1032:1); a member claiming more is corrupt or hostile.
    static let maximumDeflateRatio = 1032

    /// The uncompressed bytes of member `name`, CRC-checked. Its claimed sizes are checked
    /// against the archive's real size, deflate's largest ratio and ``MemoryBudget`` before
    /// anything is allocated, and the output grows only as data really decompresses, so a
    /// lying header costs at most about twice the bytes it really holds.
    public func read(_ name: String) throws -> [UInt8] {
        guard let entry = entries[name] else {
            throw DataError(path, "no member '\(name)' (members: \(entries.keys.sorted().joined(separator: ", ")))")
        }
        let source = "\(path) member \(name)"
        let h = entry.localHeaderOffset
        guard h <= data.count - 30, u32(h) == 0x0403_4B50 else { throw DataError(source, "corrupt local header") }
        let start = h + 30 + u16(h + 26) + u16(h + 28)
        guard start <= data.count, entry.compressedSize <= data.count - start else {
            throw DataError(source, "truncated: needs \(entry.compressedSize) bytes at offset \(start), archive has \(data.count)")
        }
        if let excess = MemoryBudget.excess(entry.uncompressedSize) {
            throw DataError(source, "claims \(entry.uncompressedSize) uncompressed bytes: \(excess)")
        }
        let compressed = data[(data.startIndex + start)..<(data.startIndex + start + entry.compressedSize)]
        let out: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else { throw DataError(source, "stored member with differing sizes") }
            out = [UInt8](compressed)
        case 8:
            let (limit, overflow) = entry.compressedSize.multipliedReportingOverflow(by: ZipArchive.maximumDeflateRatio)
            guard overflow || entry.uncompressedSize <= limit + 64 else {
                throw DataError(source, "claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed ones, more than deflate can produce: the archive is corrupt")
            }
            out = try inflate(compressed, expected: entry.uncompressedSize, source: source)
        default:
            throw DataError(source, "unsupported compression method \(entry.method) (only stored and deflate)")
        }
        let crc = out.withUnsafeBufferPointer { buffer -> UInt32 in
            var c = crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count { // zlib takes 32-bit lengths
                let length = min(buffer.count - offset, 1 << 30)
                c = crc32(c, buffer.baseAddress! + offset, uInt(length))
                offset += length
            }
            return UInt32(c)
        }
        guard crc == entry.crc else { throw DataError(source, "CRC-32 mismatch: the archive is corrupt") }
        return out
    }

    /// Inflates raw deflate data that should give exactly `expected` bytes, growing the output
    /// (doubling, from at most 8 × the input) only as bytes arrive.
    private func inflate(_ compressed: Data, expected total: Int, source: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(source, "zlib initialisation failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: min(total, max(1 << 20, 8 * compressed.count)))
        var produced = 0
        var result = Z_OK
        compressed.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            var inputLeft = input.count
            while result == Z_OK {
                if produced == out.count && out.count < total { // room for more, only once the output is full
                    out.append(contentsOf: repeatElement(0, count: min(total - out.count, out.count)))
                }
                let inChunk = min(inputLeft, 1 << 30)
                let outChunk = min(out.count - produced, 1 << 30)
                stream.avail_in = uInt(inChunk)
                stream.avail_out = uInt(outChunk)
                result = out.withUnsafeMutableBufferPointer { output in
                    stream.next_out = output.baseAddress.map { $0 + produced }
                    return CPNG.inflate(&stream, Z_NO_FLUSH)
                }
                inputLeft -= inChunk - Int(stream.avail_in)
                produced += outChunk - Int(stream.avail_out)
                if result == Z_OK && inChunk == 0 && outChunk == 0 { break }
                if result == Z_BUF_ERROR && inputLeft > 0 && produced < total { result = Z_OK }
            }
        }
        guard result == Z_STREAM_END, produced == total else {
            let detail = result == Z_STREAM_END ? "gives \(produced) bytes, the directory says \(total)" : "zlib status \(result)"
            throw DataError(source, "deflate data is corrupt or truncated (\(detail))")
        }
        return out
    }

    /// Reads member `name` (with or without the `.npy` suffix) as a NumPy array.
    public func array(_ name: String) throws -> NPYArray {
        let member = entries[name] != nil ? name : name + ".npy"
        var bytes = try read(member)
        return try NPYArray.parse(&bytes, source: "\(path) member \(member)")
    }
}
