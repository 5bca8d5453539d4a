import Testing
import VARKit

/// `ImageDecoder` keeps the decoder's buffers between calls: the recycled arrays it hands to the next decode
/// hold the previous call's values, so every layer must overwrite its output completely. Decoding the same
/// latents again, after another batch size and after other latents, must give the pixels of a fresh decode.
@Suite struct ImageDecoderTests {
    /// A VQVAE with 64×64 images: its last level's 3×3 convolutions run Winograd F(4×4, 3×3) (outputs of at
    /// least 64×64), the path the decoder takes at the official size.
    static let config = VQVAEConfig(vocabSize: 32, zChannels: 8, ch: 32, chMult: [1, 2], numResBlocks: 1,
                                    patchSizes: [1, 2, 4, 8, 16, 32], phiCount: 2,
                                    phiIndex: VQVAEConfig.phiTable(scaleCount: 6, phiCount: 2), quantResi: 0.5)

    static func tokens(batch: Int, seed: UInt64) -> [[Int32]] {
        var g = MT19937(seed: seed)
        return config.patchSizes.map { pn in (0..<(batch * pn * pn)).map { _ in Int32(g.next() % 32) } }
    }

    /// Largest difference between two decodes. Not bit-exact: OpenBLAS's thread count is process state, which
    /// tests running alongside change, and its sgemm rounds differently with 1 and 2 threads (~1e-7 here). A
    /// layer that left a kept array's old values in place would differ by far more than the 1e-4 allowed.
    static func largestDifference(_ x: Tensor, _ y: Tensor) -> Float {
        precondition(x.shape == y.shape)
        return zip(x.data, y.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func keptBuffersGiveTheFreshDecodesPixels() throws {
        #expect(Self.config.imageSize == 64)
        let vqvae = VQVAE(config: Self.config, weights: RandomWeights(seed: 5))
        let par = Parallelism(workers: 2)
        func latent(batch: Int, seed: UInt64) -> Tensor {
            vqvae.quantizer.fHat(fromTokens: Self.tokens(batch: batch, seed: seed), parallelism: par)
        }
        let a = latent(batch: 2, seed: 1), b = latent(batch: 2, seed: 2), one = latent(batch: 1, seed: 3)
        let decoder = ImageDecoder(vqvae: vqvae, parallelism: par)
        func matchesFresh(_ f: Tensor) -> Bool {
            Self.largestDifference(decoder.decode(f), vqvae.decode(f, parallelism: par)) <= 1e-4
        }
        #expect(decoder.keptBatch == nil)
        #expect(matchesFresh(a))
        #expect(decoder.keptBatch == 2)
        #expect(matchesFresh(b))       // the kept arrays held a's values
        #expect(matchesFresh(a))
        #expect(matchesFresh(one))     // another size: new buffers
        #expect(decoder.keptBatch == 1)
        #expect(matchesFresh(a))
        decoder.releaseBuffers()
        #expect(decoder.keptBatch == nil)
        #expect(matchesFresh(b))
        // Different latents do differ by far more than the allowance, so the comparison can fail.
        #expect(Self.largestDifference(decoder.decode(a), decoder.decode(b)) > 0.01)
        // The token entry point decodes the same latent (8-bit pixels: within one level, for the same reason).
        let viaTokens = try decoder.decode(tokens: Self.tokens(batch: 1, seed: 3))
        let viaLatent = try RGBImage.images(from: decoder.decode(one))
        #expect(viaTokens.count == 1 && viaLatent.count == 1)
        #expect(zip(viaTokens[0].pixels, viaLatent[0].pixels).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
    }
}
