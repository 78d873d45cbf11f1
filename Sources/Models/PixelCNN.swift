import Autodiff
import NN
import TensorCore

/// The black-box baseline: a small CNN classifying pixels directly.
///
/// conv 16 4×4 s2 → conv 32 4×4 s2 → conv 32 4×4 s2 (ReLU, padding 1: H → H/8) →
/// flatten → FC 64 ReLU → FC K logits. Parameters `cnn.conv1…conv3`, `cnn.fc`, `cnn.out`.
/// `features` exposes the last conv layer's activations (Grad-CAM needs them).
public final class PixelCNN: Layer {
    let conv1, conv2, conv3: Conv2d
    let fc, output: Linear
    /// Input image shape `[C, H, W]` (H, W multiples of 8) and number of classes K.
    public let imageShape: [Int], classCount: Int

    public init(imageShape: [Int], classCount: Int, seed: UInt64) {
        precondition(imageShape.count == 3 && imageShape[1] % 8 == 0 && imageShape[2] % 8 == 0,
                     "PixelCNN: image sides must be multiples of 8, got \(imageShape)")
        var rng = RandomGenerator(seed: seed)
        conv1 = Conv2d(inChannels: imageShape[0], outChannels: 16, kernel: 4, stride: 2, padding: 1, name: "cnn.conv1",
                       initializer: .heUniform, rng: &rng)
        conv2 = Conv2d(inChannels: 16, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "cnn.conv2", initializer: .heUniform, rng: &rng)
        conv3 = Conv2d(inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: 1, name: "cnn.conv3", initializer: .heUniform, rng: &rng)
        fc = Linear(inputSize: 32 * (imageShape[1] / 8) * (imageShape[2] / 8), outputSize: 64, name: "cnn.fc", initializer: .heUniform, rng: &rng)
        output = Linear(inputSize: 64, outputSize: classCount, name: "cnn.out", rng: &rng)
        self.imageShape = imageShape
        self.classCount = classCount
    }

    public var parameters: [Parameter] { [conv1, conv2, conv3].flatMap(\.parameters) + [fc, output].flatMap(\.parameters) }

    /// Last-conv activations `[B, 32, H/8, W/8]` and logits `[B, K]` for images `[B, C, H, W]`.
    public func forward(_ x: Variable) -> (features: Variable, logits: Variable) {
        let features = conv3(conv2(conv1(x, activation: .relu), activation: .relu), activation: .relu)
        return (features, head(features))
    }

    /// Logits from last-conv activations.
    public func head(_ features: Variable) -> Variable { output(fc(features.flattened()).relu()) }

    /// Logits `[B, K]`.
    public func callAsFunction(_ x: Variable) -> Variable { forward(x).logits }

    /// Logits `[1 + P, K]` of `image [1, C, H, W]` and of its P occluded copies (`window × window`
    /// squares at `positions` (row, column) set to `baseline`), computed incrementally: an
    /// occluded square changes only the activations inside its receptive field, so each conv
    /// layer recomputes just that region (a fixed-size crop per copy, all copies as one batch) on
    /// top of the clean activations, and only the head runs on every copy in full. The same
    /// logits as `self(occluded)` up to float rounding, with ≈ 6× fewer FLOPs for 8×8 windows
    /// on 64×64 images.
    public func occludedLogits(_ image: Tensor, window: Int, positions: [(Int, Int)], baseline: Float) -> Tensor {
        precondition(image.shape.count == 4 && image.shape[0] == 1, "occludedLogits: one image [1, C, H, W], got \(image.shape)")
        let tape = Tape(recording: false)
        let n = positions.count
        // The clean activations of every layer: a[0] the image, a[l] after conv l and ReLU.
        var clean = [image]
        for conv in [conv1, conv2, conv3] { clean.append(conv(tape.constant(clean.last!), activation: .relu).value) }
        // Per copy: the changed region of the previous layer (rows, columns) and its values.
        var region = positions.map { (y: $0.0, x: $0.1) }
        var size = (h: window, w: window)
        var patch = [Float](repeating: baseline, count: n * image.shape[1] * window * window)
        for (l, conv) in [conv1, conv2, conv3].enumerated() {
            let input = clean[l], output = clean[l + 1]
            let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
            let (outH, outW) = (output.shape[2], output.shape[3])
            let (k, s, p) = (conv.weight.value.shape[2], conv.stride, conv.padding)
            // Output positions o whose window [o·s − p, o·s − p + k) meets [a, a + len), clipped.
            func changed(_ a: Int, _ len: Int, _ limit: Int) -> (Int, Int) {
                let first = max(0, Int((Double(a + p - k + 1) / Double(s)).rounded(.up)))
                let last = min(limit - 1, (a + len - 1 + p) / s)
                return (first, last - first + 1)
            }
            let spans = region.map { (changed($0.y, size.h, outH), changed($0.x, size.w, outW)) }
            let r = (h: spans.map { $0.0.1 }.max() ?? 1, w: spans.map { $0.1.1 }.max() ?? 1)
            let starts = spans.map { (y: min($0.0.0, outH - r.h), x: min($0.1.0, outW - r.w)) }
            let (cropH, cropW) = ((r.h - 1) * s + k, (r.w - 1) * s + k)
            var crops = [Float](repeating: 0, count: n * c * cropH * cropW)
            input.scalars.withUnsafeBufferPointer { a in
                for i in 0..<n {
                    let (u, v) = starts[i], prev = region[i]
                    for ch in 0..<c {
                        for cy in 0..<cropH {
                            let gy = u * s - p + cy
                            guard gy >= 0 && gy < h else { continue }
                            let inPatchRow = gy >= prev.y && gy < prev.y + size.h
                            let rowBase = ((i * c + ch) * cropH + cy) * cropW
                            for cx in 0..<cropW {
                                let gx = v * s - p + cx
                                guard gx >= 0 && gx < w else { continue }
                                if inPatchRow && gx >= prev.x && gx < prev.x + size.w {
                                    crops[rowBase + cx] = patch[((i * c + ch) * size.h + gy - prev.y) * size.w + gx - prev.x]
                                } else {
                                    crops[rowBase + cx] = a[(ch * h + gy) * w + gx]
                                }
                            }
                        }
                    }
                }
            }
            let recomputed = conv2d(tape.constant(Tensor(shape: [n, c, cropH, cropW], scalars: crops)),
                                    weight: tape.constant(conv.weight.value), bias: tape.constant(conv.bias.value),
                                    stride: s, padding: 0, activation: .relu).value
            patch = recomputed.scalars
            region = starts
            size = r
        }
        // The last conv layer's activations of every copy: clean, with each copy's region replaced.
        let last = clean[3]
        let (c, h, w) = (last.shape[1], last.shape[2], last.shape[3])
        var features = [Float](repeating: 0, count: (n + 1) * c * h * w)
        for i in 0...n { features.replaceSubrange((i * c * h * w)..<((i + 1) * c * h * w), with: last.scalars) }
        for i in 0..<n {
            let (u, v) = region[i]
            for ch in 0..<c { for y in 0..<size.h { for x in 0..<size.w {
                features[(((i + 1) * c + ch) * h + u + y) * w + v + x] = patch[((i * c + ch) * size.h + y) * size.w + x]
            } } }
        }
        return head(tape.constant(Tensor(shape: [n + 1, c, h, w], scalars: features))).value
    }
}
