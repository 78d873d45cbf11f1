import CPNG
import Foundation
import TensorCore

/// Errors reading or writing image files; each names the file.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be decoded (not a PNG, truncated, unsupported).
    case unreadable(path: String, reason: String)
    /// The file could not be written.
    case unwritable(path: String, reason: String)
    /// Pixel data of the wrong shape was given.
    case badShape(path: String, reason: String)

    /// What went wrong, without the path (every case's `reason`).
    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .unwritable(_, let reason), .badShape(_, let reason): return reason
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read image: \(reason)"
        case .unwritable(let path, let reason): return "\(path): cannot write image: \(reason)"
        case .badShape(let path, let reason): return "\(path): \(reason)"
        }
    }
}

/// An 8-bit image in memory: `height × width × channels` bytes, row-major, channels interleaved.
public struct RasterImage: Equatable, Sendable {
    /// Width and height in pixels.
    public var width: Int, height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// `height·width·channels` bytes, rows top to bottom.
    public var pixels: [UInt8]

    /// An image from interleaved `pixels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "RasterImage: channels must be 1 or 3, got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "RasterImage: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// A planar `[C, H, W]` tensor with values in [0, 1] (byte / 255).
    public func tensor() -> Tensor {
        let plane = width * height
        return Tensor(shape: [channels, height, width]) { out in
            for i in 0..<plane { for c in 0..<channels { out[c * plane + i] = Float(pixels[i * channels + c]) / 255 } }
        }
    }

    /// An image from a `[C, H, W]` (or `[H, W]`) tensor; values are clipped to [0, 1] and rounded to bytes.
    public init(tensor: Tensor) {
        let t = tensor.rank == 2 ? tensor.reshaped([1] + tensor.shape) : tensor
        precondition(t.rank == 3 && (t.shape[0] == 1 || t.shape[0] == 3),
                     "RasterImage(tensor:): want [1|3, H, W], got \(tensor.shape)")
        let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
        var bytes = [UInt8](repeating: 0, count: c * h * w)
        for i in 0..<(h * w) {
            for ch in 0..<c {
                let v = t.scalars[ch * h * w + i]
                bytes[i * c + ch] = UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
            }
        }
        self.init(width: w, height: h, channels: c, pixels: bytes)
    }
}

/// PNG reading and writing through libpng's simplified API.
public enum PNGFile {
    // png.h's PNG_FORMAT_GRAY (0) and PNG_FORMAT_RGB (PNG_FORMAT_FLAG_COLOR, 2); nested macros do not import.
    private static let formatGray: png_uint_32 = 0
    private static let formatRGB: png_uint_32 = 2

    /// Reads any PNG (grey, grey+alpha, RGB, RGBA, palette, 1–16 bit) as 8-bit grey
    /// (`channels` 1) or RGB (3). Alpha is composited onto black; 16-bit is scaled to 8.
    /// `channels` nil keeps grey images grey and makes everything else RGB.
    public static func read(_ path: String, channels: Int? = nil) throws -> RasterImage {
        // Only a regular file goes to libpng: a FIFO named `x.png` in an image folder would block.
        guard try BoundedFile.regularFileSize(path, as: { ImageIOError.unreadable(path: $0, reason: $1) }) != nil else {
            throw ImageIOError.unreadable(path: path, reason: "no such file")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw ImageIOError.unreadable(path: path, reason: message(of: &image))
        }
        return try finishRead(&image, path: path, channels: channels)
    }

