/// The VQVAE encoder (docs/model.md §4.3): image `(B, 3, H, W)` in [−1, 1] → `(B, Cvae, H/2^(L−1), W/2^(L−1))`.
public struct VQVAEEncoder: Sendable {
    /// One resolution level `down.l`.
    public struct Level: Sendable {
        public let blocks: [ResnetBlock]
        /// After each block, only at the last (lowest-resolution) level.
        public let attentions: [AttnBlock]
        /// Pad right/bottom, 3×3 stride 2; absent at the last level.
        public let downsample: Conv2dLayer?
    }

    public let convIn: Conv2dLayer
    public let levels: [Level]
    public let midBlock1: ResnetBlock, midAttention: AttnBlock, midBlock2: ResnetBlock
    public let normOut: GroupNormLayer
    public let convOut: Conv2dLayer

    public init(_ w: some LayerWeights, config: VQVAEConfig) {
        let widths = config.levelChannels
        let last = widths.count - 1
        convIn = Conv2dLayer(w.scope("conv_in"), in: 3, out: config.ch, kernel: 3, padding: .symmetric(1))
        var levels: [Level] = []
        var ci = config.ch
        for l in 0...last {
            let lw = w.scope("down").scope(l)
            let co = widths[l]
            var blocks: [ResnetBlock] = [], attns: [AttnBlock] = []
            for i in 0..<config.numResBlocks {
                blocks.append(ResnetBlock(lw.scope("block").scope(i), in: ci, out: co))
                ci = co
                if l == last { attns.append(AttnBlock(lw.scope("attn").scope(i), channels: co)) }
            }
            let down = l == last ? nil
                : Conv2dLayer(lw.scope("downsample").scope("conv"), in: co, out: co, kernel: 3, stride: 2,
                              padding: .bottomRight)
            levels.append(Level(blocks: blocks, attentions: attns, downsample: down))
        }
        self.levels = levels
        let mid = w.scope("mid")
        midBlock1 = ResnetBlock(mid.scope("block_1"), in: ci, out: ci)
        midAttention = AttnBlock(mid.scope("attn_1"), channels: ci)
        midBlock2 = ResnetBlock(mid.scope("block_2"), in: ci, out: ci)
        normOut = GroupNormLayer(w.scope("norm_out"), channels: ci)
        convOut = Conv2dLayer(w.scope("conv_out"), in: ci, out: config.zChannels, kernel: 3, padding: .symmetric(1))
    }

    public func callAsFunction(_ x: Tensor, workspace ws: ConvWorkspace) -> Tensor {
        var h = convIn(x, workspace: ws)
        for level in levels {
            for (i, block) in level.blocks.enumerated() {
                step(&h, ws) { block($0, workspace: ws) }
                if i < level.attentions.count { step(&h, ws) { level.attentions[i]($0, workspace: ws) } }
            }
            if let down = level.downsample { step(&h, ws) { down($0, workspace: ws) } }
        }
        step(&h, ws) { midBlock1($0, workspace: ws) }
        step(&h, ws) { midAttention($0, workspace: ws) }
        step(&h, ws) { midBlock2($0, workspace: ws) }
        normOut.apply(&h, silu: true, parallelism: ws.parallelism)
        return convOut(h, workspace: ws)
    }
}

/// The VQVAE decoder (docs/model.md §4.4): `(B, Cvae, h, w)` → `(B, 3, h·2^(L−1), w·2^(L−1))`, unclamped.
/// Levels are stored by resolution index (`up.l`, 0 = full resolution) and run from `up.(L−1)` to `up.0`.
public struct VQVAEDecoder: Sendable {
    public struct Level: Sendable {
        public let blocks: [ResnetBlock]
        /// After each block, only at the lowest-resolution level.
        public let attentions: [AttnBlock]
        /// Nearest 2× then 3×3 conv; absent at level 0.
        public let upsample: Conv2dLayer?
    }

    public let convIn: Conv2dLayer
    public let midBlock1: ResnetBlock, midAttention: AttnBlock, midBlock2: ResnetBlock
    /// Indexed by resolution level `l` (`up.l`).
    public let levels: [Level]
    public let normOut: GroupNormLayer
    public let convOut: Conv2dLayer

    public init(_ w: some LayerWeights, config: VQVAEConfig) {
        let widths = config.levelChannels
        let last = widths.count - 1
        var ci = widths[last]
        convIn = Conv2dLayer(w.scope("conv_in"), in: config.zChannels, out: ci, kernel: 3, padding: .symmetric(1))
        let mid = w.scope("mid")
        midBlock1 = ResnetBlock(mid.scope("block_1"), in: ci, out: ci)
        midAttention = AttnBlock(mid.scope("attn_1"), channels: ci)
        midBlock2 = ResnetBlock(mid.scope("block_2"), in: ci, out: ci)
        var byLevel = [Level?](repeating: nil, count: widths.count)
        for l in stride(from: last, through: 0, by: -1) {
            let lw = w.scope("up").scope(l)
            let co = widths[l]
            var blocks: [ResnetBlock] = [], attns: [AttnBlock] = []
            for i in 0...config.numResBlocks {
                blocks.append(ResnetBlock(lw.scope("block").scope(i), in: ci, out: co))
                ci = co
                if l == last { attns.append(AttnBlock(lw.scope("attn").scope(i), channels: co)) }
            }
            let up = l == 0 ? nil
                : Conv2dLayer(lw.scope("upsample").scope("conv"), in: co, out: co, kernel: 3, padding: .symmetric(1))
            byLevel[l] = Level(blocks: blocks, attentions: attns, upsample: up)
        }
        levels = byLevel.compactMap { $0 }
        normOut = GroupNormLayer(w.scope("norm_out"), channels: ci)
        convOut = Conv2dLayer(w.scope("conv_out"), in: ci, out: 3, kernel: 3, padding: .symmetric(1))
    }

    public func callAsFunction(_ z: Tensor, workspace ws: ConvWorkspace) -> Tensor {
        var h = convIn(z, workspace: ws)
        step(&h, ws) { midBlock1($0, workspace: ws) }
        step(&h, ws) { midAttention($0, workspace: ws) }
        step(&h, ws) { midBlock2($0, workspace: ws) }
        for level in levels.reversed() {
            for (i, block) in level.blocks.enumerated() {
                step(&h, ws) { block($0, workspace: ws) }
                if i < level.attentions.count { step(&h, ws) { level.attentions[i]($0, workspace: ws) } }
            }
            // The nearest 2× upsampling is fused into the convolution's input transform.
            if let up = level.upsample { step(&h, ws) { up($0, upsample2x: true, workspace: ws) } }
        }
        normOut.apply(&h, silu: true, parallelism: ws.parallelism)
        return convOut(h, workspace: ws)
    }
}

/// `h ← f(h)`, handing the old activation's storage back to the workspace for reuse.
@inline(__always)
func step(_ h: inout Tensor, _ ws: ConvWorkspace, _ f: (Tensor) -> Tensor) {
    let old = h
    h = f(old)
    ws.recycle(consume old)
}
