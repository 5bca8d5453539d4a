/// What generation needs from the multi-scale tokenizer (docs/model.md §4.7–4.9): the scale schedule,
/// the codebook, and the two updates made after every scale. Implemented by the VQVAE's quantizer
/// (Tokenizer/); generation and CoDe depend only on this protocol.
public protocol ScaleTokenizer {
    /// Side length of every scale, e.g. `(1, 2, 3, 4, 5, 6, 8, 10, 13, 16)`; the last is the latent side.
    var patchSizes: [Int] { get }
    /// Codebook size V.
    var vocabSize: Int { get }
    /// Latent channels Cvae.
    var latentChannels: Int { get }
    /// The codebook E, `(V, Cvae)`.
    var codebook: Tensor { get }

    /// `f̂ += φ_{idx(si)}(bicubic(h, last))` (no resize at the last scale), docs/model.md §4.9.
    /// `h` is `(B, Cvae, pn, pn)` with `pn = patchSizes[si]`; `fHat` is `(B, Cvae, last, last)`, float32.
    func addScale(_ h: Tensor, scale si: Int, to fHat: inout Tensor, parallelism: Parallelism)

    /// The transformer input for scale `si + 1`: `area(f̂, pn_{si+1})` flattened row-major to
    /// `(B, pn_{si+1}², Cvae)`. Only valid for `si < patchSizes.count − 1`.
    func nextInput(_ fHat: Tensor, after si: Int) -> Tensor
}
