import Foundation
import Testing
@testable import VARCore
import VARKit

/// The tiny VAR against the PyTorch reference (tiny.safetensors, `python3 tools/make_fixtures.py --part tiny`).
@Suite struct TransformerFixtureTests {
    /// Teacher-forced logits `var(labels, vq.teacher_input)`: abs error ≤ 1e-4.
    @Test func teacherForcedLogits() throws {
        let (model, _, t) = try GenerationFixtures.tiny()
        let labels = try t.int64s("tf.labels").map(Int.init)
        let logits = model.teacherForcedLogits(labels: labels, inputs: try t.tensor("vq.teacher_input"))
        let expected = try t.tensor("tf.logits")
        #expect(logits.shape == expected.shape)
        #expect(GenerationFixtures.maxAbsDiff(logits.data, expected.data) <= 1e-4)
    }

    /// One AdaLN block (block 0, no mask): `blocks[0](block0.x, block0.cond)`, abs error ≤ 1e-5.
    @Test func oneAdaLNBlock() throws {
        let (model, _, t) = try GenerationFixtures.tiny()
        let x = try t.tensor("block0.x"), cond = try t.tensor("block0.cond")
        let y = try t.tensor("block0.y")
        let (B, n, C) = (x.shape[0], x.shape[1], x.shape[2])
        let out = AdaLNBlockCheck.run(model.blocks[0], x: x.data, cond: cond.data, batch: B, n: n, width: C,
                                      heads: model.config.heads)
        #expect(GenerationFixtures.maxAbsDiff(out, y.data) <= 1e-5)
    }

    /// KV-cached scale steps on the teacher inputs (`cached.logits.s*`): abs error ≤ 1e-4.
    @Test func cachedStepLogits() throws {
        let (model, _, t) = try GenerationFixtures.tiny()
        let c = model.config, Cv = c.zChannels, V = c.vocabSize
        let labels = try t.int64s("tf.labels").map(Int.init)
        let inputs = try t.tensor("vq.teacher_input")
        let B = labels.count, L = c.tokenCount
        let s = VARSession(model: model, labels: labels)
        for si in 0..<c.scaleCount {
            let b = c.scaleBegins[si], n = c.scaleEnds[si] - b
            if si == 0 {
                s.embed(latents: nil, inputBatch: B, p0: 0, n: 1)
            } else {
                var part = [Float]()
                for bi in 0..<B {
                    let start: Int = (bi * (L - 1) + b - 1) * Cv
                    part += inputs.data[start..<(start + n * Cv)]
                }
                part.withUnsafeBufferPointer { s.embed(latents: $0.baseAddress, inputBatch: B, p0: b, n: n) }
            }
            let lg = s.forward(n: n)
            let got = Array(UnsafeBufferPointer(start: lg, count: B * n * V))
            #expect(GenerationFixtures.maxAbsDiff(got, try t.tensor("cached.logits.s\(si)").data) <= 1e-4, "scale \(si)")
        }
    }
}

