import Foundation
import Testing
@testable import VARCore
import VARKit

/// Issue 17 class 2: NaN/Inf weights are refused at load with the tensor's name; NaN logits or images fail
/// with the scale and image index instead of becoming a PNG.
@Suite struct NonFiniteTests {
    /// The tiny transformer's random weights (seed 3) by key, for tests that break one of them.
    static func tinyTransformerTensors() -> [String: Tensor] {
        let random = RandomWeights(seed: 3, profile: .transformer)
        _ = VARModel(config: tinyVARConfig(), weights: random)
        return random.tensors
    }

    /// The vectorised scan against a plain loop, at every position and length around its 1,024-float blocks.
    @Test func finiteScanMatchesPlainLoop() {
        var rng = SplitMix64(seed: 5)
        for n in [0, 1, 15, 63, 64, 1023, 1024, 1025, 4096, 5000] {
            var values = (0..<n).map { _ in Float(rng.below(1000)) - 500 }
            #expect(Finite.firstNonFinite(values) == nil)
            for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] where n > 0 {
                for _ in 0..<4 {
                    let i = rng.below(n), j = rng.below(n)
                    values[i] = bad; values[j] = bad
                    let plain = values.firstIndex { !$0.isFinite }
                    #expect(Finite.firstNonFinite(values) == plain, "n \(n) at \(i), \(j)")
                    values[i] = 1; values[j] = 1
                }
            }
        }
        #expect(Finite.firstNonFinite([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]) == nil)
    }

    /// Issue reproductions: `head.weight` full of NaN, one Inf in `blocks.0.attn.mat_qkv.weight`, and variants
    /// (float16 storage, an embedding, a bias) — each refused naming the tensor.
    @Test(arguments: [("head.weight", Float.nan, "F32"), ("blocks.0.attn.mat_qkv.weight", Float.infinity, "F32"),
                      ("class_emb.weight", -Float.infinity, "F16"), ("blocks.1.ffn.fc2.bias", Float.nan, "F16"),
                      ("pos_1LC", Float.nan, "F32")])
    func nonFiniteWeightIsRefused(key: String, value: Float, dtype: String) throws {
        let random = RandomWeights(seed: 1, profile: .transformer)
        _ = VARModel(config: tinyVARConfig(), weights: random)
        var w = SafetensorsWriter()
        for (k, t) in random.tensors.sorted(by: { $0.key < $1.key }) {
            var data = t.data
            if k == key { data[data.count / 2] = value }
            if dtype == "F16" && k == key { w.add(k, "F16", t.shape, TestEncode.f16(data)) } else { w.f32(k, t.shape, data) }
        }
        let path = w.write("nan")
        for inPlace in [false, true] {
            do {
                _ = try VARModel.load(path: path, config: tinyVARConfig(), inPlace: inPlace)
                Issue.record("a model with \(value) in \(key) was loaded")
            } catch let CheckpointError.nonFiniteWeight(file, k, index, _) {
                #expect(file == path && k == key && index >= 0)
            }
        }
    }

    /// Issue reproduction: NaN in the VQVAE's `decoder.conv_out.weight` (all-black PNGs before).
    @Test func nonFiniteVQVAEWeightIsRefused() throws {
        let random = RandomWeights(seed: 5)
        _ = VQVAE(config: tinyConfig, weights: random)
        var w = SafetensorsWriter()
        for (k, t) in random.tensors.sorted(by: { $0.key < $1.key }) {
            w.f32(k, t.shape, k == "decoder.conv_out.weight" ? t.data.map { _ in .nan } : t.data)
        }
        let text: String
        do { _ = try VQVAE.load(path: w.write("vq-nan"), config: tinyConfig); text = "loaded" } catch { text = "\(error)" }
        #expect(text.contains("decoder.conv_out.weight") && text.contains("nan"), "\(text)")
    }

    /// NaN reaching the logits (weights built in memory, bypassing the loader) fails at scale 0 naming the image
    /// whose class row is broken.
    @Test func nonFiniteLogitsNameScaleAndImage() throws {
        let c = tinyVARConfig()
        var tensors = Self.tinyTransformerTensors()
        var emb = tensors["class_emb.weight"]!
        for i in 0..<c.width { emb.data[2 * c.width + i] = .nan }   // class 2
        tensors["class_emb.weight"] = emb
        let model = VARModel(config: c, weights: InMemoryWeights(tensors))
        let gen = try VARGenerator(model: model, tokenizer: NearestTokenizer(config: c))
        let s = SamplingConfig(cfg: 1.5, topK: .uniform(0), topP: 0)
        #expect(throws: GenerationError.nonFiniteLogits(scale: 0, image: 1)) {
            _ = try gen.generate(labels: [0, 2], seeds: [1, 2], sampling: s)
        }
        let code = try CoDeGenerator(drafter: model, refiner: model, tokenizer: NearestTokenizer(config: c), draftSteps: 2)
        #expect(throws: GenerationError.nonFiniteLogits(scale: 0, image: 2)) {
            _ = try code.generate(labels: [0, 1, 2], seeds: [1, 2, 3], sampling: s)
        }
    }

    /// Finite logits that overflow once divided by a small temperature (every probability NaN, every token 0 before)
    /// fail naming the scale and the image; with temperature 1 the same model samples. Also through `more_smooth`,
    /// whose Gumbel temperature divides by as little as 0.005, and through CoDe.
    @Test func logitsOverflowingAtTheTemperatureAreRefused() throws {
        let c = tinyVARConfig()
        var tensors = Self.tinyTransformerTensors()
        var head = tensors["head.weight"]!
        for i in head.data.indices { head.data[i] *= 1e36 }
        tensors["head.weight"] = head
        let model = VARModel(config: c, weights: InMemoryWeights(tensors))
        #expect(Finite.firstNonFinite(model.head.tensor.data) == nil)
        let gen = try VARGenerator(model: model, tokenizer: NearestTokenizer(config: c))
        let cold = SamplingConfig(cfg: 1, topK: .uniform(0), topP: 0, temperature: .uniform(0.001))
        do {
            _ = try gen.generate(labels: [0, 2], seeds: [1, 2], sampling: cold)
            Issue.record("logits overflowing at temperature 0.001 were sampled")
        } catch let GenerationError.logitsOverflow(scale, image, largest, temperature) {
            #expect(scale == 0 && image == 0 && largest > 1e35 && temperature == 0.001)
        }
        _ = try gen.generate(labels: [0, 2], seeds: [1, 2], sampling: SamplingConfig(cfg: 1, topK: .uniform(0), topP: 0))
        let smooth = SamplingConfig(cfg: 1, topK: .uniform(0), topP: 0, moreSmooth: true)
        var scaled = tensors
        for i in head.data.indices { head.data[i] *= 10 }   // |ℓ| ~ 1e37: fits /1, overflows 2ℓ/τ at the last scale (τ 0.0135)
        scaled["head.weight"] = head
        let smoothGen = try VARGenerator(model: VARModel(config: c, weights: InMemoryWeights(scaled)),
                                         tokenizer: NearestTokenizer(config: c))
        #expect(throws: GenerationError.self) { _ = try smoothGen.generate(labels: [1], seeds: [1], sampling: smooth) }
        let code = try CoDeGenerator(drafter: model, refiner: model, tokenizer: NearestTokenizer(config: c), draftSteps: 2)
        #expect(throws: GenerationError.self) { _ = try code.generate(labels: [0], seeds: [1], sampling: cold) }
    }

    /// Finite VQVAE weights large enough to overflow the encoder's latent (every token 0 and exit 0 before) are
    /// refused when an image is tokenized, for `reconstruct` and `edit`.
    @Test func overflowingLatentIsRefused() throws {
        let random = RandomWeights(seed: 5)
        _ = VQVAE(config: tinyConfig, weights: random)
        let image = RGBImage(width: tinyConfig.imageSize, height: tinyConfig.imageSize, fill: (200, 30, 90))
        for factor: Float in [1e37, 1e20] {
            var tensors = random.tensors
            var w = tensors["quant_conv.weight"]!
            for i in w.data.indices { w.data[i] *= factor }
            tensors["quant_conv.weight"] = w
            let tokenizer = ImageTokenizer(vqvae: VQVAE(config: tinyConfig, weights: InMemoryWeights(tensors)), path: "big")
            #expect(throws: RuntimeError.nonFiniteLatent(index: 0)) { _ = try tokenizer.tokens(from: image) }
            #expect(throws: RuntimeError.nonFiniteLatent(index: 0)) { _ = try tokenizer.reconstruct(image) }
        }
        let plain = ImageTokenizer(vqvae: VQVAE(config: tinyConfig, weights: InMemoryWeights(random.tensors)), path: "ok")
        #expect(try plain.tokens(from: image).count == tinyConfig.patchSizes.count)
    }

    /// A finite weight beyond float16's range is refused at load under `--weights f16` (it would become ±∞),
    /// naming the tensor; float32 and int8 load the same file.
    @Test func weightBeyondHalfRangeIsRefusedForFloat16() throws {
        let random = RandomWeights(seed: 1, profile: .transformer)
        _ = VARModel(config: tinyVARConfig(), weights: random)
        var w = SafetensorsWriter()
        for (k, t) in random.tensors.sorted(by: { $0.key < $1.key }) {
            var data = t.data
            if k == "blocks.0.ffn.fc1.weight" { data[3] = 1e5 }
            w.f32(k, t.shape, data)
        }
        let path = w.write("half-range")
        guard WeightPrecision.float16Supported else { return }
        do {
            _ = try VARModel.load(path: path, config: tinyVARConfig(), precision: .float16)
            Issue.record("a weight of 1e5 was stored as float16")
        } catch let CheckpointError.badTensor(file, key, reason) {
            #expect(file == path && key == "blocks.0.ffn.fc1.weight" && reason.contains("float16"))
        }
        _ = try VARModel.load(path: path, config: tinyVARConfig(), precision: .float32)
        _ = try VARModel.load(path: path, config: tinyVARConfig(), precision: .int8)
    }

    /// A decoded batch with NaN in image 1 is refused naming image 1; nothing is converted.
    @Test func nonFiniteImageNamesIndex() throws {
        var t = Tensor(repeating: 0.5, shape: [3, 3, 4, 4])
        t.data[48 + 5] = .nan
        #expect(throws: RuntimeError.nonFiniteImage(index: 1)) { _ = try RGBImage.images(from: t) }
    }

    /// Sampling values outside `SamplingLimits` (issue: `--cfg 1e19`, `--temp 1e19` trapped) are refused by the
    /// library before any work.
    @Test(arguments: [SamplingConfig(cfg: 1e19), SamplingConfig(temperature: .uniform(1e19)), SamplingConfig(cfg: .nan),
                      SamplingConfig(topP: 1.5), SamplingConfig(temperature: .perScale([1, 1])),
                      SamplingConfig(topK: .uniform(-1)), SamplingConfig(temperature: .uniform(0))])
    func samplingOutOfRangeIsRefused(sampling: SamplingConfig) throws {
        let c = tinyVARConfig()
        let gen = try VARGenerator(model: VARModel(config: c, randomSeed: 1), tokenizer: NearestTokenizer(config: c))
        #expect(throws: GenerationError.self) { _ = try gen.generate(labels: [0], seeds: [0], sampling: sampling) }
    }
}
