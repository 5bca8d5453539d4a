import Foundation
import Testing
@testable import VARCore
import VARKit

/// Issue 17 class 1: configurations inferred from tensor shapes or read from JSON are validated by
/// `ConfigLimits` before anything is allocated, and a model is only built from tensors the file holds.
@Suite struct HostileConfigTests {
    /// The tiny transformer's tensors with `override` replacing (or adding) entries.
    static func tinyVARFile(_ stem: String, override: [String: [Int]] = [:], drop: Set<String> = []) -> String {
        let random = RandomWeights(seed: 1, profile: .transformer)
        _ = VARModel(config: tinyVARConfig(), weights: random)
        var w = SafetensorsWriter()
        var shapes = random.tensors.mapValues(\.shape)
        for (k, s) in override { shapes[k] = s }
        for (k, shape) in shapes.sorted(by: { $0.key < $1.key }) where !drop.contains(k) {
            // Empty tensors cost nothing in the file: only their shapes claim a size.
            if shape.contains(0) { w.add(k, "F32", shape, []) } else {
                w.f32(k, shape, override[k] == nil ? random.tensors[k]!.data : [Float](repeating: 0, count: shape.reduce(1, *)))
            }
        }
        return w.write(stem)
    }

    /// Issue reproduction: a 587-byte file whose `pos_start` claims a width of 2^40 (and 2^20), plus variants.
    @Test(arguments: [[0, 1, 1 << 40], [0, 1, 1 << 20], [0, 1, 0]])
    func inferredWidthIsBounded(posStart: [Int]) throws {
        var w = SafetensorsWriter()
        w.add("pos_start", "F32", posStart, [])
        w.add("blocks.0.attn.scale_mul_1H11", "F32", [1, 1, 1, 0], [])
        w.add("class_emb.weight", "F32", [1001, 0], [])
        w.add("head.weight", "F32", [4096, 0], [])
        w.add("word_embed.weight", "F32", [0, 32], [])
        w.add("lvl_embed.weight", "F32", [10, 0], [])
        w.add("pos_1LC", "F32", [1, 680, 0], [])
        let path = w.write("wide")
        #expect(throws: VARConfigError.self) { _ = try VARModel.load(path: path) }
        do { _ = try VARModel.load(path: path) } catch let e as VARConfigError {
            #expect(e.description.contains("width") || e.description.contains("heads"), "\(e)")
            #expect(e.description.contains(path))
        }
    }

    /// Issue reproduction: `blocks.0.ffn.fc1.weight` of shape (2^62, 0) and the shapes around it.
    @Test(arguments: [[1 << 62, 0], [0, 0], [1 << 30, 0]])
    func inferredMLPIsBounded(fc1: [Int]) throws {
        let c = VARConfig.official(depth: 1)
        var w = SafetensorsWriter()
        for (k, s) in [("pos_start", [1, 1, c.width]), ("blocks.0.attn.scale_mul_1H11", [1, 1, 1, 1]),
                       ("class_emb.weight", [1001, c.width]), ("head.weight", [4096, c.width]),
                       ("word_embed.weight", [c.width, 32]), ("lvl_embed.weight", [10, c.width]),
                       ("pos_1LC", [1, 680, 0]), ("blocks.0.ffn.fc1.weight", fc1)] {
            w.add(k, "F32", s, s.contains(0) ? [] : TestEncode.f32([Float](repeating: 0, count: s.reduce(1, *))))
        }
        let path = w.write("mlp")
        #expect(throws: VARConfigError.self) { _ = try VARModel.load(path: path) }
    }

    /// A configuration the file does not pay for (VAR-d16 given for a 2-element file) is refused before
    /// anything is built, naming the numbers.
    @Test func configMustBeBackedByStoredElements() throws {
        var w = SafetensorsWriter()
        w.f32("pos_start", [2], [0, 0])
        let path = w.write("unbacked")
        do {
            _ = try VARModel.load(path: path, config: VARConfig.official(depth: 16))
            Issue.record("an unbacked configuration was loaded")
        } catch let VARConfigError.outOfRange(v) {
            #expect(v.field == "model size" && v.source == path, "\(v)")
        }
    }

