import Foundation
import Testing
@testable import VARCore
import VARKit

@Suite struct TransformerTests {
    @Test func configDecodesDesignJSON() throws {
        let json = """
        {"kind": "var", "depth": 4, "width": 256, "heads": 4, "num_classes": 10, "vocab_size": 512,
         "z_channels": 32, "patch_sizes": [1, 2, 3, 4, 6, 8], "mlp_ratio": 4.0,
         "class_names": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], "vqvae": "vqvae.pth",
         "sampling": {"cfg": 2.0, "top_k": 0, "top_p": 0.0, "temperature": 1.0, "more_smooth": false,
                      "draft_steps": 3}}
        """
        let c = try JSONDecoder().decode(VARConfig.self, from: Data(json.utf8))
        #expect(c.depth == 4 && c.width == 256 && c.heads == 4 && c.headDim == 64)
        #expect(c.numClasses == 10 && c.vocabSize == 512 && c.zChannels == 32)
        #expect(c.tokenCount == 1 + 4 + 9 + 16 + 36 + 64)
        #expect(c.scaleEnds == [1, 5, 14, 30, 66, 130])
        #expect(c.classNames?.count == 10 && c.vqvae == "vqvae.pth")
        #expect(c.sampling?.cfg == 2 && c.sampling?.draftSteps == 3 && c.sampling?.temperature == .uniform(1))
        let s = SamplingConfig(defaults: try #require(c.sampling), seed: 7)
        #expect(s.topK == .uniform(0) && s.topP == 0 && s.seeds(count: 3) == [7, 8, 9])
        try c.validate()
    }

    @Test func officialPresetAndInference() throws {
        let d16 = VARConfig.official(depth: 16)
        #expect(d16.width == 1024 && d16.heads == 16 && d16.tokenCount == 680)
        #expect(d16.scaleEnds == [1, 5, 14, 30, 55, 91, 155, 255, 424, 680])
        // Shapes of an official d16 file (docs/model.md §2.2); parameters per block 18C² + 14C + H.
        let C = 1024
        var shapes: [String: [Int]] = [
            "pos_start": [1, 1, C], "pos_1LC": [1, 680, C], "class_emb.weight": [1001, C],
            "lvl_embed.weight": [10, C], "word_embed.weight": [C, 32], "head.weight": [4096, C],
        ]
        for i in 0..<16 {
            shapes["blocks.\(i).attn.scale_mul_1H11"] = [1, 16, 1, 1]
            shapes["blocks.\(i).ffn.fc1.weight"] = [4 * C, C]
        }
        let inferred = try VARConfig(inferringFromShapes: { shapes[$0] }, names: Array(shapes.keys))
        #expect(inferred == d16)
        shapes["pos_1LC"] = [1, 30, C]
        #expect(throws: VARConfigError.self) {
            try VARConfig(inferringFromShapes: { shapes[$0] }, names: Array(shapes.keys))
        }
    }

    @Test func requestsEveryOfficialKeyWithItsShape() {
        let c = tinyVARConfig()
        let random = RandomWeights(seed: 0, profile: .transformer)
        _ = VARModel(config: c, weights: random)
        let requested = random.tensors.mapValues(\.shape)
        #expect(requested.count == 13 * c.depth + 12 - 2 - c.depth)  // minus the buffers (docs/model.md §2.3)
        #expect(requested["blocks.1.ada_lin.1.weight"] == [6 * 32, 32])
        #expect(requested["blocks.0.attn.scale_mul_1H11"] == [1, 2, 1, 1])
        #expect(requested["head_nm.ada_lin.1.weight"] == [64, 32])
        #expect(VARModel.optionalKeys(for: c).contains("blocks.1.attn.zero_k_bias"))
    }

    /// The fast teacher-forced forward (GEMMs, key ranges per scale) against the naive loop with the −∞ mask.
    /// Tolerance: abs 1e-4 on logits.
    @Test func teacherForcedMatchesNaiveReference() {
        let c = tinyVARConfig()
        let m = VARModel(config: c, randomSeed: 3)
        let B = 2, L = c.tokenCount
        let inputs = randomFloats(B * (L - 1) * c.zChannels, seed: 11)
        let fast = m.teacherForcedLogits(labels: [1, c.numClasses], inputs: Tensor(shape: [B, L - 1, c.zChannels], data: inputs))
        for (b, label) in [1, c.numClasses].enumerated() {
            let slice = Array(inputs[(b * (L - 1) * c.zChannels)..<((b + 1) * (L - 1) * c.zChannels)])
            let ref = naiveTeacherForcedLogits(m, label: label, inputs: slice)
            var maxErr: Float = 0
            for i in 0..<ref.count { maxErr = max(maxErr, abs(ref[i] - fast.data[b * L * c.vocabSize + i])) }
            #expect(maxErr <= 1e-4, "batch row \(b): max abs error \(maxErr)")
        }
    }

