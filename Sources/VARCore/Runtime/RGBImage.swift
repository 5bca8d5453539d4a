/// An 8-bit RGB image, rows top to bottom, pixels interleaved `(H, W, 3)` — the layout of PNG files and
/// of NPZ sample batches.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height · width · 3` bytes, HWC.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly coloured image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: p.count, by: 3) { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2 }
        self.init(width: width, height: height, pixels: p)
    }

    /// The official float → byte conversion (docs/model.md §6.6): clamp to [0, 1], then `⌊255·x⌋` (truncation, not
    /// rounding), so only exactly 1.0 maps to 255. NaN maps to 0.
    @inlinable
    public static func byte(_ x: Float) -> UInt8 {
        guard x > 0 else { return 0 }          // also catches NaN
        if x >= 1 { return 255 }
        return UInt8(min(254, (255 * x).rounded(.down)))
    }

    /// Splits a `(B, 3, H, W)` tensor of values in [0, 1] (the generator's output) into B images, converting
    /// each value with `byte(_:)`. A NaN anywhere (the VQVAE decoder's clamp keeps NaN) throws
    /// `RuntimeError.nonFiniteImage` naming the image, so broken numerics never become a PNG.
    public static func images(from tensor: Tensor) throws -> [RGBImage] {
        guard tensor.rank == 4, tensor.shape[1] == 3 else {
            throw RuntimeError.imageTensorShape(found: tensor.shape)
        }
        let b = tensor.shape[0], h = tensor.shape[2], w = tensor.shape[3]
        let plane = h * w
        if let bad = Finite.firstNonFinite(tensor.data) {
            throw RuntimeError.nonFiniteImage(index: bad / max(1, 3 * plane))
        }
        return tensor.data.withUnsafeBufferPointer { x in
            (0..<b).map { i in
                var px = [UInt8](repeating: 0, count: plane * 3)
                let base = i * 3 * plane
                for c in 0..<3 {
                    for p in 0..<plane { px[p * 3 + c] = byte(x[base + c * plane + p]) }
                }
                return RGBImage(width: w, height: h, pixels: px)
            }
        }
    }

    /// The image as a `(1, 3, H, W)` tensor in [0, 1] (`byte / 255`), e.g. for the VQVAE encoder
    /// (which then maps it to [−1, 1]).
    public func tensor() -> Tensor {
        let plane = width * height
        var data = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            for c in 0..<3 { data[c * plane + p] = Float(pixels[p * 3 + c]) / 255 }
        }
        return Tensor(shape: [1, 3, height, width], data: data)
    }

    /// Lays equally sized images out in a grid, row-major, with `padding` pixels of `background` between
    /// cells and around the border. `columns` defaults to ⌈√count⌉.
    public static func grid(_ images: [RGBImage], columns: Int? = nil, padding: Int = 2,
                            background: (UInt8, UInt8, UInt8) = (0, 0, 0)) throws -> RGBImage {
        guard let first = images.first else { throw RuntimeError.emptyLayout(.grid) }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw RuntimeError.unequalImageSizes(.grid)
        }
        let cols = max(1, min(columns ?? Int(Double(images.count).squareRoot().rounded(.up)), images.count))
        let rows = (images.count + cols - 1) / cols
        let w = cols * first.width + (cols + 1) * padding
        let h = rows * first.height + (rows + 1) * padding
        var out = RGBImage(width: w, height: h, fill: background)
        let rowBytes = first.width * 3
        for (i, img) in images.enumerated() {
            let x0 = padding + (i % cols) * (first.width + padding)
            let y0 = padding + (i / cols) * (first.height + padding)
            for y in 0..<img.height {
                let dst = ((y0 + y) * w + x0) * 3
                out.pixels.replaceSubrange(dst..<(dst + rowBytes), with: img.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            }
        }
        return out
    }
}