    /// ``read(_:channels:)`` from the bytes of a PNG file in memory (an upload); `source` names
    /// it in errors. Anything that is not a PNG, or is damaged, is an error, never a crash.
    public static func decode(_ data: Data, source: String, channels: Int? = nil) throws -> RasterImage {
        guard data.count >= 8, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw ImageIOError.unreadable(path: source, reason: "not a PNG file (no PNG signature)")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let bytes = [UInt8](data)
        // libpng's memory reader keeps a pointer to `bytes` until the read finishes: both halves
        // run inside one closure.
        return try bytes.withUnsafeBytes { raw in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw ImageIOError.unreadable(path: source, reason: message(of: &image))
            }
            return try finishRead(&image, path: source, channels: channels)
        }
    }

    /// The shared second half of reading: format, size checks, pixels.
    private static func finishRead(_ image: inout png_image, path: String, channels: Int?) throws -> RasterImage {
        let isColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let outChannels = channels ?? (isColor ? 3 : 1)
        guard outChannels == 1 || outChannels == 3 else {
            png_image_free(&image)
            throw ImageIOError.badShape(path: path, reason: "channels must be 1 or 3, got \(outChannels)")
        }
        image.format = outChannels == 3 ? formatRGB : formatGray
        let (w, h) = (Int(image.width), Int(image.height))
        if let problem = implausibleSize(width: w, height: h, channels: outChannels, path: path) {
            png_image_free(&image)
            throw ImageIOError.unreadable(path: path, reason: problem)
        }
        var pixels = [UInt8](repeating: 0, count: w * h * outChannels)
        var background = png_color(red: 0, green: 0, blue: 0)
        let ok = pixels.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, &background, buffer.baseAddress, 0, nil)
        }
        guard ok != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw ImageIOError.unreadable(path: path, reason: reason)
        }
        return RasterImage(width: w, height: h, channels: outChannels, pixels: pixels)
    }

    /// Writes `image` as an 8-bit grey or RGB PNG, atomically (encoded in memory, then
    /// ``AtomicFile``: a full disk never leaves a truncated PNG under its final name), creating
    /// the parent directory. The bytes depend only on the pixels.
    public static func write(_ image: RasterImage, to path: String) throws {
        do {
            try AtomicFile.write(try encode(image, path: path), to: path)
        } catch let error as FileWriteError {
            throw ImageIOError.unwritable(path: path, reason: error.reason)
        }
    }

    /// The PNG file bytes of `image` (`path` names it in errors).
    public static func encode(_ image: RasterImage, path: String = "PNG") throws -> Data {
        var png = png_image()
        png.version = png_uint_32(PNG_IMAGE_VERSION)
        png.width = png_uint_32(image.width)
        png.height = png_uint_32(image.height)
        png.format = image.channels == 3 ? formatRGB : formatGray
        var size = 0
        let measured = image.pixels.withUnsafeBytes { buffer in
            png_image_write_to_memory(&png, nil, &size, 0, buffer.baseAddress, 0, nil)
        }
        guard measured != 0, size > 0 else { throw ImageIOError.unwritable(path: path, reason: message(of: &png)) }
        var bytes = Data(count: size)
        let ok = bytes.withUnsafeMutableBytes { out in
            image.pixels.withUnsafeBytes { buffer in
                png_image_write_to_memory(&png, out.baseAddress, &size, 0, buffer.baseAddress, 0, nil)
            }
        }
        guard ok != 0 else { throw ImageIOError.unwritable(path: path, reason: message(of: &png)) }
        return bytes.prefix(size)
    }

    /// The most pixels one image may have (2^28, e.g. 16384 × 16384), whatever the budget.
    public static let maximumPixels = 1 << 28

    /// Why a header claiming `width × height` cannot be honoured, or nil. Checked before the
    /// pixels are allocated: at most ``maximumPixels``, within ``MemoryBudget``, and no more
    /// pixels than the file's bytes can encode (deflate gives at most ~1032 bytes per byte, a
    /// 1-bit image 8 pixels per byte).
    static func implausibleSize(width: Int, height: Int, channels: Int, path: String) -> String? {
        let pixels = width * height // both < 2^31 (libpng's limit), so no overflow
        let fileSize = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? Int.max
        if pixels > maximumPixels {
            return "header claims \(width)×\(height) pixels, more than the \(maximumPixels)-pixel limit"
        }
        if pixels / 8 / 1032 > fileSize {
            return "header claims \(width)×\(height) pixels, more than a \(fileSize)-byte PNG can hold (corrupt header?)"
        }
        if let excess = MemoryBudget.excess(pixels * channels) {
            return "header claims \(width)×\(height) pixels, which \(excess)"
        }
        return nil
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "libpng error" : text
        }
    }
}
