/// The multi-scale VQ autoencoder (docs/model.md §1.2, §4): encoder + `quant_conv`, quantizer,
/// `post_quant_conv` + decoder. Weights are requested by official key names with expected shapes.
public struct VQVAE: Sendable {
    public let config: VQVAEConfig
    public let encoder: VQVAEEncoder
    public let quantConv: Conv2dLayer
    public let quantizer: MultiScaleQuantizer
    public let postQuantConv: Conv2dLayer
    public let decoder: VQVAEDecoder

    /// Builds the model from the checkpoint root scope. `quantize.ema_vocab_hit_SV` (training
    /// statistics, docs/model.md §2.3) is not requested; callers using a strict reader should mark it optional
    /// and shape-ignored.
    public init(config: VQVAEConfig, weights w: some LayerWeights) {
        self.config = config
        let z = config.zChannels
        encoder = VQVAEEncoder(w.scope("encoder"), config: config)
        quantConv = Conv2dLayer(w.scope("quant_conv"), in: z, out: z, kernel: 3, padding: .symmetric(1))
        quantizer = MultiScaleQuantizer(w.scope("quantize"), config: config)
        postQuantConv = Conv2dLayer(w.scope("post_quant_conv"), in: z, out: z, kernel: 3, padding: .symmetric(1))
        decoder = VQVAEDecoder(w.scope("decoder"), config: config)
    }

    /// Continuous latent `f = quant_conv(encoder(2x − 1))` of images `(B, 3, H, W)` in [0, 1];
    /// returns `(B, Cvae, H/2^(L−1), W/2^(L−1))`.
    /// `workspace` holds the convolutions' scratch memory and their `Parallelism`; pass the same one to
    /// successive calls to avoid re-faulting it.
    public func encode(_ image: Tensor, workspace: ConvWorkspace) -> Tensor {
        precondition(image.rank == 4 && image.shape[1] == 3, "encode: image \(image.shape) must be (B, 3, H, W)")
        var x = image
        for i in 0..<x.count { x.data[i] = 2 * x.data[i] - 1 }
        return quantConv(encoder(x, workspace: workspace), workspace: workspace)
    }

    /// Images `(B, 3, H, W)` in [0, 1] from a latent `f̂` `(B, Cvae, h, w)`:
    /// `(clamp(decoder(post_quant_conv(f̂)), −1, 1) + 1) / 2` (docs/model.md §4.4). The default workspace runs the 3×3
    /// convolutions as Winograd F(4×4, 3×3) (`ConvWorkspace.winogradTile`).
    public func decode(_ fHat: Tensor, workspace: ConvWorkspace) -> Tensor {
        precondition(fHat.rank == 4 && fHat.shape[1] == config.zChannels,
                     "decode: latent \(fHat.shape) must be (B, \(config.zChannels), h, w)")
        var img = decoder(postQuantConv(fHat, workspace: workspace), workspace: workspace)
        img.data.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = (min(max(p[i], -1), 1) + 1) * 0.5 }
        }
        return img
    }

    /// `encode` with a fresh workspace on `parallelism` (default: one worker per core).
    public func encode(_ image: Tensor, parallelism: Parallelism = .allCores) -> Tensor {
        encode(image, workspace: ConvWorkspace(parallelism: parallelism))
    }

    /// `decode` with a fresh workspace on `parallelism` (default: one worker per core), Winograd F(4×4, 3×3).
    public func decode(_ fHat: Tensor, parallelism: Parallelism = .allCores) -> Tensor {
        decode(fHat, workspace: ConvWorkspace(winogradTile: 4, parallelism: parallelism))
    }

    /// Token pyramid of images `(B, 3, H, W)` in [0, 1] (docs/model.md §4.7); per scale `B·pn²` indices.
    public func tokens(from image: Tensor, parallelism: Parallelism = .allCores) -> [[Int32]] {
        quantizer.tokens(fromLatent: encode(image, parallelism: parallelism), parallelism: parallelism)
    }

    /// Images in [0, 1] from a token pyramid (docs/model.md §4.8).
    public func decode(tokens: [[Int32]], parallelism: Parallelism = .allCores) -> Tensor {
        decode(quantizer.fHat(fromTokens: tokens, parallelism: parallelism), parallelism: parallelism)
    }
}
