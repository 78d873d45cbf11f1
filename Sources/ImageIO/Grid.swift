import TensorCore

/// Tiles images into one picture: the figure form of a batch.
public enum ImageGrid {
    /// Tiles `images [N, C, H, W]` (values in [0, 1]) row by row into `columns` columns,
    /// separated by `spacing` pixels of `background` (0 black … 1 white).
    /// Shape: `[C, rows·H + (rows+1)·spacing, columns·W + (columns+1)·spacing]`.
    public static func tile(_ images: Tensor, columns: Int, spacing: Int = 2, background: Float = 0.5) -> Tensor {
        precondition(images.rank == 4, "ImageGrid.tile: want [N, C, H, W], got \(images.shape)")
        precondition(columns > 0 && spacing >= 0, "ImageGrid.tile: columns must be positive, spacing ≥ 0")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let rows = max(1, (n + columns - 1) / columns)
        let gh = rows * h + (rows + 1) * spacing, gw = columns * w + (columns + 1) * spacing
        var grid = Tensor(repeating: background, shape: [c, gh, gw])
        for k in 0..<n {
            let (r, col) = (k / columns, k % columns)
            let top = spacing + r * (h + spacing), left = spacing + col * (w + spacing)
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                grid.scalars[(ch * gh + top + y) * gw + left + x] = images.scalars[((k * c + ch) * h + y) * w + x]
            } } }
        }
        return grid
    }
}
