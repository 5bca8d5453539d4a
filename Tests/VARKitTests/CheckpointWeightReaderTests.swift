import Testing
@testable import VARCore
import VARKit

@Suite struct CheckpointWeightReaderTests {
    func file() throws -> Checkpoint {
        var w = SafetensorsWriter()
        w.f32("blocks.0.attn.q_bias", [2], [1, 2])
        w.f32("blocks.1.attn.q_bias", [2], [3, 4])
        w.f32("blocks.1.attn.zero_k_bias", [2], [0, 0])
        w.f32("head.weight", [3, 2], [1, 2, 3, 4, 5, 6])
        w.f32("extra.thing", [1], [9])
        w.f32("quantize.ema_vocab_hit_SV", [7, 4], [Float](repeating: 1, count: 28))
        w.add("lvl_1L", "I64", [1, 3], TestEncode.i64([0, 1, 1]))
        return try Checkpoint(path: w.write("contract"))
    }

    @Test func scopedReadsAndSatisfiedContract() throws {
        let ck = try file()
        let r = WeightReader(ck, optional: ["blocks.*.attn.zero_k_bias", "extra.thing", "lvl_1L"],
                             ignoredShapes: ["quantize.ema_vocab_hit_SV"])
        let blocks = r.root.scope("blocks")
        #expect(blocks.scope(1)("attn.q_bias", [2]).data == [3, 4])
        #expect(blocks.scope(0)("attn.q_bias", [2]).data == [1, 2])
        #expect(blocks.scope(0)("attn.zero_k_bias", [2]).isPlaceholder)   // optional, missing → placeholder
        #expect(r.root("head.weight", [3, 2]).data == [1, 2, 3, 4, 5, 6])
        #expect(r.root("quantize.ema_vocab_hit_SV", [10, 4]).shape == [7, 4])  // shape not checked
        #expect(r.root.contains("extra.thing") && r.root.shape(of: "head.weight") == [3, 2])
        try r.finish()  // unrequested optional keys (zero_k_bias of block 1, lvl_1L) are not "unused"
    }

    @Test func contractListsEveryProblem() throws {
        let ck = try file()
        let r = WeightReader(ck)
        let b = r.root.scope("blocks")
        _ = b.scope(0)("attn.q_bias", [2])
        _ = b.scope(1)("attn.q_bias", [5])          // mis-shaped → a placeholder, never 5 zeros
        #expect(b.scope(1)("attn.q_bias", [5]).isPlaceholder)
        _ = b.scope(2)("attn.q_bias", [2])          // missing
        _ = r.root("pos_1LC", [1, 680, 2])          // missing
        #expect(r.root.int64s("lvl_1L", [1, 3]) == [0, 1, 1])
        do {
            try r.finish()
            Issue.record("finish() should throw")
        } catch let CheckpointError.contract(file, missing, unused, misshaped) {
            #expect(file == ck.path)
            #expect(missing == ["blocks.2.attn.q_bias", "pos_1LC"])
            #expect(unused == ["blocks.1.attn.zero_k_bias", "extra.thing", "head.weight", "quantize.ema_vocab_hit_SV"])
            #expect(misshaped == [.init(key: "blocks.1.attn.q_bias", expected: [5], actual: [2])])
            let text = CheckpointError.contract(file: file, missing: missing, unused: unused, misshaped: misshaped)
                .description
            #expect(text.contains("model expects [5], file has [2]"))
            #expect(text.contains("\nHINT: "))
        }
    }

    @Test func hintRecognisesSwappedFiles() {
        let e = CheckpointError.contract(file: "v.pth", missing: ["blocks.0.attn.q_bias", "pos_1LC"],
                                         unused: ["encoder.conv_in.weight", "quantize.embedding.weight"], misshaped: [])
        #expect(e.description.contains("is it passed as --model instead of --vqvae?"))
    }
}