/// Runs one block's math on arbitrary inputs without the model's embeddings (unmasked self-attention over
/// the n positions, as `AdaLNBlock.forward` with no attention bias).
enum AdaLNBlockCheck {
    static func run(_ blk: VARBlockWeights, x: [Float], cond: [Float], batch B: Int, n: Int, width C: Int,
                    heads H: Int) -> [Float] {
        let R = B * n, hidden = blk.fc1.shape[0]
        var x = x
        let condSilu = cond.map { $0 / (1 + expf(-$0)) }
        let ada = VARSession.linear(condSilu, rows: B, blk.ada, blk.adaBias, parallelism: .allCores)
        let arena = KVArena()
        let cache = KVCache(depth: 1, rows: B, heads: H, headDim: C / H, capacity: n, arena: arena)
        var y = [Float](repeating: 0, count: R * C), qkv = [Float](repeating: 0, count: R * 3 * C)
        var attn = [Float](repeating: 0, count: R * C), h = [Float](repeating: 0, count: R * hidden)
        var scores = [Float](repeating: 0, count: CachedAttention.scoreSlice(maxGroup: n, keys: n, headDim: C / H))
        ada.withUnsafeBufferPointer { a in
            let a = a.baseAddress!
            x.withUnsafeMutableBufferPointer { xb in
                let xp = xb.baseAddress!
                y.withUnsafeMutableBufferPointer { yb in
                    qkv.withUnsafeMutableBufferPointer { qb in
                        attn.withUnsafeMutableBufferPointer { ab in
                            h.withUnsafeMutableBufferPointer { hb in
                                scores.withUnsafeMutableBufferPointer { sb in
                                    let yp = yb.baseAddress!, qp = qb.baseAddress!, ap = ab.baseAddress!, hp = hb.baseAddress!
                                    Elementwise.layerNormModulate(xp, rows: R, width: C, rowsPerSample: n, scale: a + 2 * C,
                                                                  shift: a + 4 * C, modStride: 6 * C, into: yp, parallelism: .allCores)
                                    VARSession.linear(yp, rows: R, blk.qkv, blk.qkvBias, into: qp, parallelism: .allCores)
                                    CachedAttention.forward(qkv: qp, n: n, p0: 0, groups: [.init(start: 0, end: n, keyEnd: n)],
                                                            scaleMul: blk.scaleMul, cache: cache, block: 0,
                                                            scores: sb.baseAddress!, out: ap, parallelism: .allCores)
                                    VARSession.linear(ap, rows: R, blk.proj, blk.projBias, into: yp, parallelism: .allCores)
                                    Elementwise.gatedResidual(xp, yp, rows: R, width: C, rowsPerSample: n, gate: a, gateStride: 6 * C, parallelism: .allCores)
                                    Elementwise.layerNormModulate(xp, rows: R, width: C, rowsPerSample: n, scale: a + 3 * C,
                                                                  shift: a + 5 * C, modStride: 6 * C, into: yp, parallelism: .allCores)
                                    VARSession.linear(yp, rows: R, blk.fc1, blk.fc1Bias, into: hp, parallelism: .allCores)
                                    Elementwise.geluTanh(hp, count: R * hidden, parallelism: .allCores)
                                    VARSession.linear(hp, rows: R, blk.fc2, blk.fc2Bias, into: yp, parallelism: .allCores)
                                    Elementwise.gatedResidual(xp, yp, rows: R, width: C, rowsPerSample: n, gate: a + C, gateStride: 6 * C, parallelism: .allCores)
                                }
                            }
                        }
                    }
                }
            }
        }
        return x
    }
}

/// Official key lists (official_keys.json, `python3 tools/make_fixtures.py --part keys`, built from the
/// official modules on the meta device).
@Suite struct TransformerOfficialKeyTests {
    struct Entry: Decodable {
        let shape: [Int]
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            shape = try c.decode([Int].self)
        }
    }

    @Test(arguments: [16, 30])
    func officialKeysAndInference(depth: Int) throws {
        let data = try Data(contentsOf: GenerationFixtures.directory.appendingPathComponent("official_keys.json"))
        let all = try JSONDecoder().decode([String: [String: Entry]].self, from: data)
        let keys = try #require(all["var_d\(depth)"])
        // The configuration inferred from the official shapes is the official preset.
        let inferred = try VARConfig(inferringFromShapes: { keys[$0]?.shape }, names: Array(keys.keys))
        #expect(inferred == VARConfig.official(depth: depth))
        // The model requests every non-buffer key (names depend only on depth; a narrow stand-in keeps it small).
        var narrow = VARConfig.official(depth: depth)
        narrow.width = depth; narrow.heads = depth
        let random = RandomWeights(seed: 0, profile: .transformer)
        _ = VARModel(config: narrow, weights: random)
        let requested = Set(random.tensors.keys)
        let optional = VARModel.optionalKeys(for: narrow)
        #expect(requested.isDisjoint(with: optional))
        #expect(requested.union(optional) == Set(keys.keys))
    }
}
