/// Zero padding added around a convolution's input, in pixels per side.
public struct ConvPadding: Equatable, Sendable {
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top; self.left = left; self.bottom = bottom; self.right = right
    }

    /// `p` zero pixels on every side (PyTorch `padding=p`).
    public static func symmetric(_ p: Int) -> ConvPadding { ConvPadding(top: p, left: p, bottom: p, right: p) }

    /// One zero row at the bottom and one zero column at the right, nothing on the top/left:
    /// the VQVAE encoder's downsampling (docs/model.md §4.3, pitfall 12).
    public static let bottomRight = ConvPadding(top: 0, left: 0, bottom: 1, right: 1)
}

/// Scratch memory reused by successive convolutions (the im2col matrix). Large buffers that are
/// freed and re-allocated are page-faulted in again on every use (docs/performance.md §3), so a model
/// creates one workspace per forward pass and hands it to every convolution.
/// Not thread-safe: one workspace per concurrent caller.
public final class ConvWorkspace {
    private(set) var capacity = 0
    private var storage: UnsafeMutablePointer<Float>?

    /// Largest im2col block (in floats) a convolution materialises at once; bigger convolutions
    /// are processed in bands of output rows. 2M floats = 8 MB keeps the block near the caches.
    public var maxBlockFloats: Int

    /// Use Winograd F(2×2, 3×3) for 3×3 stride-1 padding-1 convolutions (see Conv2D+Winograd).
    /// Off only to compare against the im2col path.
    public var allowWinograd: Bool

    /// Output tile of the Winograd path: 2 for F(2×2, 3×3) (float32-exact to rounding; the encoder, whose
    /// nearest-codeword choice must match PyTorch's), 4 for F(4×4, 3×3) (~2× faster; the decoder).
    public var winogradTile: Int

    /// Workers of the convolutions (and of the other VQVAE layers) run with this workspace.
    public let parallelism: Parallelism

    public init(maxBlockFloats: Int = 2 << 20, allowWinograd: Bool = true, winogradTile: Int = 2,
                parallelism: Parallelism) {
        precondition(winogradTile == 2 || winogradTile == 4, "winogradTile is 2 or 4")
        self.parallelism = parallelism
        self.maxBlockFloats = maxBlockFloats
        self.allowWinograd = allowWinograd
        self.winogradTile = winogradTile
    }

    deinit {
        storage?.deallocate()
    }

    /// Activation arrays handed back by layers once dead, reused for the next outputs of the same
    /// size: a decode then touches each page once instead of faulting every new activation in.
    private var pool: [[Float]] = []
    /// Arrays kept at most, smallest dropped first. A decode cycles through ~3 sizes per resolution
    /// level; the largest (256² × 160 floats, 42 MB) needs ~4 arrays, so the pool holds ≲ 250 MB for
    /// the official VQVAE, kept as long as the workspace lives.
    public var poolLimit = 12

    /// An array of `count` floats with unspecified contents (recycled when possible).
    public func takeArray(_ count: Int) -> [Float] {
        if let i = pool.lastIndex(where: { $0.count == count }) { return pool.remove(at: i) }
        return [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
    }

    /// Hands a dead tensor's storage back for reuse. Safe even if the array is still referenced
    /// elsewhere: writers get a copy-on-write copy then, never a shared buffer.
    public func recycle(_ t: Tensor) {
        if t.count < 4096 { return }
        pool.append(t.data)
        // Drop the smallest array: small ones are cheap to fault in again, the big ones are the point.
        if pool.count > poolLimit, let i = pool.indices.min(by: { pool[$0].count < pool[$1].count }) {
            pool.remove(at: i)
        }
    }

    /// A buffer of at least `count` floats, valid until the next call.
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let storage, count <= capacity { return storage }
        storage?.deallocate()
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        storage = p
        capacity = max(count, 1)
        return p
    }
}

/// Geometry of one 2-D convolution (NCHW input, OIHW weight, cross-correlation; docs/model.md §2).
public struct Conv2DShape: Equatable, Sendable {
    public var batch: Int, inChannels: Int, outChannels: Int
    /// Input height/width as stored (before the optional nearest upsampling).
    public var height: Int, width: Int
    public var kernel: Int, stride: Int
    public var padding: ConvPadding
    /// Reads the input through a nearest 2× upsampling (docs/model.md §3.2) without materialising it.
    public var upsample2x: Bool

