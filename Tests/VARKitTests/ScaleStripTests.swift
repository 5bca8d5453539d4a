import Foundation
import Testing
@testable import VARCore
import VARKit

/// The coarse-to-fine strip on the tiny VQVAE of the CLI tests (random weights, 8×8 images, 4 scales).
@Suite("Generation: coarse-to-fine scale strip")
struct ScaleStripTests {
    static func pyramid(batch: Int, vocab: Int, patchSizes: [Int], seed: UInt64) -> [[Int32]] {
        var rng = MT19937(seed: seed)
        return patchSizes.map { pn in (0..<(batch * pn * pn)).map { _ in Int32(rng.next() % UInt32(vocab)) } }
    }

    @Test func lastTileIsTheImageAndEveryScaleHasATile() throws {
        let vq = try VQVAE.load(path: TinyWeights.directory + "/vqvae.pth")
        let sizes = vq.config.patchSizes
        let tokens = Self.pyramid(batch: 2, vocab: vq.config.vocabSize, patchSizes: sizes, seed: 3)
        let stages = try ScaleStrip.stages(tokens: tokens, vqvae: vq, parallelism: .allCores)
        let finals = try RGBImage.images(from: vq.decode(tokens: tokens))
        #expect(stages.count == 2)
        for b in 0..<2 {
            #expect(stages[b].count == sizes.count)
            // Same additions in the same order as decode(tokens:): identical bytes expected; tolerance 1 level.
            let last = stages[b].last!
            let maxDiff = zip(last.pixels, finals[b].pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(maxDiff <= 1)
            #expect(stages[b][0] != last)                 // the first scale alone is a different (coarse) picture
        }
        // Image 1's stages do not depend on image 0 (per-image f̂).
        let single = try ScaleStrip.stages(tokens: tokens.enumerated().map { si, t in
            Array(t[(sizes[si] * sizes[si])...]) }, vqvae: vq, parallelism: .allCores)
        #expect(single[0] == stages[1])
    }

    @Test func stripLayoutAndMakerBars() throws {
        let tiles = (0..<4).map { i in RGBImage(width: 5, height: 6, fill: (UInt8(10 * i), 200, 0)) }
        let makers = ScaleStrip.Maker.schedule(scaleCount: 4, draftSteps: 2)
        #expect(makers == [.drafter, .drafter, .refiner, .refiner])
        #expect(ScaleStrip.Maker.schedule(scaleCount: 3, draftSteps: nil) == [.model, .model, .model])
        let strip = try ScaleStrip.strip(tiles, makers: makers)
        let p = ScaleStrip.padding
        #expect(strip.width == 4 * 5 + 5 * p)
        #expect(strip.height == 6 + ScaleStrip.barGap + ScaleStrip.barHeight + 2 * p)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(strip.pixels[((y * strip.width + x) * 3)..<((y * strip.width + x) * 3 + 3)]) }
        for i in 0..<4 {
            let x = p + i * (5 + p) + 2
            #expect(pixel(x, p + 3) == [UInt8(10 * i), 200, 0])
            let c = makers[i].color
            #expect(pixel(x, p + 6 + ScaleStrip.barGap) == [c.0, c.1, c.2])
        }
        let bg = ScaleStrip.background
        #expect(pixel(0, 0) == [bg.0, bg.1, bg.2])
        #expect(try ScaleStrip.strip(tiles, makers: nil).height == 6 + 2 * p)
        #expect(throws: RuntimeError.self) { try ScaleStrip.strip(tiles, makers: [.model]) }
        #expect(throws: RuntimeError.self) { try ScaleStrip.strip([], makers: nil) }
    }
}
