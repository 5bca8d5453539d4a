import Foundation
import Testing
@testable import VARCore
import VARKit

@Suite struct CoDeTests {
    let config = tinyVARConfig()

    /// With the same weights as drafter and refiner, CoDe equals plain generation (docs/model.md §7.3 properties):
    /// tokens exactly, for every split N — through the prefill path (two model objects) and through the
    /// cache handover (one object) — with and without more_smooth.
    @Test(arguments: [false, true])
    func sameModelEqualsPlainGeneration(moreSmooth: Bool) throws {
        let tok = NearestTokenizer(config: config)
        let a = VARModel(config: config, randomSeed: 31)
        let twin = VARModel(config: config, randomSeed: 31)
        let sampling = SamplingConfig(cfg: 2.5, topK: .uniform(25), topP: 0.9,
                                      temperature: .perScale([1.1, 1.1, 1.0, 1.0]), moreSmooth: moreSmooth)
        let labels = [1, 4], seeds: [UInt64] = [42, 43]
        let plain = try VARGenerator(model: a, tokenizer: tok).generate(labels: labels, seeds: seeds, sampling: sampling)
        for n in 1..<config.scaleCount {
            for refiner in [twin, a] {
                let code = try CoDeGenerator(drafter: a, refiner: refiner, tokenizer: tok, draftSteps: n)
                var stages: [GenerationProgress.Stage] = []
                let r = try code.generate(labels: labels, seeds: seeds, sampling: sampling) { stages.append($0.stage); return true }
                #expect(r.tokens == plain.tokens, "N = \(n), handover \(refiner === a)")
                let diff = zip(r.fHat.data, plain.fHat.data).map { abs($0 - $1) }.max() ?? 0
                #expect(diff <= 1e-5)
                #expect(stages == Array(repeating: .draft, count: n) + Array(repeating: .refine, count: config.scaleCount - n))
            }
        }
    }

    /// The hub holds the inputs of scales 1 … N (docs/model.md §7.2).
    @Test func hubShape() throws {
        let tok = NearestTokenizer(config: config)
        let d = VARModel(config: config, randomSeed: 32)
        let r = VARModel(config: tinyVARConfig(depth: 1, width: 16, heads: 1), randomSeed: 33)
        let code = try CoDeGenerator(drafter: d, refiner: r, tokenizer: tok, draftSteps: 2)
        let draft = try code.draft(labels: [0, 2], seeds: [1, 2], sampling: SamplingConfig())
        #expect(draft.hub.shape == [2, config.scaleEnds[2] - 1, config.zChannels])
        #expect(draft.tokens.count == 2)
        // Its last part is the next input of the drafter's f̂ at scale N.
        let vN = tok.nextInput(draft.fHat, after: 1)
        #expect(Array(draft.hub.data[(4 * 4)..<(13 * 4)]) == Array(vN.data[0..<(9 * 4)]))
        let out = try code.refine(draft, sampling: SamplingConfig())
        #expect(out.tokens.count == config.scaleCount)
        #expect(code.kvCacheBytes(batch: 2) == max(code.drafterKVCacheBytes(batch: 2), code.refinerKVCacheBytes(batch: 2)))
        #expect(code.arena.bytes >= code.kvCacheBytes(batch: 2))
    }

    /// Refining the same draft twice gives the same result, also when the cache was handed over.
    @Test func refineTwice() throws {
        let tok = NearestTokenizer(config: config)
        let m = VARModel(config: config, randomSeed: 35)
        let code = try CoDeGenerator(drafter: m, refiner: m, tokenizer: tok, draftSteps: 2)
        let s = SamplingConfig(cfg: 2, topK: .uniform(16), topP: 0.9)
        let draft = try code.draft(labels: [3], seeds: [9], sampling: s)
        let first = try code.refine(draft, sampling: s)
        let second = try code.refine(draft, sampling: s)
        #expect(first.tokens == second.tokens)
        #expect(GenerationFixtures.maxAbsDiff(first.fHat.data, second.fHat.data) <= 1e-5)
    }

    @Test func badPairsAreRefused() {
        let tok = NearestTokenizer(config: config)
        let d = VARModel(config: config, randomSeed: 34)
        func refused(_ other: VARConfig, n: Int = 2) -> Bool {
            do { _ = try CoDeGenerator(drafter: d, refiner: VARModel(config: other, randomSeed: 1), tokenizer: tok, draftSteps: n); return false }
            catch is GenerationError { return true } catch { return false }
        }
        #expect(refused(tinyVARConfig(vocab: 32)))
        #expect(refused(tinyVARConfig(cvae: 8)))
        #expect(refused(tinyVARConfig(patchSizes: [1, 2, 4])))
        #expect(refused(tinyVARConfig(classes: 6)))
        #expect(refused(config, n: 0))
        #expect(refused(config, n: 4))
        #expect(!refused(tinyVARConfig(depth: 1, width: 16, heads: 2), n: 3))
    }
}