    /// Issue reproduction: VQVAE `encoder.conv_in.weight` (0,3,3,3) and a rank-0 `conv1.weight` no longer trap.
    @Test func vqvaeInferenceIsChecked() throws {
        func attempt(_ tensors: [(String, [Int])]) -> Error? {
            var w = SafetensorsWriter()
            for (k, s) in tensors { w.add(k, "F32", s, s.contains(0) ? [] : TestEncode.f32([Float](repeating: 0, count: s.reduce(1, *)))) }
            do { _ = try VQVAE.load(path: w.write("vq")); return nil } catch { return error }
        }
        let base: [(String, [Int])] = [("quantize.embedding.weight", [16, 4]), ("quantize.quant_resi.qresi_ls.0.weight", [4, 4, 3, 3])]
        for variant: [(String, [Int])] in [
            [("encoder.conv_in.weight", [0, 3, 3, 3]), ("encoder.down.0.block.0.conv1.weight", [32, 32, 3, 3])],
            [("encoder.conv_in.weight", [32, 3, 3, 3]), ("encoder.down.0.block.0.conv1.weight", [])],
            [("encoder.conv_in.weight", [32, 3, 3, 3]), ("encoder.down.0.block.0.conv1.weight", [33, 32, 3, 3])],
            [("encoder.conv_in.weight", [1 << 40, 3, 3, 0])],
            [("encoder.conv_in.weight", [32, 3, 3])],
        ] {
            let error = attempt(base + variant)
            #expect(error is TokenizerError, "\(variant): \(String(describing: error))")
        }
    }

    /// Issue reproductions in a model JSON, and variants: every one is a `VARConfigError.outOfRange` naming the field.
    @Test(arguments: [
        ("\"mlp_ratio\": 1e300", "mlp_ratio"), ("\"patch_sizes\": [1, 3037000500]", "patch_sizes"),
        ("\"num_classes\": 4611686018427387904", "num_classes"), ("\"sampling\": {\"cfg\": 1e300}", "sampling.cfg"),
        ("\"sampling\": {\"top_k\": 1000000}", "sampling.top_k"), ("\"sampling\": {\"top_p\": 2}", "sampling.top_p"),
        ("\"sampling\": {\"temperature\": 0}", "sampling.temperature"),
        ("\"sampling\": {\"temperature\": [1, 2]}", "sampling.temperature"),
        ("\"sampling\": {\"draft_steps\": 4}", "sampling.draft_steps"), ("\"heads\": 3", "heads"),
        ("\"depth\": 0", "depth"), ("\"depth\": 100000", "depth"), ("\"width\": -32", "width"),
        ("\"patch_sizes\": [1, 3, 2, 4]", "patch_sizes"), ("\"patch_sizes\": [2, 3, 4]", "patch_sizes"),
        ("\"patch_sizes\": []", "patch_sizes"), ("\"vocab_size\": 0", "vocab_size"), ("\"z_channels\": 1000000", "z_channels"),
        ("\"mlp_ratio\": 0.0", "mlp_ratio"), ("\"mlp_ratio\": -4", "mlp_ratio"),
        ("\"class_names\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]", "class_names"),
        ("\"class_names\": [\"a\", \"a\"]", "class_names"), ("\"class_names\": [\"3\", \"b\"]", "class_names"),
        ("\"class_names\": [\"\"]", "class_names"), ("\"class_names\": [\"x\", \"all\"]", "class_names"),
        ("\"class_names\": [\"\\u001b[2Jzero\"]", "class_names"), ("\"class_names\": [\"uncond\"]", "class_names"),
    ])
    func hostileModelJSON(field: String, name: String) throws {
        let base: [String: String] = ["\"kind\"": "\"var\"", "\"depth\"": "2", "\"width\"": "32", "\"heads\"": "2",
                                      "\"num_classes\"": "5", "\"vocab_size\"": "64", "\"z_channels\"": "4",
                                      "\"patch_sizes\"": "[1, 2, 3, 4]"]
        let key = String(field.prefix { $0 != ":" })
        var members = base.filter { $0.key != key }.map { "\($0.key): \($0.value)" }
        members.append(field)
        let path = CheckpointWriters.write(Array(("{" + members.joined(separator: ", ") + "}").utf8), "model", "json")
        do {
            _ = try VARConfig.load(json: path)
            Issue.record("\(field) was accepted")
        } catch let VARConfigError.outOfRange(v) {
            #expect(v.field == name, "\(v)")
            #expect(v.source == path)
        }
    }

