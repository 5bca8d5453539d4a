import VARCore

/// Decodes batch after batch with one VQVAE, keeping the decoder's buffers (its recycled activations and the
/// Winograd transform buffers) from one call to the next while the batch size stays the same.
///
/// A fresh decoder workspace per call writes every activation into newly mapped memory, and the kernel then
/// clears each page on first touch. On the project machine that cost 0.4 s per 512 MB, and it more than doubled
/// a VAR-d16 decode (docs/performance.md §3, "Pages touched once"). Kept, the second and later decodes write
/// into pages that are already there. When the batch size changes, the old buffers are dropped before the new
/// decode starts, so at most one batch size's buffers are held.
///
/// What it keeps is bounded by one decode's peak (the arrays held between calls all coexisted at the end of the
/// last call); `MemoryPrediction` counts them during the next batch's generation. Not thread-safe: one call at a
/// time.
public final class ImageDecoder {
    public let vqvae: VQVAE
    public let parallelism: Parallelism
    private var kept: (batch: Int, workspace: ConvWorkspace)?

    public init(vqvae: VQVAE, parallelism: Parallelism) {
        self.vqvae = vqvae; self.parallelism = parallelism
    }

    /// The batch size whose buffers are held (nil before the first decode).
    public var keptBatch: Int? { kept?.batch }

    /// Images `(B, 3, H, W)` in [0, 1] from a latent `f̂` `(B, Cvae, h, w)` (`VQVAE.decode`).
    public func decode(_ fHat: Tensor) -> Tensor {
        let batch = fHat.shape.first ?? 1
        // A new workspace allocates nothing until used: the other size's buffers are gone before this decode runs.
        if kept?.batch != batch { kept = (batch, ConvWorkspace(winogradTile: 4, parallelism: parallelism)) }
        return vqvae.decode(fHat, workspace: kept!.workspace)
    }

    /// Images from a token pyramid (docs/model.md §4.8); per scale `(B, pn²)`.
    public func decode(tokens: [[Int32]]) throws -> [RGBImage] {
        try RGBImage.images(from: decode(vqvae.quantizer.fHat(fromTokens: tokens, parallelism: parallelism)))
    }

    /// Drops the kept buffers (the next decode starts from fresh memory).
    public func releaseBuffers() { kept = nil }
}
