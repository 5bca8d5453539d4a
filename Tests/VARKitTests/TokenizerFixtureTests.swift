import Foundation
import Testing
@testable import VARCore
import VARKit

/// Tests against the PyTorch reference fixtures of Tests/Fixtures (see its README; regenerate with
/// `python3 tools/make_fixtures.py --part ops --part masks --part keys` and `--part tiny`).
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardized
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func open(_ name: String) throws -> Checkpoint { try Checkpoint(path: path(name)) }
    static var available: Bool { FileManager.default.fileExists(atPath: path("ops.safetensors")) }
}

/// Weights of a fixture file under a prefix, without the strict "all used" check (the fixture
/// files hold many unrelated tensors).
func fixtureWeights(_ c: Checkpoint, _ prefix: String) -> WeightScope {
    WeightReader(c).root.scope(prefix)
}

@Suite(.enabled(if: TokenizerFixtures.available)) struct TokenizerOpsFixtureTests {
    let ops: Checkpoint
    init() throws { ops = try TokenizerFixtures.open("ops.safetensors") }
    func t(_ name: String) throws -> Tensor { try ops.tensor(name) }

    /// conv: `torch.nn.Conv2d(ci, co, k, padding=p)(x)` (the encoder downsample with `F.pad(x, (0,1,0,1))`).
    @Test func convolutions() throws {
        let c3 = try t("conv3x3.x").conv2d(weight: t("conv3x3.weight"), bias: t("conv3x3.bias"), padding: .symmetric(1), workspace: ConvWorkspace(parallelism: .allCores))
        #expect(OpsReference.relativeError(c3, try t("conv3x3.y")) < 1e-5)
        for name in ["conv_down", "conv_down_odd"] {
            let y = try t("\(name).x").conv2d(weight: t("conv_down.weight"), bias: t("conv_down.bias"), stride: 2,
                                              padding: .bottomRight, workspace: ConvWorkspace(parallelism: .allCores))
            #expect(OpsReference.relativeError(y, try t("\(name).y")) < 1e-5, "\(name)")
        }
        let c1 = try t("conv1x1.x").conv2d(weight: t("conv1x1.weight"), bias: t("conv1x1.bias"), workspace: ConvWorkspace(parallelism: .allCores))
        #expect(OpsReference.relativeError(c1, try t("conv1x1.y")) < 1e-5)
    }

    /// `F.group_norm(x, 32, w, b, eps=1e-6)`, `F.silu`, `F.interpolate(x, scale_factor=2, mode="nearest")`.
    @Test func normSiluUpsample() throws {
        let gn = try t("groupnorm.x").groupNorm(weight: t("groupnorm.weight"), bias: t("groupnorm.bias"), workspace: ConvWorkspace(parallelism: .allCores))
        #expect(OpsReference.maxAbsDiff(gn, try t("groupnorm.y")) < 1e-5)
        let s = try t("silu.x").silu(parallelism: .allCores), sy = try t("silu.y")
        for i in 0..<s.count { #expect(abs(s.data[i] - sy.data[i]) <= 1e-6 * max(1, abs(sy.data[i]))) }
        #expect(try t("nearest2x.x").upsampledNearest2x() == t("nearest2x.y"))
    }

    /// `F.interpolate(x, size=(16,16), mode="bicubic")` and `F.interpolate(x16, size=(pn,pn), mode="area")`.
    @Test func resizes() throws {
        for pn in [1, 2, 3, 4, 5, 6, 8, 10, 13] {
            let up = ResizeMatrix.bicubic(from: pn, to: 16)
            let b = try t("bicubic.pn\(pn).x").resized(rows: up, cols: up)
            #expect(OpsReference.maxAbsDiff(b, try t("bicubic.pn\(pn).y")) < 2e-6, "bicubic pn \(pn)")
            let down = ResizeMatrix.area(from: 16, to: pn)
            let a = try t("area.x").resized(rows: down, cols: down)
            #expect(OpsReference.maxAbsDiff(a, try t("area.pn\(pn).y")) < 2e-6, "area pn \(pn)")
        }
    }

    /// The VQVAE AttnBlock and ResnetBlocks with official key names.
    @Test func blocks() throws {
        let ws = ConvWorkspace(parallelism: .allCores)
        let attn = AttnBlock(fixtureWeights(ops, "attn"), channels: 64)
        #expect(OpsReference.relativeError(attn(try t("attn.x"), workspace: ws), try t("attn.y")) < 1e-5)
        let same = ResnetBlock(fixtureWeights(ops, "res_same"), in: 32, out: 32)
        #expect(OpsReference.relativeError(same(try t("res_same.x"), workspace: ws), try t("res_same.y")) < 1e-5)
        let nin = ResnetBlock(fixtureWeights(ops, "res_nin"), in: 32, out: 64)
        #expect(nin.ninShortcut != nil)
        #expect(OpsReference.relativeError(nin(try t("res_nin.x"), workspace: ws), try t("res_nin.y")) < 1e-5)
    }

    /// Spec §11 edit masks: bilinear resize + `> 0.5`, every position kept when pn² ≤ 3.
    @Test func editMasks() throws {
        let masks = try TokenizerFixtures.open("masks.safetensors")
        let cases: [(String, Int, [Int])] = [
            ("official.inpaint", 16, [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]),
            ("official.outpaint", 16, [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]),
            ("official.random", 16, [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]),
            ("shipped.inpaint", 8, [1, 2, 3, 4, 6, 8]),
            ("shipped.random", 8, [1, 2, 3, 4, 6, 8]),
        ]
        for (name, side, pns) in cases {
            let keep = try masks.tensor("\(name).mask").data.map { $0 > 0.5 }
            for pn in pns {
                let expected = try masks.int64s("\(name).pn\(pn)").map { $0 != 0 }
                #expect(EditMask.resized(keep, side: side, to: pn) == expected, "\(name) pn \(pn)")
            }
        }
    }

    /// The keys and shapes the model requests are exactly the official state dict (minus the ignored buffer).
    @Test func officialKeyLayout() throws {
        let data = try Data(contentsOf: TokenizerFixtures.directory.appendingPathComponent("official_keys.json"))
        guard let all = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let vq = all["vqvae"] as? [String: [Any]] else {
            Issue.record("official_keys.json: unexpected layout"); return
        }
        var official: [String: [Int]] = [:]
        for (k, v) in vq { official[k] = (v.first as? [Int]) ?? [] }
        let rec = ShapeRecorder()
        _ = VQVAE(config: .official256, weights: rec)
        #expect(official.count == 324)
        for k in VQVAE.ignoredKeys { official[k] = nil }
        #expect(rec.store.shapes == official)
    }
}

@Suite(.enabled(if: TokenizerFixtures.available)) struct TokenizerTinyFixtureTests {
    let vae: VQVAE
    let tiny: Checkpoint
    init() throws {
        // tiny_vqvae.pth (float16 storage) with tiny_vqvae.json beside it, under the strict contract.
        vae = try VQVAE.load(path: TokenizerFixtures.path("tiny_vqvae.pth"))
        tiny = try TokenizerFixtures.open("tiny.safetensors")
    }

    func tokens() throws -> [[Int32]] {
        try (0..<4).map { si in try tiny.int64s("vq.tokens.s\(si)").map { Int32($0) } }
    }

    @Test func configFromJSON() {
        #expect(vae.config.vocabSize == 64 && vae.config.zChannels == 8 && vae.config.chMult == [1, 1])
        #expect(vae.config.patchSizes == [1, 2, 3, 4] && vae.config.phiIndex == [0, 1, 2, 3])
    }

    /// image → f: `quant_conv(encoder(image))`, max abs error ≤ 1e-5 (values O(1)).
    @Test func encoder() throws {
        let ws = ConvWorkspace(parallelism: .allCores)
        let f = vae.quantConv(vae.encoder(try tiny.tensor("vq.image"), workspace: ws), workspace: ws)
        let expected = try tiny.tensor("vq.f")
        #expect(OpsReference.maxAbsDiff(f, expected) < 1e-5)   // measured 6.7e-7
        #expect(OpsReference.relativeError(f, expected) < 1e-5)
        // The public entry point takes [0, 1] images.
        var unit = try tiny.tensor("vq.image")
        for i in 0..<unit.count { unit.data[i] = (unit.data[i] + 1) / 2 }
        #expect(OpsReference.maxAbsDiff(vae.encode(unit), expected) < 1e-5)
        // Tokens of our own f agree exactly with the reference's.
        #expect(vae.tokens(from: unit) == (try tokens()))
    }

    /// f → tokens (exact), tokens → f̂ (≤ 1e-5), teacher-forcing inputs (≤ 1e-5).
    @Test func quantizer() throws {
        let q = vae.quantizer
        #expect(q.tokens(fromLatent: try tiny.tensor("vq.f"), parallelism: .allCores) == (try tokens()))
        let fHat = q.fHat(fromTokens: try tokens(), parallelism: .allCores)
        #expect(OpsReference.maxAbsDiff(fHat, try tiny.tensor("vq.f_hat")) < 1e-5)
        let tf = q.teacherForcingInput(tokens: try tokens(), parallelism: .allCores)
        #expect(tf.shape == [2, 29, 8])
        #expect(OpsReference.maxAbsDiff(tf, try tiny.tensor("vq.teacher_input")) < 1e-5)
    }

    /// f̂ → image: the reference stores `clamp(decoder(post_quant_conv(f̂)), −1, 1)`; ours is mapped to [0, 1].
    @Test func decoder() throws {
        let img = vae.decode(try tiny.tensor("vq.f_hat"))
        var mapped = img
        for i in 0..<mapped.count { mapped.data[i] = mapped.data[i] * 2 - 1 }
        #expect(OpsReference.maxAbsDiff(mapped, try tiny.tensor("vq.decoded")) < 2e-5)   // measured 1.8e-6
        let fromTokens = vae.decode(tokens: try tokens())
        #expect(OpsReference.maxAbsDiff(fromTokens, img) < 1e-5)
    }

    /// The shipped MNIST VQVAE (weights/vqvae.pth + .json) loads under the strict contract and decodes.
    @Test func shippedModelLoads() throws {
        let path = TokenizerFixtures.directory.appendingPathComponent("../../weights/vqvae.pth").standardized.path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let shipped = try VQVAE.load(path: path)
        #expect(shipped.config.imageSize == 32 && shipped.config.patchSizes == [1, 2, 3, 4, 6, 8])
        let tokens = shipped.config.patchSizes.map { pn in (0..<(pn * pn)).map { Int32($0 % 512) } }
        let img = shipped.decode(tokens: tokens)
        #expect(img.shape == [1, 3, 32, 32])
        #expect(img.data.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
