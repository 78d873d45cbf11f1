import CPNG
import Foundation

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
        guard FileManager.default.fileExists(atPath: path) else { throw DataError(path, "no such file") }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DataError(path, "cannot read: \(error.localizedDescription)")
        }
        try readDirectory()
    }

    private func u16(_ o: Int) -> Int { Int(data[data.startIndex + o]) | Int(data[data.startIndex + o + 1]) << 8 }
    private func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    private func u64(_ o: Int) -> Int { u32(o) | u32(o + 4) << 32 }

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
            guard record + 56 <= n, u32(record) == 0x0606_4B50 else { throw DataError(path, "corrupt ZIP64 end record") }
            count = u64(record + 32)
            directoryOffset = u64(record + 48)
        }
        var p = directoryOffset
        for _ in 0..<count {
            guard p + 46 <= n, u32(p) == 0x0201_4B50 else {
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
                    if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = u64(q); q += 8 }
                    if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = u64(q); q += 8 }
                    if entry.localHeaderOffset == 0xFFFF_FFFF { entry.localHeaderOffset = u64(q) }
                }
                e += 4 + size
            }
            entries[name] = entry
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The uncompressed bytes of member `name`, CRC-checked.
    public func read(_ name: String) throws -> [UInt8] {
        guard let entry = entries[name] else {
            throw DataError(path, "no member '\(name)' (members: \(entries.keys.sorted().joined(separator: ", ")))")
        }
        let source = "\(path) member \(name)"
        let h = entry.localHeaderOffset
        guard h + 30 <= data.count, u32(h) == 0x0403_4B50 else { throw DataError(source, "corrupt local header") }
        let start = h + 30 + u16(h + 26) + u16(h + 28)
        guard start + entry.compressedSize <= data.count else {
            throw DataError(source, "truncated: needs \(entry.compressedSize) bytes at offset \(start), archive has \(data.count)")
        }
        var out = [UInt8](repeating: 0, count: entry.uncompressedSize)
        let compressed = data[(data.startIndex + start)..<(data.startIndex + start + entry.compressedSize)]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else { throw DataError(source, "stored member with differing sizes") }
            out = [UInt8](compressed)
        case 8:
            try inflate(compressed, into: &out, source: source)
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

    private func inflate(_ compressed: Data, into out: inout [UInt8], source: String) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(source, "zlib initialisation failed")
        }
        defer { inflateEnd(&stream) }
        let total = out.count
        let status: Int32 = compressed.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                var inputLeft = input.count, produced = 0
                var result = Z_OK
                while result == Z_OK {
                    let inChunk = min(inputLeft, 1 << 30)
                    stream.avail_in = uInt(inChunk)
                    stream.next_out = output.baseAddress.map { $0 + produced }
                    let outChunk = min(total - produced, 1 << 30)
                    stream.avail_out = uInt(outChunk)
                    result = CPNG.inflate(&stream, Z_NO_FLUSH)
                    inputLeft -= inChunk - Int(stream.avail_in)
                    produced += outChunk - Int(stream.avail_out)
                    if result == Z_OK && inChunk == 0 && outChunk == 0 { break }
                    if result == Z_BUF_ERROR && inputLeft > 0 && produced < total { result = Z_OK }
                }
                return produced == total && result == Z_STREAM_END ? Z_STREAM_END : (result == Z_STREAM_END ? Z_DATA_ERROR : result)
            }
        }
        guard status == Z_STREAM_END else {
            throw DataError(source, "deflate data is corrupt or truncated (zlib status \(status))")
        }
    }

    /// Reads member `name` (with or without the `.npy` suffix) as a NumPy array.
    public func array(_ name: String) throws -> NPYArray {
        let member = entries[name] != nil ? name : name + ".npy"
        var bytes = try read(member)
        return try NPYArray.parse(&bytes, source: "\(path) member \(member)")
    }
}
