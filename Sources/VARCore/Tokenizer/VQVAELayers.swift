/// The VQVAE's building blocks (docs/model.md §2.1, §4.1, §4.2), each built from its checkpoint prefix.

/// A 2-D convolution layer: `P.weight (Co, Ci, k, k)`, `P.bias (Co)`.
public struct Conv2dLayer: Sendable {
    public let weight: Tensor   // (Co, Ci, k, k)
    public let bias: Tensor     // (Co)
    public let stride: Int
    public let padding: ConvPadding

    public init(_ w: some LayerWeights, in ci: Int, out co: Int, kernel k: Int,
                stride: Int = 1, padding: ConvPadding) {
        weight = w("weight", [co, ci, k, k])
        bias = w("bias", [co])
        self.stride = stride
        self.padding = padding
    }

    public var outChannels: Int { weight.shape[0] }

    /// `conv(x) + bias (+ residual)`; `upsample2x` reads `x` through a nearest 2× upsampling.
    public func callAsFunction(_ x: Tensor, upsample2x: Bool = false, residual: Tensor? = nil,
                               workspace: ConvWorkspace) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, upsample2x: upsample2x,
                 residual: residual, workspace: workspace)
    }
}

/// GroupNorm(32 groups, eps 1e-6) with affine `P.weight`, `P.bias` `(c)`.
public struct GroupNormLayer: Sendable {
    public let weight: Tensor   // (c)
    public let bias: Tensor     // (c)

    public init(_ w: some LayerWeights, channels c: Int) {
        weight = w("weight", [c])
        bias = w("bias", [c])
    }

    public func callAsFunction(_ x: Tensor, silu: Bool, workspace: ConvWorkspace) -> Tensor {
        x.groupNorm(groups: 32, weight: weight, bias: bias, eps: 1e-6, silu: silu, workspace: workspace)
    }

    /// In place, for an activation nothing else needs.
    public func apply(_ x: inout Tensor, silu: Bool, parallelism: Parallelism) {
        x.applyGroupNorm(groups: 32, weight: weight, bias: bias, eps: 1e-6, silu: silu, parallelism: parallelism)
    }
}

/// ResnetBlock `ci → co` (docs/model.md §4.1): `shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))))))`.
public struct ResnetBlock: Sendable {
    public let norm1: GroupNormLayer, conv1: Conv2dLayer
    public let norm2: GroupNormLayer, conv2: Conv2dLayer
    /// 1×1 conv `ci → co`, present only when `ci ≠ co`.
    public let ninShortcut: Conv2dLayer?

    public init(_ w: some LayerWeights, in ci: Int, out co: Int) {
        norm1 = GroupNormLayer(w.scope("norm1"), channels: ci)
        conv1 = Conv2dLayer(w.scope("conv1"), in: ci, out: co, kernel: 3, padding: .symmetric(1))
        norm2 = GroupNormLayer(w.scope("norm2"), channels: co)
        conv2 = Conv2dLayer(w.scope("conv2"), in: co, out: co, kernel: 3, padding: .symmetric(1))
        ninShortcut = ci != co
            ? Conv2dLayer(w.scope("nin_shortcut"), in: ci, out: co, kernel: 1, padding: .symmetric(0)) : nil
    }

    public func callAsFunction(_ x: Tensor, workspace: ConvWorkspace) -> Tensor {
        let a = norm1(x, silu: true, workspace: workspace)
        var h = conv1(a, workspace: workspace)
        workspace.recycle(consume a)
        norm2.apply(&h, silu: true, parallelism: workspace.parallelism)
        let shortcut = ninShortcut.map { $0(x, workspace: workspace) } ?? x
        // The residual add is fused into conv2's output initialisation.
        let out = conv2(h, residual: shortcut, workspace: workspace)
        workspace.recycle(consume h)
        if ninShortcut != nil { workspace.recycle(consume shortcut) }
        return out
    }
}

/// Single-head spatial self-attention with `c` channels (docs/model.md §4.2):
/// `x + proj_out(attention(qkv(norm(x))))`, scale `c^(−1/2)`.
public struct AttnBlock: Sendable {
    public let norm: GroupNormLayer
    public let qkv: Conv2dLayer        // 1×1, c → 3c
    public let projOut: Conv2dLayer    // 1×1, c → c

    public init(_ w: some LayerWeights, channels c: Int) {
        norm = GroupNormLayer(w.scope("norm"), channels: c)
        qkv = Conv2dLayer(w.scope("qkv"), in: c, out: 3 * c, kernel: 1, padding: .symmetric(0))
        projOut = Conv2dLayer(w.scope("proj_out"), in: c, out: c, kernel: 1, padding: .symmetric(0))
    }

    public func callAsFunction(_ x: Tensor, workspace: ConvWorkspace) -> Tensor {
        let y = norm(x, silu: false, workspace: workspace)
        let q = qkv(y, workspace: workspace)                   // (B, 3c, h, w)
        workspace.recycle(consume y)
        let o = q.spatialAttention(parallelism: workspace.parallelism)   // (B, c, h, w)
        workspace.recycle(consume q)
        let out = projOut(o, residual: x, workspace: workspace)
        workspace.recycle(consume o)
        return out
    }
}
