import Foundation
import ImageIO
import TensorCore

/// A directory of PNG images (grey or RGB, any bit depth) with an optional CSV of
/// labels and attributes, read with libpng.
///
/// - Files: every `*.png` in the directory and its subdirectories (hidden ones skipped), by
///   relative path, sorted.
/// - Channels: grey if all images are grey, else RGB (grey images are replicated).
/// - Size: all images must share one size, unless `resize` is set; then each is
///   centre-cropped to its largest centred square and resampled to `size × size`
///   by exact area weighting (a box filter: averages when shrinking, close to
///   nearest-neighbour when enlarging).
/// - CSV: a header row; the column `file` (or `filename`, `image`, else the first)
///   names the PNG by its relative path (`sub/x.png`; a unique case-insensitive match
///   counts); every other column is an attribute. With `labelColumn`, that
///   column's distinct values (sorted) become the class labels. Every image needs a
///   row and a non-empty label.
/// - Masks: a CSV column `mask` names each image's ground-truth mask, a PNG by relative path
///   (`masks/0001.png`; grey or RGB, pixel ≥ 50 % of full scale = on the finding), the same size
///   as the images (resampled with them under `resize`). Mask files are not images of the set, and
///   `mask` is not an annotation. With masks the folder is a ``MaskedDataset``: `compare` and
///   `explain` score saliency against them; `ruleFactors` (annotation columns the label depends on,
///   `rule=a+b` in the data spec) adds the factor precision/recall check.
public struct ImageFolder: LabeledDataset, MaskedDataset {
    public let name: String
    public let imageShape: [Int]
    /// File names, in index order.
    public let files: [String]
    /// Attribute columns from the CSV: column name → value per image.
    public let attributes: [String: [String]]
    /// Label class names (sorted distinct values of the label column); empty without labels.
    public let labelNames: [String]
    /// The CSV column the labels come from, if any (never an annotation factor).
    public let labelColumn: String?
    private let labels: [Int]
    /// All images' bytes when they fit ``residentLimit``; empty when the folder is read lazily.
    private let pixels: [UInt8]
    private let directory: String
    private let resize: Int?
    /// Each image's mask, 1 bit per pixel (row-major, `⌈H·W/8⌉` bytes per image); empty without a mask column.
    private let maskBits: [UInt8]
    /// The CSV column that names the masks.
    public static let maskColumn = "mask"
    /// Annotation columns the label rule uses (the spec's `rule=a+b`); empty when unknown.
    public let ruleFactors: [String]

    /// The most pixel bytes a folder keeps in memory: 128 MiB (32,000 grey 64×64 images, counted as
    /// RGB), or an eighth of ``MemoryBudget/bytes`` when `UNTANGLE_MEMORY_BUDGET` makes that smaller;
    /// a larger folder is read lazily, each image decoded when it is sampled, so memory stays
    /// bounded however many images it holds.
    public static let residentLimit = min(128 << 20, MemoryBudget.bytes / 8)

    /// Whether the images are decoded on demand (the folder exceeds ``residentLimit``).
    public var isLazy: Bool { pixels.isEmpty }