    public init(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
                kernel: Int, stride: Int = 1, padding: ConvPadding = .symmetric(0), upsample2x: Bool = false) {
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.height = height; self.width = width; self.kernel = kernel; self.stride = stride
        self.padding = padding; self.upsample2x = upsample2x
    }

    var factor: Int { upsample2x ? 2 : 1 }
    /// Height/width of the (virtually upsampled) input the kernel slides over.
    var virtualHeight: Int { height * factor }
    var virtualWidth: Int { width * factor }
    public var outHeight: Int { (virtualHeight + padding.top + padding.bottom - kernel) / stride + 1 }
    public var outWidth: Int { (virtualWidth + padding.left + padding.right - kernel) / stride + 1 }
    /// Rows of the im2col matrix: `Ci·k·k`.
    var patchSize: Int { inChannels * kernel * kernel }
    /// A 1×1 stride-1 unpadded convolution is a plain GEMM on the input.
    var isPointwise: Bool {
        kernel == 1 && stride == 1 && !upsample2x && padding == .symmetric(0)
    }
    /// Multiply-adds ×2.
    public var flops: Double {
        2 * Double(batch) * Double(outChannels) * Double(outHeight * outWidth) * Double(patchSize)
    }
}

/// The convolution kernel on raw buffers: im2col in bands of output rows into the workspace,
/// then one GEMM per band, `out (Co, band) += W (Co, Ci·k·k) · col (Ci·k·k, band)`.
public enum Conv2D {
    /// `output = conv(input) + bias + residual` (each addend optional).
    /// `input` `(B, Ci, H, W)`, `weight` `(Co, Ci, k, k)`, `output`/`residual` `(B, Co, Ho, Wo)`.
    /// `residual` may alias `output` (then it is added in place).
    public static func forward(_ g: Conv2DShape,
                               input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?,
                               residual: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>,
                               workspace: ConvWorkspace) {
        let ho = g.outHeight, wo = g.outWidth, hw = ho * wo, parallelism = workspace.parallelism
        precondition(ho > 0 && wo > 0, "conv2d: empty output for \(g)")
        if workspace.allowWinograd && winogradApplies(g) {
            // F(4,3) where the image is large enough to amortise its weight transform (36 floats per filter).
            let tile = workspace.winogradTile == 4 && g.outHeight * g.outWidth >= 64 * 64 ? 4 : 2
            winograd(g, tile: tile, input: input, weight: weight, bias: bias, residual: residual, output: output,
                     workspace: workspace)
            return
        }
        let outCount = g.batch * g.outChannels * hw
        // Prefill the output with residual + bias so the GEMMs accumulate with beta = 1.
        var beta: Float = 0
        if let residual {
            if UnsafePointer(output) != residual { output.update(from: residual, count: outCount) }
            beta = 1
        }
        if let bias {
            parallelism.forEach(g.batch * g.outChannels, grain: max(1, 16384 / max(hw, 1))) { range in
                for bc in range {
                    let b = bias[bc % g.outChannels]
                    let o = output + bc * hw
                    if beta == 0 { o.update(repeating: b, count: hw) } else { for i in 0..<hw { o[i] += b } }
                }
            }
            beta = 1
        }
        let inPlane = g.inChannels * g.height * g.width
        let outPlane = g.outChannels * hw
        if g.isPointwise {
            for b in 0..<g.batch {
                BLAS.gemm(m: g.outChannels, n: hw, k: g.inChannels,
                          a: weight, lda: g.inChannels, b: input + b * inPlane, ldb: hw,
                          beta: beta, c: output + b * outPlane, ldc: hw, parallelism: parallelism)
            }
            return
        }
        let rowsPerBand = max(1, min(ho, workspace.maxBlockFloats / max(1, g.patchSize * wo)))
        let col = workspace.buffer(g.patchSize * rowsPerBand * wo)
        for b in 0..<g.batch {
            var oy0 = 0
            while oy0 < ho {
                let oy1 = min(ho, oy0 + rowsPerBand)
                let n = (oy1 - oy0) * wo
                im2col(g, input: input + b * inPlane, rows: oy0..<oy1, col: col, parallelism: parallelism)
                BLAS.gemm(m: g.outChannels, n: n, k: g.patchSize,
                          a: weight, lda: g.patchSize, b: UnsafePointer(col), ldb: n,
                          beta: beta, c: output + b * outPlane + oy0 * wo, ldc: hw, parallelism: parallelism)
                oy0 = oy1
            }
        }
    }

