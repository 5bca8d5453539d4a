import Foundation
import Testing
@testable import VARCore
import VARKit

/// CoDe against the PyTorch reference (`python3 tools/make_fixtures.py --part tiny` and `--part pair`).
@Suite struct CoDeFixtureTests {
    /// The tiny drafter (d2, C 96, head dim 48) + refiner (d1, C 64) pair, N ∈ {1, 2}: hub and drafter f̂
    /// within 1e-5, every scale's tokens exactly, final f̂ within 1e-5.
    @Test(arguments: [1, 2])
    func tinyPairMatchesReference(n: Int) throws {
        let drafter = try VARModel.load(path: GenerationFixtures.path("tiny_drafter.pth"))
        let refiner = try VARModel.load(path: GenerationFixtures.path("tiny_refiner.pth"))
        let vae = try VQVAE.load(path: GenerationFixtures.path("tiny_vqvae.pth"))
        let t = try GenerationFixtures.open("tiny_pair.safetensors")
        let prefix = "pair.N\(n)"
        let (labels, seeds, sampling) = try GenerationFixtures.run(t, prefix)
        let code = try CoDeGenerator(drafter: drafter, refiner: refiner, tokenizer: vae.quantizer, draftSteps: n)
        let draft = try code.draft(labels: labels, seeds: seeds, sampling: sampling)
        let hub = try t.tensor(prefix + ".hub")
        #expect(draft.hub.shape == hub.shape)
        #expect(GenerationFixtures.maxAbsDiff(draft.hub.data, hub.data) <= 1e-5)
        #expect(GenerationFixtures.maxAbsDiff(draft.fHat.data, try t.tensor(prefix + ".draft_f_hat").data) <= 1e-5)
        let r = try code.refine(draft, sampling: sampling)
        #expect(r.tokens == (try GenerationFixtures.tokens(t, prefix, scales: drafter.config.scaleCount)))
        #expect(GenerationFixtures.maxAbsDiff(r.fHat.data, try t.tensor(prefix + ".f_hat").data) <= 1e-5)
    }

    /// Same tiny model as drafter and refiner (`code_same.N*`): equals the reference, which equals plain VAR.
    @Test(arguments: [1, 2, 3])
    func sameModelMatchesReference(n: Int) throws {
        let (model, vae, t) = try GenerationFixtures.tiny()
        let prefix = "code_same.N\(n)"
        let (labels, seeds, sampling) = try GenerationFixtures.run(t, prefix)
        let twin = try VARModel.load(path: GenerationFixtures.path("tiny_var.pth"))
        for refiner in [twin, model] {
            let code = try CoDeGenerator(drafter: model, refiner: refiner, tokenizer: vae.quantizer, draftSteps: n)
            let draft = try code.draft(labels: labels, seeds: seeds, sampling: sampling)
            #expect(GenerationFixtures.maxAbsDiff(draft.hub.data, try t.tensor(prefix + ".hub").data) <= 1e-5)
            let r = try code.refine(draft, sampling: sampling)
            #expect(r.tokens == (try GenerationFixtures.tokens(t, prefix, scales: model.config.scaleCount)))
            #expect(GenerationFixtures.maxAbsDiff(r.fHat.data, try t.tensor(prefix + ".f_hat").data) <= 1e-5)
        }
    }
}