    /// Cached scale-by-scale steps give the same logits as one teacher-forced pass (docs/model.md §5.7 ≡ §5.6),
    /// and a prefill over the first scales followed by cached steps does too (CoDe's refiner path).
    @Test func cachedStepsMatchTeacherForced() {
        let c = tinyVARConfig()
        let m = VARModel(config: c, randomSeed: 5)
        let L = c.tokenCount, V = c.vocabSize, Cv = c.zChannels
        let inputs = randomFloats((L - 1) * Cv, seed: 12)
        let full = m.teacherForcedLogits(labels: [2], inputs: Tensor(shape: [1, L - 1, Cv], data: inputs))
        for prefillScales in [0, 2] {
            let s = VARSession(model: m, labels: [2])
            let begins = c.scaleBegins, ends = c.scaleEnds
            var si = 0
            var maxErr: Float = 0
            inputs.withUnsafeBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                if prefillScales > 0 {
                    let P = ends[prefillScales - 1]
                    s.embed(latents: base, inputBatch: 1, p0: 0, n: P)
                    let lg = s.forward(n: P, logitsFrom: begins[prefillScales - 1])
                    for i in 0..<((P - begins[prefillScales - 1]) * V) {
                        maxErr = max(maxErr, abs(lg[i] - full.data[begins[prefillScales - 1] * V + i]))
                    }
                    si = prefillScales
                }
                while si < c.scaleCount {
                    let n = ends[si] - begins[si]
                    s.embed(latents: si == 0 ? nil : base + (begins[si] - 1) * Cv, inputBatch: 1, p0: begins[si], n: n)
                    let lg = s.forward(n: n)
                    for i in 0..<(n * V) { maxErr = max(maxErr, abs(lg[i] - full.data[begins[si] * V + i])) }
                    si += 1
                }
            }
            #expect(maxErr <= 1e-5, "prefill \(prefillScales) scales: max abs error \(maxErr)")
        }
    }

    @Test func kvCacheByteCounts() {
        let d16 = VARConfig.official(depth: 16)
        let m = VARModel(config: tinyVARConfig(), randomSeed: 1)
        // Positions are padded to a multiple of 16 (30 → 32) for the transposed keys.
        #expect(m.kvCacheBytes(batch: 1) == 2 * 2 * 2 * 32 * 32 * 4)
        // docs/performance.md §2: VAR-d16 KV cache ≈ 178 MB per image with CFG (680 positions; 688 stored).
        let bytes = KVCache.floats(depth: 16, rows: 2, heads: 16, headDim: 64, capacity: 680) * 4
        #expect(bytes == 178_257_920 / 680 * 688 && d16.tokenCount == 680)
    }
}

@Suite struct TransformerLoadingTests {
    /// A safetensors file with every official key (buffers included) loads through the key/shape contract
    /// and gives the same model; a missing key is reported.
    @Test func loadsFromSafetensors() throws {
        let c = tinyVARConfig()
        let original = VARModel(config: c, randomSeed: 8)
        // The same weights the original got (they depend only on the seed and each key).
        let random = RandomWeights(seed: 8, profile: .transformer)
        _ = VARModel(config: c, weights: random)
        var w = SafetensorsWriter()
        for (key, t) in random.tensors.sorted(by: { $0.key < $1.key }) { w.f32(key, t.shape, t.data) }
        w.add("lvl_1L", "I64", [1, c.tokenCount], TestEncode.i64(c.scaleOfPosition.map(Int64.init)))
        for i in 0..<c.depth { w.f32("blocks.\(i).attn.zero_k_bias", [c.width], [Float](repeating: 0, count: c.width)) }
        let path = w.write("tiny-var")
        let loaded = try VARModel.load(path: path, config: c, inPlace: true)
        let inputs = Tensor(shape: [1, c.tokenCount - 1, c.zChannels], data: randomFloats((c.tokenCount - 1) * c.zChannels, seed: 2))
        #expect(loaded.teacherForcedLogits(labels: [1], inputs: inputs) == original.teacherForcedLogits(labels: [1], inputs: inputs))
        // Every linear matrix is read in place from the mapping (aligned float32); the rest are copies.
        let C = c.width, matrixFloats = c.depth * (3 * C * C + C * C + 2 * c.mlpHidden * C + 6 * C * C)
            + 2 * C * C + c.vocabSize * C
        #expect(loaded.mappedWeightBytes == 4 * matrixFloats)
        #expect(try VARModel.load(path: path, config: c, precision: .float16, inPlace: true).mappedWeightBytes == 0)
        #expect(try VARModel.load(path: path, config: c).mappedWeightBytes == 0)     // copies by default
        var missing = SafetensorsWriter()
        for item in w.items where item.name != "head.bias" { missing.items.append(item) }
        #expect(throws: CheckpointError.self) { try VARModel.load(path: missing.write("tiny-var-missing"), config: c) }
    }

    /// A float32 `torch.save` ZIP (the tiny VAR fixture): its matrices are used in place, and the model computes
    /// exactly what the copying load computes; the mapping outlives the `Checkpoint` value the loader dropped.
    /// (The shipped models are stored in float16, which is always converted.)
    @Test func float32CheckpointMatricesInPlace() throws {
        let path = GenerationFixtures.path("tiny_var.pth")
        let mapped = try VARModel.load(path: path, inPlace: true)
        let checkpoint = try Checkpoint(path: path)
        let reader = WeightReader(checkpoint, optional: VARModel.optionalKeys(for: mapped.config))
        let copied = VARModel(config: mapped.config, weights: reader.root)
        try reader.finish()
        #expect(mapped.mappedWeightBytes > 0 && mapped.mappedWeightBytes < mapped.weightBytes)
        #expect(copied.mappedWeightBytes == 0)
        let c = mapped.config
        let inputs = Tensor(shape: [2, c.tokenCount - 1, c.zChannels],
                            data: randomFloats(2 * (c.tokenCount - 1) * c.zChannels, seed: 5))
        #expect(mapped.teacherForcedLogits(labels: [3, 1], inputs: inputs)
                == copied.teacherForcedLogits(labels: [3, 1], inputs: inputs))
    }
}