    /// Fills `col (Ci·k·k, rows·Wo)` for output rows `rows` of one image `(Ci, H, W)`.
    /// Row `(ci·k + ky)·k + kx`, column `(oy − rows.lowerBound)·Wo + ox` holds
    /// `in[ci, (oy·s + ky − top)/f, (ox·s + kx − left)/f]`, zero outside the (virtual) input.
    static func im2col(_ g: Conv2DShape, input: UnsafePointer<Float>, rows: Range<Int>,
                       col: UnsafeMutablePointer<Float>, parallelism: Parallelism) {
        let k = g.kernel, wo = g.outWidth, f = g.factor, s = g.stride
        let vh = g.virtualHeight, vw = g.virtualWidth
        let h = g.height, w = g.width
        let n = rows.count * wo
        let grain = max(1, 8192 / max(n, 1))
        parallelism.forEach(g.patchSize, grain: grain) { range in
            for r in range {
                let kx = r % k, ky = (r / k) % k, ci = r / (k * k)
                let plane = input + ci * h * w
                let dst0 = col + r * n
                // Valid output columns: 0 ≤ ox·s + kx − left < vw.
                let off = kx - g.padding.left
                let oxLo = off >= 0 ? 0 : (-off + s - 1) / s
                let oxHi = min(wo, vw - off <= 0 ? 0 : (vw - off + s - 1) / s)
                for oy in rows {
                    let dst = dst0 + (oy - rows.lowerBound) * wo
                    let vy = oy * s + ky - g.padding.top
                    if vy < 0 || vy >= vh || oxLo >= oxHi {
                        dst.update(repeating: 0, count: wo)
                        continue
                    }
                    let src = plane + (vy / f) * w
                    if oxLo > 0 { dst.update(repeating: 0, count: oxLo) }
                    if oxHi < wo { (dst + oxHi).update(repeating: 0, count: wo - oxHi) }
                    if s == 1 && f == 1 {
                        (dst + oxLo).update(from: src + (oxLo + off), count: oxHi - oxLo)
                    } else if s == 1 {
                        for ox in oxLo..<oxHi { dst[ox] = src[(ox + off) / f] }
                    } else {
                        for ox in oxLo..<oxHi { dst[ox] = src[(ox * s + off) / f] }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// 2-D convolution of a `(B, Ci, H, W)` tensor with an OIHW `(Co, Ci, k, k)` weight
    /// (cross-correlation, docs/model.md §2), plus optional bias `(Co)` and `residual` `(B, Co, Ho, Wo)`.
    /// With `upsample2x` the input is first upsampled 2× by nearest neighbour (docs/model.md §3.2), fused into
    /// the im2col step. Accuracy: GEMM accumulation order only (tested against a naive loop, ~1e-5 relative).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                       padding: ConvPadding = .symmetric(0), upsample2x: Bool = false,
                       residual: Tensor? = nil, workspace: ConvWorkspace) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d: input \(shape) and weight \(weight.shape) must be rank 4")
        precondition(weight.shape[1] == shape[1] && weight.shape[2] == weight.shape[3],
                     "conv2d: weight \(weight.shape) does not fit input \(shape)")
        let g = Conv2DShape(batch: shape[0], inChannels: shape[1], outChannels: weight.shape[0],
                            height: shape[2], width: shape[3], kernel: weight.shape[2], stride: stride,
                            padding: padding, upsample2x: upsample2x)
        let outShape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        if let bias { precondition(bias.count == g.outChannels, "conv2d: bias \(bias.shape) ≠ \(g.outChannels)") }
        if let residual { precondition(residual.shape == outShape, "conv2d: residual \(residual.shape) ≠ \(outShape)") }
        let ws = workspace
        var out = ws.takeArray(outShape.reduce(1, *))
        out.withUnsafeMutableBufferPointer { buf in
            data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    withOptionalPointer(bias) { bp in
                        withOptionalPointer(residual) { rp in
                            Conv2D.forward(g, input: x.baseAddress!, weight: w.baseAddress!, bias: bp,
                                           residual: rp, output: buf.baseAddress!, workspace: ws)
                        }
                    }
                }
            }
        }
        return Tensor(shape: outShape, data: out)
    }
}

/// Calls `body` with the tensor's storage, or with nil.
@inline(__always)
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.data.withUnsafeBufferPointer { body($0.baseAddress) }
}
