import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// The memory accountant, the prediction made from configurations, and `--memory-budget`.
@Suite struct MemoryTests {
    typealias Cat = MemoryAccountant.Category

    @Test func accountantArithmetic() {
        let m = MemoryAccountant()
        m.charge(1000, to: .weights(.drafter))
        m.charge(300, to: .weights(.refiner))
        m.charge(500, to: .checkpointPages)
        m.release(500, from: .checkpointPages)
        m.resize(from: 0, to: 200, in: .kvCache)
        m.resize(from: 200, to: 150, in: .kvCache)        // shrink: old storage freed first
        m.resize(from: 150, to: 400, in: .kvCache)
        let r = m.report
        #expect(r[.weights(.drafter)] == .init(current: 1000, peak: 1000))
        #expect(r[.weights(.refiner)] == .init(current: 300, peak: 300))
        #expect(r[.checkpointPages] == .init(current: 0, peak: 500))
        #expect(r[.kvCache] == .init(current: 400, peak: 400))
        #expect(r[.vqvaeDecode] == .init())
        // Peak of the sum: 1300 + 500 pages, then 1300 + 400 cache.
        #expect(r.total == .init(current: 1700, peak: 1800))
        #expect(m.currentWeights == 1300)
        #expect(r.orderedCategories == [.weights(.drafter), .weights(.refiner), .checkpointPages, .kvCache,
                                        .activations, .workspace, .vqvaeDecode])
        #expect(Cat.weights(.model) < Cat.checkpointPages && Cat.vqvaeWeights < Cat.checkpointPages)
        #expect(Cat.kvCache < Cat.vqvaeDecode && Cat.vqvaeWeights.description == "weights vqvae")
        #expect(Cat.weights(.drafterAndRefiner).description == "weights drafter+refiner")
    }

    /// A growing buffer's meter keeps the accountant equal to what the buffer holds.
    @Test func metersFollowBuffers() {
        let m = MemoryAccountant()
        do {
            let arena = KVArena(floats: 10)
            arena.account(to: m)
            #expect(m.current(.kvCache) == 40)
            arena.reserve(floats: 5)                        // no growth
            arena.reserve(floats: 100)
            #expect(m.current(.kvCache) == 400 && m.report[.kvCache].peak == 400)
            let ws = VARWorkspace()
            ws.account(to: m)
            ws.hidden.reserve(1000)
            ws.logits.reserve(50)
            #expect(m.current(.activations) == ws.x.bytes + ws.y.bytes + ws.qkv.bytes + ws.attn.bytes + 4000)
            #expect(m.current(.workspace) == ws.scores.bytes + ws.weights.bytes + 200)
        }
        // Freed buffers release their bytes.
        #expect(m.current(.kvCache) == 0 && m.current(.activations) == 0 && m.current(.workspace) == 0)
    }

    @Test(arguments: [tinyVARConfig(), tinyVARConfig(depth: 3, width: 48, heads: 3, classes: 7, vocab: 40, cvae: 6)])
    func weightBytesFromConfigMatchesTheModel(config: VARConfig) {
        let model = VARModel(config: config, randomSeed: 5)
        #expect(model.weightBytes == VARModel.weightBytes(config: config))
        #expect(model.weightBytes > model.parameterCount * 4 - config.tokenCount * config.width * 4 - 1)
        let half = VARModel(config: config, randomSeed: 5, precision: .float16)
        #expect(half.weightBytes == VARModel.weightBytes(config: config, precision: .float16))
        if WeightPrecision.float16Supported {
            // Every linear matrix loses half its bytes.
            let C = config.width, h = config.mlpHidden
            let matrices = 2 * C * C + config.vocabSize * C + config.depth * (10 * C * C + 2 * h * C)
            #expect(model.weightBytes - half.weightBytes == 2 * matrices)
        }
    }

    func prediction(_ models: [MemoryPrediction.Model], draftSteps: Int?, moreSmooth: Bool = false) -> MemoryPrediction {
        MemoryPrediction(vqvae: TinyWeights.vqvaeConfig, vqvaeWeightBytes: 1000, vqvaeFileBytes: 1200, models: models,
                         draftSteps: draftSteps, moreSmooth: moreSmooth, runtimeBytes: 0)
    }

    /// The prediction equals what generation charges, per category, for plain VAR and CoDe (both paths).
    @Test(arguments: [(1, false), (3, false), (2, true)])
    func predictionMatchesAccountantForTinyModels(batch: Int, moreSmooth: Bool) throws {
        let big = tinyVARConfig(depth: 3, width: 48, heads: 3), small = tinyVARConfig(depth: 1, width: 16, heads: 1)
        let tok = NearestTokenizer(config: big)
        let drafter = VARModel(config: big, randomSeed: 1), refiner = VARModel(config: small, randomSeed: 2)
        let sampling = SamplingConfig(cfg: 2, topK: .uniform(20), topP: 0.9, moreSmooth: moreSmooth)
        let labels = Array(0..<batch), seeds = (0..<batch).map { UInt64($0) }
        func measured(_ run: (MemoryAccountant) throws -> Void) rethrows -> MemoryAccountant.Report {
            let m = MemoryAccountant()
            try run(m)
            return m.report
        }
        func check(_ r: MemoryAccountant.Report, _ p: MemoryPrediction) {
            let g = p.generation(batch: batch)
            #expect(r[.kvCache].peak == g.kvCache)
            #expect(r[.workspace].peak == g.workspace + g.sampling)
            #expect(r[.activations].peak == g.activations)
            // The generator is gone: everything it held is released.
            #expect(r[.kvCache].current == 0 && r[.workspace].current == 0 && r[.activations].current == 0)
        }
        let plain = try measured { m in
            let gen = try VARGenerator(model: drafter, tokenizer: tok)
            gen.account(to: m)
            _ = try gen.generate(labels: labels, seeds: seeds, sampling: sampling)
        }
        check(plain, prediction([.init(role: .model, config: big, fileBytes: 0)], draftSteps: nil, moreSmooth: moreSmooth))
        for n in 1..<big.scaleCount {
            let pair = try measured { m in
                let gen = try CoDeGenerator(drafter: drafter, refiner: refiner, tokenizer: tok, draftSteps: n)
                gen.account(to: m)
                _ = try gen.generate(labels: labels, seeds: seeds, sampling: sampling)
            }
            check(pair, prediction([.init(role: .drafter, config: big, fileBytes: 0),
                                    .init(role: .refiner, config: small, fileBytes: 0)], draftSteps: n, moreSmooth: moreSmooth))
            let same = try measured { m in
                let gen = try CoDeGenerator(drafter: drafter, refiner: drafter, tokenizer: tok, draftSteps: n)
                gen.account(to: m)
                _ = try gen.generate(labels: labels, seeds: seeds, sampling: sampling)
            }
            check(same, prediction([.init(role: .drafterAndRefiner, config: big, fileBytes: 0)], draftSteps: n,
                                   moreSmooth: moreSmooth))
        }
        // CoDe with a smaller refiner needs less KV cache than the drafter alone.
        let code = prediction([.init(role: .drafter, config: big, fileBytes: 0), .init(role: .refiner, config: small, fileBytes: 0)],
                              draftSteps: 2)
        #expect(code.generation(batch: batch).kvCache < plain[.kvCache].peak)
    }

    /// float16 models: the widened-matrix scratch of many-row products is predicted too (tiny models with a last
    /// scale of 8×8, so that 2B·64 rows reach `HalfGEMM.wholeRows` and the head's per-row tails do not).
    @Test(arguments: [1, 2])
    func predictionMatchesAccountantForFloat16(batch: Int) throws {
        let c = tinyVARConfig(depth: 2, width: 32, heads: 2, patchSizes: [1, 2, 4, 8])
        let small = tinyVARConfig(depth: 1, width: 16, heads: 1, patchSizes: [1, 2, 4, 8])
        let tok = NearestTokenizer(config: c)
        let drafter = VARModel(config: c, randomSeed: 1, precision: .float16)
        let refiner = VARModel(config: small, randomSeed: 2, precision: .float16)
        let labels = Array(0..<batch), seeds = (0..<batch).map { UInt64($0) }
        for n in [nil, 1, 3] as [Int?] {
            let m = MemoryAccountant()
            if let n {
                let gen = try CoDeGenerator(drafter: drafter, refiner: refiner, tokenizer: tok, draftSteps: n)
                gen.account(to: m)
                _ = try gen.generate(labels: labels, seeds: seeds, sampling: SamplingConfig(cfg: 2))
            } else {
                let gen = try VARGenerator(model: drafter, tokenizer: tok)
                gen.account(to: m)
                _ = try gen.generate(labels: labels, seeds: seeds, sampling: SamplingConfig(cfg: 2))
            }
            let models: [MemoryPrediction.Model] = n == nil ? [.init(role: .model, config: c, fileBytes: 0, precision: .float16)]
                : [.init(role: .drafter, config: c, fileBytes: 0, precision: .float16),
                   .init(role: .refiner, config: small, fileBytes: 0, precision: .float16)]
            let g = prediction(models, draftSteps: n).generation(batch: batch)
            #expect(m.report[.workspace].peak == g.workspace + g.sampling, "batch \(batch) draft \(String(describing: n))")
            #expect(m.report[.activations].peak == g.activations && m.report[.kvCache].peak == g.kvCache)
        }
        // The scratch is there from `HalfGEMM.wholeRows` rows (256: batch 2's last scale, 4 × 64 rows) when the CPU
        // runs float16, and not below (batch 1: 128 rows).
        var plan = VARWorkspace.Plan(), below = VARWorkspace.Plan()
        plan.scales(c, rows: 4, 0..<c.scaleCount, precision: .float16)
        below.scales(c, rows: 2, 0..<c.scaleCount, precision: .float16)
        #expect((plan.weights > 0) == WeightPrecision.float16Supported && below.weights == 0)
    }

    /// The whole run through the pipeline: the accounted peak is the predicted one (load phases included).
    @Test(arguments: WeightPrecision.allCases)
    func engineAccountedPeakIsPredicted(precision: WeightPrecision) throws {
        let w = TinyWeights.directory
        func open(_ file: String) throws -> ModelSource {
            try ModelSource(path: w + "/" + file, precision: precision)
        }
        for models in [PipelineConfiguration.Models.plain(try open("drafter.pth")),
                       .collaborative(try CoDePlan(drafter: try open("drafter.pth"), refiner: try open("refiner.pth"),
                                                   draftSteps: 2))] {
            let engine = try GenerationPipeline(try PipelineConfiguration(models: models, tokenizer: w + "/vqvae.pth"))
            let p = engine.predictMemory(batch: 3)
            // Two batches: the second generates while the first's decoder buffers are kept (`ImageDecoder`).
            for seed in [1, 4] as [UInt64] {
                _ = try engine.generateBatch(labels: [0, 1, 2], seeds: [seed, seed + 1, seed + 2],
                                             sampling: SamplingConfig(cfg: 1.5))
            }
            let r = engine.accountant.report
            #expect(r[.vqvaeWeights].current == p.categories[.vqvaeWeights])
            for role in ModelRole.allCases where p.categories[.weights(role)] != nil {
                #expect(r[.weights(role)].current == p.categories[.weights(role)], "\(role) \(precision)")
            }
            #expect(r[.checkpointPages].current == 0 && r[.checkpointPages].peak == p.categories[.checkpointPages])
            #expect(r[.vqvaeDecode].peak == p.categories[.vqvaeDecode])
            let err = abs(Double(r.total.peak - p.accounted)) / Double(p.accounted)
            #expect(err < 0.01, "accounted \(r.total.peak) vs predicted \(p.accounted) (\(p.phase))")
        }
    }

    @Test func budgetPicksTheLargestBatchThatFitsOrRefuses() {
        let c = tinyVARConfig()
        let p = prediction([.init(role: .model, config: c, fileBytes: 100)], draftSteps: nil)
        let peaks = (1...8).map { p.peak(batch: $0).total }
        #expect(peaks == peaks.sorted() && peaks[0] < peaks[7])
        #expect(p.largestBatch(upTo: 8, budget: peaks[7]) == 8)
        #expect(p.largestBatch(upTo: 8, budget: peaks[3]) == 4)
        #expect(p.largestBatch(upTo: 8, budget: peaks[3] - 1) == 3)
        #expect(p.largestBatch(upTo: 2, budget: peaks[7]) == 2)
        #expect(p.largestBatch(upTo: 8, budget: peaks[0] - 1) == nil)
    }

    @Test func budgetOnTheCommandLine() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = TinyWeights.directory
        let p = try GenerationPipeline.predictMemory(
            try PipelineConfiguration(models: .plain(try ModelSource(path: w + "/drafter.pth")), tokenizer: w + "/vqvae.pth"))
        let one = p.peak(batch: 1).total, two = p.peak(batch: 2).total
        // The CLI counts the batch-dependent part with a margin (BatchPlan.perImageMargin).
        let fitsTwo = one + Int((Double(two - one) * BatchPlan.perImageMargin).rounded(.up))
        let fits = runCLI(["generate", "--count", "4", "--memory-budget", String(fitsTwo), "--memory-stats",
                           "--output", dir + "/b.png"])
        #expect(fits.code == 0, "\(fits.err)")
        #expect(fits.err.contains("batch 2 instead of 4"), "\(fits.err)")
        #expect(fits.err.contains("predicted peak"))
        let refused = runCLI(["generate", "--memory-budget", String(one - 1), "--output", dir + "/r.png"])
        #expect(refused.code == 2)
        #expect(refused.err.contains("--memory-budget") && refused.err.contains("too small for one image")
                && refused.err.contains(ByteSize.format(one)), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.png"))
    }
}
