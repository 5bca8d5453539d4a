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

    @Test func keptBuffersGiveTheFreshDecodesPixels() throws {
        #expect(Self.config.imageSize == 64)
        let vqvae = VQVAE(config: Self.config, weights: RandomWeights(seed: 5))
        let par = Parallelism(workers: 2)
        let a = Self.tokens(batch: 2, seed: 1), b = Self.tokens(batch: 2, seed: 2), one = Self.tokens(batch: 1, seed: 3)
        func fresh(_ t: [[Int32]]) throws -> [RGBImage] {
            try RGBImage.images(from: vqvae.decode(tokens: t, parallelism: par))
        }
        let decoder = ImageDecoder(vqvae: vqvae, parallelism: par)
        #expect(decoder.keptBatch == nil)
        let first = try decoder.decode(tokens: a)
        #expect(decoder.keptBatch == 2)
        #expect(first == (try fresh(a)))
        #expect(try decoder.decode(tokens: b) == (try fresh(b)))       // the kept arrays hold a's values
        #expect(try decoder.decode(tokens: a) == first)
        #expect(try decoder.decode(tokens: one) == (try fresh(one)))   // another size: new buffers
        #expect(decoder.keptBatch == 1)
        #expect(try decoder.decode(tokens: a) == first)
        decoder.releaseBuffers()
        #expect(decoder.keptBatch == nil)
        #expect(try decoder.decode(tokens: b) == (try fresh(b)))
    }
}