    /// Loads `directory`; see the type's documentation for the rules.
    /// `residentLimit`: see ``residentLimit`` (a smaller one makes a small folder lazy, for tests).
    /// `ruleFactors`: annotation columns the label rule uses (checked to exist; empty: unknown).
    public init(directory: String, labelsCSV: String? = nil, labelColumn: String? = nil,
                resize: Bool = false, size: Int = 64, residentLimit: Int = ImageFolder.residentLimit,
                ruleFactors: [String] = []) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(directory, "no such directory")
        }
        let table = try labelsCSV.map { try CSVTable(path: $0) }
        let maskIndex = table?.header.firstIndex(of: ImageFolder.maskColumn)
        // Every PNG in the directory and its subdirectories (hidden ones skipped), as relative paths;
        // the masks a CSV names are not images of the set.
        let maskFiles = Set(maskIndex.map { m in table!.rows.map { ImageFolder.normalised($0[m]).lowercased() } } ?? [])
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
            .filter { $0.lowercased().hasSuffix(".png") && !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
            .filter { !maskFiles.contains($0.lowercased()) }.sorted()
        guard !files.isEmpty else { throw DataError(directory, "contains no .png files") }
        // Every image is decoded once here (a damaged file is named now, not mid-training); the
        // pixels are kept while they fit ``residentLimit``, beyond it the folder is read lazily.
        var images: [RasterImage] = []
        var sizes: [(width: Int, height: Int)] = [], anyColour = false, kept = 0
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                var image = try PNGFile.read(path)
                if resize { image = ImageFolder.cropAndResize(image, to: size) }
                sizes.append((image.width, image.height))
                anyColour = anyColour || image.channels == 3
                kept += image.width * image.height * 3
                if kept <= residentLimit { images.append(image) } else { images.removeAll() }
            } catch let error as ImageIOError {
                throw DataError(path, "unreadable image: \(error.reason)")
            }
        }
        let first = sizes[0]
        if let k = sizes.firstIndex(where: { $0.width != first.width || $0.height != first.height }) {
            throw DataError((directory as NSString).appendingPathComponent(files[k]),
                            "is \(sizes[k].width)×\(sizes[k].height) but \(files[0]) is \(first.width)×\(first.height); all images must share one size (or use resize)")
        }
        let channels = anyColour ? 3 : 1
        var pixels: [UInt8] = []
        if images.count == files.count {
            pixels.reserveCapacity(images.count * first.width * first.height * channels)
            for image in images { pixels += ImageFolder.converted(image, channels: channels) }
        }
        self.directory = directory
        self.resize = resize ? size : nil
        self.name = URL(fileURLWithPath: directory).lastPathComponent
        self.imageShape = [channels, first.height, first.width]
        self.files = files
        self.pixels = pixels
        self.labelColumn = labelColumn

        guard let labelsCSV, let table else {
            if let labelColumn { throw DataError(directory, "label column '\(labelColumn)' given without a labels CSV") }
            if !ruleFactors.isEmpty { throw DataError(directory, "rule=\(ruleFactors.joined(separator: "+")) given without a labels CSV") }
            attributes = [:]; labelNames = []; labels = []; maskBits = []; self.ruleFactors = []
            return
        }
        let keyColumn = ["file", "filename", "image"].first { table.header.contains($0) } ?? table.header[0]
        let keyIndex = table.header.firstIndex(of: keyColumn)!
        // A row names its image by relative path ("sub/x.png", "./x.png", "sub\\x.png"); when no file
        // has exactly that name, a unique case-insensitive match counts (spreadsheets and file
        // systems disagree about case), an ambiguous one is an error.
        let fileSet = Set(files)
        var byLowercase: [String: [String]] = [:]
        for file in files { byLowercase[file.lowercased(), default: []].append(file) }
        func file(named raw: String, line: Int) throws -> String {
            let name = ImageFolder.normalised(raw)
            if fileSet.contains(name) { return name }
            let matches = byLowercase[name.lowercased()] ?? []
            guard matches.count == 1 else {
                throw DataError(labelsCSV, matches.isEmpty ? "line \(line): '\(raw)' names no PNG in \(directory)"
                                : "line \(line): '\(raw)' matches \(matches.joined(separator: " and ")) when case is ignored; name one exactly")
            }
            return matches[0]
        }
        var rowOf: [String: Int] = [:]
        for (r, row) in table.rows.enumerated() {
            let name = try file(named: row[keyIndex], line: r + 2)
            if let earlier = rowOf[name] {
                guard zip(table.rows[earlier], row).enumerated().allSatisfy({ $0.offset == keyIndex || $0.element.0 == $0.element.1 }) else {
                    throw DataError(labelsCSV, "lines \(earlier + 2) and \(r + 2) give image '\(name)' different values; keep one row per image")
                }
                continue // an identical repeated row is harmless
            }
            rowOf[name] = r
        }
        var attributes: [String: [String]] = [:]
        for (c, column) in table.header.enumerated() where c != keyIndex && c != maskIndex {
            attributes[column] = try files.map { file in
                guard let r = rowOf[file] else { throw DataError(labelsCSV, "no row for image '\(file)'") }
                return table.rows[r][c]
            }
        }
        self.attributes = attributes
        if let bad = ruleFactors.first(where: { attributes[$0] == nil || $0 == labelColumn }) {
            throw DataError(labelsCSV, "rule factor '\(bad)' is \(bad == labelColumn ? "the label itself" : "no column") (columns: \(attributes.keys.sorted().joined(separator: ", ")))")
        }
        self.ruleFactors = ruleFactors
        if let maskIndex {
            let (h, w) = (first.height, first.width), bytes = (h * w + 7) / 8
            var bits = [UInt8](repeating: 0, count: files.count * bytes)
            for (i, image) in files.enumerated() {
                let r = rowOf[image]!, cell = table.rows[r][maskIndex]
                guard !cell.isEmpty else { throw DataError(labelsCSV, "line \(r + 2): no mask for image '\(image)' (the mask column needs one for every image)") }
                let path = (directory as NSString).appendingPathComponent(ImageFolder.normalised(cell))
                var mask: RasterImage
                do { mask = try PNGFile.read(path) } catch {
                    throw DataError(path, "line \(r + 2): unreadable mask of '\(image)': \(error)")
                }
                if resize { mask = ImageFolder.cropAndResize(mask, to: size) }
                guard mask.width == w && mask.height == h else {
                    throw DataError(path, "mask of '\(image)' is \(mask.width)×\(mask.height) but the images are \(w)×\(h)")
                }
                for p in 0..<(h * w) {
                    let v = (0..<mask.channels).reduce(0) { $0 + Int(mask.pixels[p * mask.channels + $1]) } / mask.channels
                    if v >= 128 { bits[i * bytes + p / 8] |= UInt8(1 << (p % 8)) }
                }
            }
            maskBits = bits
        } else {
            maskBits = []
        }
        if let labelColumn {
            guard let values = attributes[labelColumn] else {
                throw DataError(labelsCSV, "no column '\(labelColumn)' (columns: \(table.header.joined(separator: ", ")))")
            }
            if let k = values.firstIndex(where: { $0.isEmpty }) {
                throw DataError(labelsCSV, "missing label '\(labelColumn)' for image '\(files[k])'")
            }
            let names = Array(Set(values)).sorted()
            labelNames = names
            labels = values.map { names.firstIndex(of: $0)! }
        } else {
            labelNames = []; labels = []
        }
    }

    public var count: Int { files.count }

    /// A CSV cell as a relative path: backslashes to slashes, leading `./` dropped.
    static func normalised(_ raw: String) -> String {
        var name = raw.replacingOccurrences(of: "\\", with: "/")
        while name.hasPrefix("./") { name.removeFirst(2) }
        return name
    }

    /// Whether the labels CSV named a mask for every image.
    public var hasMasks: Bool { !maskBits.isEmpty }

    /// The mask of image `index`: `[H, W]` of 0/1 (all zeros without a mask column).
    public func mask(_ index: Int) -> Tensor {
        let (h, w) = (imageShape[1], imageShape[2]), bytes = (h * w + 7) / 8
        guard hasMasks else { return .zeros([h, w]) }
        return Tensor(shape: [h, w]) { out in
            for p in 0..<(h * w) { out[p] = maskBits[index * bytes + p / 8] & UInt8(1 << (p % 8)) != 0 ? 1 : 0 }
        }
    }

    /// The rule in words: which annotation columns it uses, or that it is unknown.
    public var ruleDescription: String {
        ruleFactors.isEmpty ? "unknown (give rule=COLUMN+COLUMN in the data spec)"
            : "\(labelColumn ?? "the label") depends on \(ruleFactors.joined(separator: " and "))"
    }

    public func label(of index: Int) -> Int {
        precondition(!labels.isEmpty, "\(name): no labels were loaded (give a labels CSV and a label column)")
        return labels[index]
    }

    public func render(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        let plane = h * w
        func write(_ p: UnsafeBufferPointer<UInt8>, base: Int) {
            for i in 0..<plane { for ch in 0..<c { out[ch * plane + i] = Float(p[base + i * c + ch]) / 255 } }
        }
        if !isLazy {
            pixels.withUnsafeBufferPointer { write($0, base: index * plane * c) }
            return
        }
        let path = (directory as NSString).appendingPathComponent(files[index])
        let image: RasterImage
        do {
            image = try PNGFile.read(path)
        } catch {
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            ImageFolder.stop(DataError(path, "became unreadable after the folder was opened (\(reason))"))
        }
        let sized = resize.map { ImageFolder.cropAndResize(image, to: $0) } ?? image
        guard sized.width == w && sized.height == h else {
            ImageFolder.stop(DataError(path, "is \(sized.width)×\(sized.height) now, \(w)×\(h) when the folder was opened"))
        }
        ImageFolder.converted(sized, channels: c).withUnsafeBufferPointer { write($0, base: 0) }
    }

    /// What a folder read lazily does when one of its files is changed or removed under a
    /// running command (`render` cannot throw): runs the ``DataStop`` actions (a run pipeline's
    /// writes `failed.json`), prints ``stopMessage(_:)`` and exits with status 65 (`EX_DATAERR`),
    /// instead of a crash. Every file Untangle writes is written atomically, so the run's
    /// checkpoints and finished results stay as they were; training resumes from the newest
    /// checkpoint once the folder is whole again.
    static func stop(_ error: DataError) -> Never {
        DataStop.stop(error, message: stopMessage(error))
    }

    /// `Error: PATH: PROBLEM`, and how to go on.
    static func stopMessage(_ error: DataError) -> String {
        "Error: \(error) — the image folder changed while it was being read; nothing finished was lost."
            + " Restore the file, then rerun (a training run continues from its newest checkpoint with"
            + " --resume); a folder that has really changed is a new data set: train a new run on it."
    }

    /// `image`'s bytes with `channels` channels (grey replicated to RGB).
    static func converted(_ image: RasterImage, channels: Int) -> [UInt8] {
        image.channels == channels ? image.pixels : image.pixels.flatMap { [$0, $0, $0] }
    }

    /// Centre-crops `image` to its largest centred square and resamples it to `size × size`
    /// with an exact box filter (each output pixel averages the source area it covers).
    public static func cropAndResize(_ image: RasterImage, to size: Int) -> RasterImage {
        let side = min(image.width, image.height)
        let (x0, y0) = ((image.width - side) / 2, (image.height - side) / 2)
        let c = image.channels
        let scale = Double(side) / Double(size)
        var out = [UInt8](repeating: 0, count: size * size * c)
        // Coverage of source cells [k, k+1) by the interval [a, b).
        func spans(_ o: Int) -> [(Int, Double)] {
            let a = Double(o) * scale, b = Double(o + 1) * scale
            return (Int(a.rounded(.down))..<min(side, Int(b.rounded(.up)))).map { k in
                (k, min(b, Double(k + 1)) - max(a, Double(k)))
            }
        }
        let columnSpans = (0..<size).map(spans)
        for oy in 0..<size {
            let rowSpan = spans(oy)
            for ox in 0..<size {
                for ch in 0..<c {
                    var sum = 0.0, weight = 0.0
                    for (sy, wy) in rowSpan {
                        for (sx, wx) in columnSpans[ox] {
                            sum += wy * wx * Double(image.pixels[((y0 + sy) * image.width + x0 + sx) * c + ch])
                            weight += wy * wx
                        }
                    }
                    out[(oy * size + ox) * c + ch] = UInt8((sum / weight).rounded())
                }
            }
        }
        return RasterImage(width: size, height: size, channels: c, pixels: out)
    }
}

/// A small CSV reader: header row, comma-separated fields, double-quoted fields with `""` escapes.
struct CSVTable {
    var header: [String]
    var rows: [[String]]

    init(path: String) throws {
        let data = try BoundedFile.read(path, limit: BoundedFile.Limit.table, missing: "no such CSV file", as: DataError.init)
        guard let text = String(data: data, encoding: .utf8) else { throw DataError(path, "not UTF-8 text") }
        var lines = text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }.map(String.init)
        guard !lines.isEmpty else { throw DataError(path, "empty CSV file") }
        header = CSVTable.fields(lines.removeFirst())
        rows = []
        for (k, line) in lines.enumerated() {
            let f = CSVTable.fields(line)
            guard f.count == header.count else {
                throw DataError(path, "line \(k + 2) has \(f.count) fields, the header has \(header.count)")
            }
            rows.append(f)
        }
    }

    static func fields(_ line: String) -> [String] {
        var out: [String] = [], field = "", quoted = false
        var chars = Array(line)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                out.append(field.trimmingCharacters(in: .whitespaces)); field = ""
            } else { field.append(ch) }
        }
        out.append(field.trimmingCharacters(in: .whitespaces))
        return out
    }
}
