import Foundation
import Testing
@testable import VARCore
import VARKit

/// A small model with the official structure: 2 levels (attention at the 4×4 level and in mid),
/// scales 1, 2, 4, two φ convolutions.
let tinyConfig = VQVAEConfig(vocabSize: 16, zChannels: 4, ch: 32, chMult: [1, 2], numResBlocks: 1,
                             patchSizes: [1, 2, 4], phiCount: 2, phiIndex: [0, 1, 1])

@Suite struct TokenizerConfigTests {
    @Test func decodesDesignJSON() throws {
        let json = #"""
        {"kind": "vqvae", "vocab_size": 512, "z_channels": 32, "ch": 32, "ch_mult": [1, 2, 2],
         "num_res_blocks": 2, "patch_sizes": [1, 2, 3, 4, 6, 8], "phi_count": 4,
         "phi_index": [0, 0, 1, 2, 3, 3], "quant_resi": 0.5, "image_size": 32}
        """#
        let c = try JSONDecoder().decode(VQVAEConfig.self, from: Data(json.utf8))
        #expect(c.vocabSize == 512 && c.zChannels == 32 && c.ch == 32 && c.chMult == [1, 2, 2])
        #expect(c.numResBlocks == 2 && c.patchSizes == [1, 2, 3, 4, 6, 8] && c.phiCount == 4)
        #expect(c.phiIndex == [0, 0, 1, 2, 3, 3] && c.quantResi == 0.5 && c.imageSize == 32)
        let again = try JSONDecoder().decode(VQVAEConfig.self, from: JSONEncoder().encode(c))
        #expect(again == c)
        // image_size = latent side · 2^(levels − 1) is enforced.
        let bad = json.replacingOccurrences(of: "\"image_size\": 32", with: "\"image_size\": 64")
        #expect(throws: TokenizerError.self) { try JSONDecoder().decode(VQVAEConfig.self, from: Data(bad.utf8)) }
        let wrongKind = json.replacingOccurrences(of: "\"vqvae\"", with: "\"var\"")
        #expect(throws: TokenizerError.self) { try JSONDecoder().decode(VQVAEConfig.self, from: Data(wrongKind.utf8)) }
    }

    @Test func officialPresetAndPhiTable() throws {
        let c = VQVAEConfig.official256
        try c.validate()
        #expect(c.imageSize == 256 && c.levelChannels == [160, 160, 320, 320, 640])
        // Float64 NumPy semantics reproduce the hard-coded table, ties at scales 2 and 7 going up (§4.6).
        #expect(VQVAEConfig.phiTable(scaleCount: 10, phiCount: 4) == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
        #expect(VQVAEConfig.phiTable(scaleCount: 6, phiCount: 1) == [0, 0, 0, 0, 0, 0])
    }

    @Test func infersOfficialConfigFromShapes() throws {
        // Shapes of the official checkpoint as requested by the model (docs/model.md §2.1).
        let rec = ShapeRecorder()
        _ = VQVAE(config: .official256, weights: rec)
        var shapes = rec.store.shapes
        shapes["quantize.ema_vocab_hit_SV"] = [10, 4096]
        #expect(shapes.count == 324)   // the official key count, docs/model.md §2.1
        #expect(shapes.keys.filter { $0.hasPrefix("encoder.") }.count == 132)
        #expect(shapes.keys.filter { $0.hasPrefix("decoder.") }.count == 178)
        #expect(shapes["decoder.up.3.block.0.nin_shortcut.weight"] == [320, 640, 1, 1])
        #expect(shapes["encoder.down.4.attn.1.qkv.weight"] == [1920, 640, 1, 1])
        #expect(shapes["decoder.up.4.attn.2.proj_out.bias"] == [640])
        #expect(shapes["decoder.up.0.upsample.conv.weight"] == nil)
        #expect(shapes["encoder.down.4.downsample.conv.weight"] == nil)
        #expect(shapes["encoder.conv_out.weight"] == [32, 640, 3, 3])
        let params = shapes.filter { $0.key != "quantize.ema_vocab_hit_SV" }.values.reduce(0) { $0 + $1.reduce(1, *) }
        #expect(params == 108_948_355)
        let inferred = try VQVAEConfig(inferringFrom: { shapes[$0] })
        #expect(inferred == .official256)
        #expect(throws: TokenizerError.self) { try VQVAEConfig(inferringFrom: { _ in nil }) }
    }
}

/// Records the requested names and shapes without storing weights.
struct ShapeRecorder: LayerWeights {
    final class Store { var shapes: [String: [Int]] = [:] }
    var store = Store()
    var prefix = ""
    func key(_ n: String) -> String { prefix.isEmpty ? n : prefix + "." + n }
    func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        store.shapes[key(name)] = shape
        // Big tensors are never used for arithmetic here; the codebook is (its norms are precomputed).
        return shape.reduce(1, *) <= 1 << 20 ? Tensor(zeros: shape) : Tensor(shape: [0], data: [])
    }
    func scope(_ name: String) -> ShapeRecorder { ShapeRecorder(store: store, prefix: key(name)) }
    func scope(_ i: Int) -> ShapeRecorder { scope(String(i)) }
    func contains(_ name: String) -> Bool { store.shapes[key(name)] != nil }
}

@Suite struct TokenizerQuantizerTests {
    /// A quantizer over a hand-made 3-channel codebook with duplicate rows.
    func quantizer() -> MultiScaleQuantizer {
        let config = VQVAEConfig(vocabSize: 5, zChannels: 3, ch: 32, chMult: [1], numResBlocks: 1,
                                 patchSizes: [1, 2, 4], phiCount: 2, phiIndex: [0, 1, 1])
        let codebook: [Float] = [0, 0, 0,  1, 0, 0,  0, 1, 0,  1, 0, 0,  0, 0, -2]   // rows 1 and 3 equal
        let w = RandomWeights(seed: 3)
        let q = MultiScaleQuantizer(InMemoryWeights([
            "embedding.weight": Tensor(shape: [5, 3], data: codebook),
            "quant_resi.qresi_ls.0.weight": w("a", [3, 3, 3, 3]), "quant_resi.qresi_ls.0.bias": w("b", [3]),
            "quant_resi.qresi_ls.1.weight": w("c", [3, 3, 3, 3]), "quant_resi.qresi_ls.1.bias": w("d", [3]),
        ]), config: config)
        return q
    }

    @Test func nearestCodeTiesGoToLowestIndex() {
        let q = quantizer()
        // (B=1, C=3, 2, 2): positions (row-major) near codes 3/1 (tie), 2, 4, 0.
        let z = Tensor(shape: [1, 3, 2, 2], data: [0.9, 0, 0.1, 0.1,
                                                   0, 0.8, 0, 0,
                                                   0, 0, -1.5, 0.1])
        #expect(q.nearestCodes(z, parallelism: .allCores) == [1, 2, 4, 0])
    }

    @Test func embedLayoutIsChannelMajor() {
        let q = quantizer()
        let h = q.embed([2, 4, 1, 0], scale: 1)   // (1, 3, 2, 2)
        #expect(h.shape == [1, 3, 2, 2])
        #expect(h.data == [0, 0, 1, 0,  1, 0, 0, 0,  0, -2, 0, 0])
    }

    @Test func tokensAndFHatAreConsistent() {
        let q = quantizer()
        let f = OpsReference.random([2, 3, 4, 4], seed: 11)
        let tokens = q.tokens(fromLatent: f, parallelism: .allCores)
        #expect(tokens.map(\.count) == [2, 8, 32])
        // Scale 0 quantises the mean of each image (area 4 → 1).
        for b in 0..<2 {
            var mean = [Float](repeating: 0, count: 3)
            for c in 0..<3 { for j in 0..<16 { mean[c] += f.data[(b * 3 + c) * 16 + j] / 16 } }
            let z = Tensor(shape: [1, 3, 1, 1], data: mean)
            #expect(q.nearestCodes(z, parallelism: .allCores)[0] == tokens[0][b])
        }
        // Re-quantising the per-scale residuals reproduces the same tokens: §4.7 and §4.8 agree.
        var fHat = Tensor(zeros: [2, 3, 4, 4])
        for si in 0..<3 {
            var residual = f
            for i in 0..<f.count { residual.data[i] -= fHat.data[i] }
            let m = si < 2 ? ResizeMatrix.area(from: 4, to: q.patchSizes[si]) : .identity(4)
            #expect(q.nearestCodes(residual.resized(rows: m, cols: m), parallelism: .allCores) == tokens[si])
            q.addScale(q.embed(tokens[si], scale: si), scale: si, to: &fHat, parallelism: .allCores)
        }
        #expect(OpsReference.maxAbsDiff(fHat, q.fHat(fromTokens: tokens, parallelism: .allCores)) == 0)
    }

    @Test func teacherForcingMatchesScaleTokenizerSteps() {
        let q = quantizer()
        let tokens: [[Int32]] = [[1, 4], [0, 1, 2, 3, 4, 3, 2, 1], (0..<32).map { Int32($0 % 5) }]
        let tf = q.teacherForcingInput(tokens: tokens, parallelism: .allCores)     // (2, 4 + 16, 3)
        #expect(tf.shape == [2, 20, 3])
        let st: any ScaleTokenizer = q
        var fHat = Tensor(zeros: [2, 3, 4, 4])
        st.addScale(q.embed(tokens[0], scale: 0), scale: 0, to: &fHat, parallelism: .allCores)
        let in1 = st.nextInput(fHat, after: 0)                  // (2, 4, 3)
        st.addScale(q.embed(tokens[1], scale: 1), scale: 1, to: &fHat, parallelism: .allCores)
        let in2 = st.nextInput(fHat, after: 1)                  // (2, 16, 3): area 4 → 4 is the identity
        #expect(in1.shape == [2, 4, 3] && in2.shape == [2, 16, 3])
        for b in 0..<2 {
            #expect(Array(tf.data[(b * 20) * 3..<(b * 20 + 4) * 3]) == Array(in1.data[b * 12..<(b + 1) * 12]))
            #expect(Array(tf.data[(b * 20 + 4) * 3..<(b * 20 + 20) * 3]) == Array(in2.data[b * 48..<(b + 1) * 48]))
        }
        // A 1×1 scale upsamples to a constant map before φ.
        var single = Tensor(zeros: [1, 3, 4, 4])
        q.addScale(q.embed([4], scale: 0), scale: 0, to: &single, parallelism: .allCores)
        let constant = Tensor(shape: [1, 3, 4, 4], data: (0..<48).map { $0 >= 32 ? -2 : 0 })
        #expect(OpsReference.maxAbsDiff(single, q.phi(constant, scale: 0, workspace: ConvWorkspace(parallelism: .allCores))) < 1e-6)
    }
}

@Suite struct TokenizerModelTests {
    @Test func tinyModelRoundTripShapesAndContract() throws {
        let random = RandomWeights(seed: 7)
        _ = VQVAE(config: tinyConfig, weights: random)
        // Every key the model asks for, and nothing else, is consumed by a strict reader.
        let strict = InMemoryWeights(random.tensors)
        let vae = VQVAE(config: tinyConfig, weights: strict)
        #expect(strict.problems.isEmpty)
        #expect(strict.unusedKeys.isEmpty)

        let image = Tensor(shape: [2, 3, 8, 8], data: OpsReference.random([2, 3, 8, 8], seed: 9).data.map { ($0 + 1) / 2 })
        let f = vae.encode(image)
        #expect(f.shape == [2, 4, 4, 4])
        let tokens = vae.tokens(from: image)
        #expect(tokens.map(\.count) == [2, 8, 32])
        #expect(tokens.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < 16 } })
        let decoded = vae.decode(tokens: tokens)
        #expect(decoded.shape == [2, 3, 8, 8])
        #expect(decoded.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Images in a batch are independent.
        let one = vae.decode(vae.quantizer.fHat(fromTokens: tokens.enumerated().map { si, t in
            let n = t.count / 2
            return Array(t[n...])
        }, parallelism: .allCores))
        #expect(OpsReference.maxAbsDiff(one, decoded.slice(outer: 1, 2)) < 1e-5)
    }

    @Test func strictWeightsReportMissingAndMisshaped() {
        var tensors = RandomWeights(seed: 1).tensors
        let random = RandomWeights(seed: 1)
        _ = VQVAE(config: tinyConfig, weights: random)
        tensors = random.tensors
        tensors["decoder.conv_out.bias"] = nil
        tensors["quant_conv.weight"] = Tensor(zeros: [4, 4, 1, 1])
        tensors["extra.weight"] = Tensor(zeros: [1])
        let w = InMemoryWeights(tensors)
        _ = VQVAE(config: tinyConfig, weights: w)
        #expect(w.problems.count == 2)
        #expect(w.unusedKeys == ["extra.weight"])
    }
}

@Suite struct TokenizerCheckpointTests {
    /// Writes the tiny model's weights (plus the ignored EMA buffer with an odd shape) as safetensors.
    func writeTiny(dropping: String? = nil) -> (String, RandomWeights) {
        let random = RandomWeights(seed: 5)
        _ = VQVAE(config: tinyConfig, weights: random)
        var writer = SafetensorsWriter()
        for (k, t) in random.tensors.sorted(by: { $0.key < $1.key }) where k != dropping {
            writer.f32(k, t.shape, t.data)
        }
        writer.f32("quantize.ema_vocab_hit_SV", [7, 16], [Float](repeating: 0, count: 112))
        return (writer.write("tiny-vqvae"), random)
    }

    @Test func loadsSafetensorsUnderTheContract() throws {
        let (path, random) = writeTiny()
        let vae = try VQVAE.load(path: path, config: tinyConfig)
        #expect(vae.decoder.convOut.weight == random.tensors["decoder.conv_out.weight"])
        #expect(vae.quantizer.codebook == random.tensors["quantize.embedding.weight"])
        // Without a JSON beside it, the file is taken as official-layout: the structure is inferred.
        let inferred = try VQVAEConfig(inferringFrom: try Checkpoint(path: path))
        #expect(inferred.ch == 32 && inferred.chMult == [1, 2] && inferred.numResBlocks == 1)
        #expect(inferred.vocabSize == 16 && inferred.zChannels == 4 && inferred.phiCount == 2)
    }

    @Test func missingTensorFailsWithOneContractError() throws {
        let (path, _) = writeTiny(dropping: "decoder.up.1.attn.0.qkv.bias")
        #expect(throws: CheckpointError.self) { try VQVAE.load(path: path, config: tinyConfig) }
    }
}