    /// Property test: random shapes (zero, small, huge) for the tensors inference reads either give a config
    /// within every bound or a typed error — never a trap. Fixed seed.
    @Test func randomShapesForInference() {
        var rng = SplitMix64(seed: 17)
        let dims = [0, 1, 2, 3, 16, 32, 680, 1001, 4096, 1 << 16, 1 << 20, 1 << 31, 1 << 40, 1 << 62]
        var accepted = 0
        let valid: [String: [Int]] = ["pos_start": [1, 1, 128], "blocks.0.attn.scale_mul_1H11": [1, 2, 1, 1],
                                      "class_emb.weight": [1001, 128], "head.weight": [4096, 128], "word_embed.weight": [128, 32],
                                      "lvl_embed.weight": [10, 128], "pos_1LC": [1, 680, 128]]
        for _ in 0..<1000 {
            func shape(_ rank: Int) -> [Int] { (0..<(rng.below(3) == 0 ? rng.below(5) : rank)).map { _ in dims[rng.below(dims.count)] } }
            // Start from a valid official layout (depth 2, width 128) and replace each shape with probability 1/4.
            var shapes = valid
            for (k, s) in valid.sorted(by: { $0.key < $1.key }) where rng.below(4) == 0 { shapes[k] = shape(s.count) }
            if rng.below(4) == 0 { shapes["blocks.0.ffn.fc1.weight"] = rng.below(2) == 0 ? [512, 128] : shape(2) }
            let depth = rng.below(4) == 0 ? 1 + rng.below(400) : 2
            let names = Array(shapes.keys) + (0..<depth).map { "blocks.\($0).attn.proj.bias" }
            do {
                let c = try VARConfig(inferringFromShapes: { shapes[$0] }, names: names)
                accepted += 1
                #expect(c.width <= ConfigLimits.maxWidth && c.depth <= ConfigLimits.maxDepth && c.width % c.heads == 0)
                #expect(c.mlpHidden >= 1 && c.mlpHidden <= ConfigLimits.maxMLPHidden)
                #expect(ConfigLimits.transformerWeights(c) != nil)
            } catch is VARConfigError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(accepted > 0)
    }

    /// Property test: random VQVAE shapes for inference — a bounded config or a `TokenizerError`.
    @Test func randomShapesForVQVAEInference() {
        var rng = SplitMix64(seed: 23)
        let dims = [0, 1, 3, 4, 16, 32, 64, 160, 320, 4096, 1 << 20, 1 << 40]
        var accepted = 0
        for _ in 0..<3000 {
            var shapes: [String: [Int]] = [:]
            func shape(_ rank: Int) -> [Int] { (0..<(rng.below(4) == 0 ? rng.below(5) : rank)).map { _ in dims[rng.below(dims.count)] } }
            shapes["encoder.conv_in.weight"] = rng.below(2) == 0 ? [32 * (1 + rng.below(3)), 3, 3, 3] : shape(4)
            shapes["quantize.embedding.weight"] = shape(2)
            for l in 0..<rng.below(10) { shapes["encoder.down.\(l).block.0.conv1.weight"] = rng.below(2) == 0 ? [32 << rng.below(3), 1, 3, 3] : shape(4) }
            for b in 1..<(1 + rng.below(20)) { shapes["encoder.down.0.block.\(b).conv1.weight"] = [1] }
            for k in 0..<rng.below(70) { shapes["quantize.quant_resi.qresi_ls.\(k).weight"] = [1] }
            do {
                let c = try VQVAEConfig(inferringFrom: { shapes[$0] })
                accepted += 1
                #expect(c.levelChannels.allSatisfy { $0 % 32 == 0 && $0 <= ConfigLimits.maxLevelChannels })
                #expect(c.vocabSize <= ConfigLimits.maxVocab && c.phiCount <= ConfigLimits.maxPhi)
            } catch is TokenizerError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(accepted > 0)
    }

    /// Property test: random values in every field of a model JSON and a VQVAE JSON — accepted configs are
    /// within bounds; everything else is a typed error. Fixed seed.
    @Test func randomJSONValues() throws {
        var rng = SplitMix64(seed: 29)
        let numbers = ["0", "1", "2", "4", "-1", "32", "64", "0.5", "1e300", "-1e300", "4096", "1000000", "9223372036854775807",
                       "9223372036854775808", "3037000500", "1.5", "\"x\"", "null", "[]", "[1]", "[1,2,3,4]", "[1,3037000500]"]
        func n() -> String { numbers[rng.below(numbers.count)] }
        var acceptedVAR = 0, acceptedVQ = 0
        for i in 0..<1500 {
            let sampling = "{\"cfg\": \(n()), \"top_k\": \(n()), \"top_p\": \(n()), \"temperature\": \(n()), \"draft_steps\": \(n())}"
            let fields = ["\"depth\": \(rng.below(2) == 0 ? "2" : n())", "\"width\": \(rng.below(2) == 0 ? "32" : n())",
                          "\"heads\": \(rng.below(2) == 0 ? "2" : n())", "\"num_classes\": \(rng.below(2) == 0 ? "5" : n())",
                          "\"vocab_size\": \(rng.below(2) == 0 ? "64" : n())", "\"z_channels\": \(rng.below(2) == 0 ? "4" : n())",
                          "\"patch_sizes\": \(rng.below(2) == 0 ? "[1,2,3,4]" : n())",
                          "\"mlp_ratio\": \(rng.below(2) == 0 ? "4" : n())"] + (rng.below(2) == 0 ? ["\"sampling\": \(sampling)"] : [])
            let path = CheckpointWriters.write(Array(("{" + fields.joined(separator: ",") + "}").utf8), "rand-\(i)", "json")
            do {
                let c = try VARConfig.load(json: path)
                acceptedVAR += 1
                try ConfigLimits.check(c)
            } catch is VARConfigError {
            } catch { Issue.record("unexpected error \(error)") }
            let vq = "{\"vocab_size\": \(rng.below(2) == 0 ? "16" : n()), \"z_channels\": \(rng.below(2) == 0 ? "4" : n()), "
                + "\"ch\": \(rng.below(2) == 0 ? "32" : n()), \"ch_mult\": \(rng.below(2) == 0 ? "[1,2]" : n()), "
                + "\"num_res_blocks\": \(rng.below(2) == 0 ? "1" : n()), \"patch_sizes\": \(rng.below(2) == 0 ? "[1,2,4]" : n()), "
                + "\"phi_count\": \(rng.below(2) == 0 ? "2" : n()), \"phi_index\": \(rng.below(2) == 0 ? "[0,1,1]" : n())}"
            let vqPath = CheckpointWriters.write(Array(vq.utf8), "randvq-\(i)", "json")
            do {
                let c = try VQVAEConfig(contentsOf: URL(fileURLWithPath: vqPath))
                acceptedVQ += 1
                try ConfigLimits.check(c)
            } catch is TokenizerError {
            } catch { Issue.record("unexpected error \(error)") }
        }
        #expect(acceptedVAR > 0 && acceptedVQ > 0)
    }

    /// Issue reproduction: 200,000 empty `blocks.N.*` tensors. Refused when the file is opened (more tensors
    /// than any model has); the optional-key matching is linear anyway (checked on 200,000 keys below).
    @Test func manyEmptyBlocksAreRefused() throws {
        var header = "{"
        for i in 0..<200_000 { header += "\"blocks.\(i).attn.zero_k_bias\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," }
        header.removeLast(); header += "}"
        let path = CheckpointWriters.write(SafetensorsWriter().bytes(header: header), "blocks", "safetensors")
        do {
            _ = try VARModel.load(path: path)
            Issue.record("200,000 empty blocks were accepted")
        } catch let e as CheckpointError {
            #expect(e.description.contains("at most 16384 tensors are accepted"), "\(e)")
        }
        // Literal optional keys are hashed; only `*` patterns are compared one by one.
        let keys = (0..<200_000).map { "blocks.\($0).attn.zero_k_bias" }
        let patterns = KeyPatterns(Set(keys).union(["x.*.y"]))
        #expect(keys.allSatisfy { patterns.matches($0) })
        #expect(!patterns.matches("blocks.200000.attn.q_bias"))
    }

    /// A mis-shaped or missing request answers a placeholder: no allocation in the claimed shape.
    @Test func misshapedRequestsNeverAllocateTheExpectedShape() throws {
        var w = SafetensorsWriter()
        w.f32("a", [2], [1, 2])
        let reader = WeightReader(try Checkpoint(path: w.write("placeholder")))
        let huge = reader.root("a", [1 << 40])
        let missing = reader.root("b", [1 << 20, 1 << 20])
        #expect(huge.isPlaceholder && huge.count == 0 && missing.isPlaceholder && missing.rank == 2)
        #expect(throws: CheckpointError.self) { try reader.finish() }
    }

    /// Files shorter than the model they describe: every missing/mis-shaped tensor is listed, no zeros built.
    @Test func truncatedModelListsEveryProblem() throws {
        let path = Self.tinyVARFile("short", override: ["head.weight": [64, 31]], drop: ["head.bias", "pos_1LC"])
        do {
            _ = try VARModel.load(path: path, config: tinyVARConfig())
            Issue.record("loaded")
        } catch let CheckpointError.contract(_, missing, _, misshaped) {
            #expect(missing == ["head.bias", "pos_1LC"])
            #expect(misshaped.map(\.key) == ["head.weight"])
        }
    }

    /// Every single key of the tiny VQVAE and VAR transformer dropped or mis-shaped in turn: always one
    /// contract error naming it, never a trap in a constructor that meets a placeholder.
    @Test func everyKeyMissingOrMisshapedIsReported() throws {
        let vq = RandomWeights(seed: 2)
        _ = VQVAE(config: tinyConfig, weights: vq)
        for key in vq.tensors.keys.sorted() {
            for misshape in [false, true] {
                var w = SafetensorsWriter()
                for (k, t) in vq.tensors.sorted(by: { $0.key < $1.key }) where k != key || misshape {
                    if k == key { w.f32(k, [1], [0]) } else { w.f32(k, t.shape, t.data) }
                }
                do {
                    _ = try VQVAE(checkpoint: try Checkpoint(bytes: w.bytes(), name: "vq"), config: tinyConfig)
                    Issue.record("\(key) not reported")
                } catch let CheckpointError.contract(_, missing, _, misshaped) {
                    #expect((misshape ? misshaped.map(\.key) : missing) == [key])
                }
            }
        }
        let c = tinyVARConfig()
        let tv = RandomWeights(seed: 2, profile: .transformer)
        _ = VARModel(config: c, weights: tv)
        for key in tv.tensors.keys.sorted() {
            var w = SafetensorsWriter()
            for (k, t) in tv.tensors.sorted(by: { $0.key < $1.key }) {
                if k == key { w.f32(k, [1], [0]) } else { w.f32(k, t.shape, t.data) }
            }
            let path = w.write("var-misshaped")
            for inPlace in [false, true] {
                do {
                    _ = try VARModel.load(path: path, config: c, inPlace: inPlace)
                    Issue.record("\(key) not reported")
                } catch let CheckpointError.contract(_, _, _, misshaped) {
                    #expect(misshaped.map(\.key) == [key])
                }
            }
        }
    }
}
