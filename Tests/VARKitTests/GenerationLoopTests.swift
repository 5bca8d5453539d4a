import Foundation
import Testing
@testable import VARCore
import VARKit

@Suite struct GenerationLoopTests {
    let config = tinyVARConfig()
    var tokenizer: NearestTokenizer { NearestTokenizer(config: config) }

    @Test func shapesProgressAndDeterminism() throws {
        let model = VARModel(config: config, randomSeed: 21)
        let gen = try VARGenerator(model: model, tokenizer: tokenizer)
        let sampling = SamplingConfig(cfg: 2, topK: .uniform(20), topP: 0.9, seed: 4)
        var reports: [GenerationProgress] = []
        let r = try gen.generate(labels: [0, 3], seeds: sampling.seeds(count: 2), sampling: sampling) {
            reports.append($0); return true
        }
        #expect(r.tokens.map(\.count) == config.patchSizes.map { 2 * $0 * $0 })
        #expect(r.fHat.shape == [2, config.zChannels, 4, 4])
        #expect(reports.map(\.scale) == [0, 1, 2, 3] && reports.last?.tokensDone == config.tokenCount)
        #expect(r.tokens.allSatisfy { $0.allSatisfy { $0 >= 0 && Int($0) < config.vocabSize } })
        // Same call, same result (buffers reused across calls must not leak state).
        let again = try gen.generate(labels: [0, 3], seeds: sampling.seeds(count: 2), sampling: sampling)
        #expect(again.tokens == r.tokens && again.fHat == r.fHat)
        // Tokens are not all the same (the tiny model samples varied tokens).
        #expect(Set(r.tokens[3]).count > 3)
    }

    /// Image i depends only on its label and seed, not on the batch (one generator per image).
    @Test func batchIndependence() throws {
        let model = VARModel(config: config, randomSeed: 22)
        let gen = try VARGenerator(model: model, tokenizer: tokenizer)
        let s = SamplingConfig(cfg: 3, topK: .uniform(0), topP: 0.95)
        let both = try gen.generate(labels: [1, 4], seeds: [10, 11], sampling: s)
        let second = try gen.generate(labels: [4], seeds: [11], sampling: s)
        for si in 0..<config.scaleCount {
            let n = config.patchSizes[si] * config.patchSizes[si]
            #expect(Array(both.tokens[si][n...]) == second.tokens[si])
        }
        let m = config.zChannels * 16
        let diff = zip(both.fHat.data[m...], second.fHat.data).map { abs($0 - $1) }.max() ?? 0
        #expect(diff <= 1e-5)
    }

    @Test func cancelAndValidation() throws {
        let model = VARModel(config: config, randomSeed: 23)
        let gen = try VARGenerator(model: model, tokenizer: tokenizer)
        #expect(throws: GenerationError.cancelled) {
            try gen.generate(labels: [0], seeds: [0], sampling: SamplingConfig()) { $0.scale < 1 }
        }
        #expect(throws: GenerationError.self) { try gen.generate(labels: [0, 1], seeds: [0], sampling: SamplingConfig()) }
        #expect(throws: GenerationError.self) { try gen.generate(labels: [6], seeds: [0], sampling: SamplingConfig()) }
        let other = NearestTokenizer(patchSizes: [1, 2, 4], vocabSize: 64, latentChannels: 4)
        #expect(throws: GenerationError.self) { try VARGenerator(model: model, tokenizer: other) }
    }

    /// Editing hook (docs/model.md §11): keeping every position reproduces the original tokens; keeping none is
    /// plain generation; kept positions still consume random numbers (the free ones are unchanged).
    @Test func editingHook() throws {
        let model = VARModel(config: config, randomSeed: 24)
        let gen = try VARGenerator(model: model, tokenizer: tokenizer)
        let s = SamplingConfig(cfg: 1.5, topK: .uniform(30), topP: 0.96)
        let plain = try gen.generate(labels: [2], seeds: [5], sampling: s)
        let original = try gen.generate(labels: [3], seeds: [77], sampling: s).tokens
        let all = EditingHook(keep: original.map { $0.map { _ in true } }, originalTokens: original)
        #expect(try gen.generate(labels: [2], seeds: [5], sampling: s, editing: all).tokens == original)
        let none = EditingHook(keep: original.map { $0.map { _ in false } }, originalTokens: original)
        #expect(try gen.generate(labels: [2], seeds: [5], sampling: s, editing: none).tokens == plain.tokens)
        // Keep only scale 0: with the same scale-0 token as plain, everything must equal plain.
        var keep0 = none
        keep0.keep[0] = [true]; keep0.originalTokens[0] = plain.tokens[0]
        #expect(try gen.generate(labels: [2], seeds: [5], sampling: s, editing: keep0).tokens == plain.tokens)
        let bad = EditingHook(keep: [[true]], originalTokens: [[0]])
        #expect(throws: GenerationError.self) { try gen.generate(labels: [2], seeds: [5], sampling: s, editing: bad) }
    }

    /// `more_smooth` (docs/model.md §6.4) changes f̂ (soft mixtures) but draws the same multinomial tokens at scale 0.
    @Test func moreSmooth() throws {
        let model = VARModel(config: config, randomSeed: 25)
        let gen = try VARGenerator(model: model, tokenizer: tokenizer)
        var s = SamplingConfig(cfg: 2, topK: .uniform(10), topP: 0)
        let hard = try gen.generate(labels: [1], seeds: [3], sampling: s)
        s.moreSmooth = true
        let soft = try gen.generate(labels: [1], seeds: [3], sampling: s)
        #expect(soft.tokens[0] == hard.tokens[0])
        #expect(soft.fHat != hard.fHat)
        #expect(soft.fHat.data.allSatisfy { $0.isFinite })
    }
}
