import Foundation
import Testing
@testable import VARCore
import VARKit

/// Issue 17 classes 6 and 8: token files and PNG inputs are validated in full before anything is used.
@Suite struct TokenFileTests {
    static let sizes = [1, 2, 3]

    /// A token file written by hand: `scales[si]` has shape `shapes[si]`, values `values(si)`.
    static func file(_ stem: String, shapes: [[Int]], dtype: String = "I64", values: (Int, Int) -> Int64 = { _, i in Int64(i % 7) },
                     labels: [Int64]? = nil, seeds: [Int64]? = nil, extra: Bool = false, meta: String? = nil) -> String {
        var w = SafetensorsWriter()
        for (si, shape) in shapes.enumerated() {
            let n = shape.reduce(1, *)
            let v = (0..<n).map { values(si, $0) }
            w.add("scale_\(si)", dtype, shape, dtype == "F32" ? TestEncode.f32(v.map(Float.init)) : TestEncode.i64(v))
        }
        if let labels { w.add("labels", "I64", [labels.count], TestEncode.i64(labels)) }
        if let seeds { w.add("seeds", "I64", [seeds.count], TestEncode.i64(seeds)) }
        if extra { w.f32("evil\\u001b[2J", [1], [1]) }   // JSON escape: the name holds ESC
        if let meta { w.metadata = ["patch_sizes": meta] }
        return w.write(stem)
    }

    func refusal(_ path: String, vocab: Int? = nil) -> String {
        do { _ = try TokenFile.read(path, vocabSize: vocab); return "accepted" } catch { return "\(error)" }
    }

    @Test func roundTripAndValidContents() throws {
        let path = CheckpointWriters.temporaryPath("tokens", "safetensors")
        let tokens: [[Int32]] = Self.sizes.map { pn in (0..<(2 * pn * pn)).map { Int32($0 % 5) } }
        try TokenFile.write(tokens: tokens, labels: [3, -1], seeds: [7, UInt64.max], patchSizes: Self.sizes,
                            metadata: ["tool": "test"], to: path)
        let c = try TokenFile.read(path, patchSizes: Self.sizes, vocabSize: 5)
        #expect(c.tokens == tokens && c.count == 2 && c.labels == [3, -1] && c.seeds == [7, UInt64.max])
        #expect(refusal(path, vocab: 4).contains("token 4 at scale_1"))
        #expect(throws: RuntimeError.self) { try TokenFile.read(path, patchSizes: [1, 2, 4]) }
    }

    /// Issue reproductions (3 images / 1 label, disagreeing batches, B = 0, 2^32+5 truncated) and variants.
    @Test(arguments: [
        ("3 images, 1 label", "expected (3) integers", 0), ("batches disagree", "same batch", 1), ("B = 0", "0 images", 2),
        ("token 2^32+5", "4294967301", 3), ("negative token", "token -1", 4), ("float tokens", "integer tokens", 5),
        ("not square", "(B, pn, pn)", 6), ("sides decrease", "must increase", 7), ("extra tensor", "unexpected tensor", 8),
        ("metadata disagrees", "disagrees", 9), ("seeds count", "seeds has shape", 10), ("no scales", "no scale_0", 11),
        ("huge side", "(B, pn, pn)", 12), ("label out of range", "label", 13),
    ])
    func hostileTokenFiles(name: String, expect: String, variant: Int) throws {
        let three = Self.sizes.map { [3, $0, $0] }
        let path: String
        switch variant {
        case 0: path = Self.file("t", shapes: three, labels: [1])
        case 1: path = Self.file("t", shapes: [[3, 1, 1], [2, 2, 2], [3, 3, 3]])
        case 2: path = Self.file("t", shapes: Self.sizes.map { [0, $0, $0] })
        case 3: path = Self.file("t", shapes: three, values: { si, i in si == 2 && i == 4 ? (1 << 32) + 5 : 1 })
        case 4: path = Self.file("t", shapes: three, values: { _, i in i == 2 ? -1 : 0 })
        case 5: path = Self.file("t", shapes: three, dtype: "F32")
        case 6: path = Self.file("t", shapes: [[3, 1, 1], [3, 2, 3]])
        case 7: path = Self.file("t", shapes: [[3, 1, 1], [3, 3, 3], [3, 2, 2]])
        case 8: path = Self.file("t", shapes: three, extra: true)
        case 9: path = Self.file("t", shapes: three, meta: "1,2,4")
        case 10: path = Self.file("t", shapes: three, seeds: [1, 2])
        case 11: path = Self.file("t", shapes: [])
        case 12: path = Self.file("t", shapes: [[1, 1, 1], [1, 2000, 2000]], values: { _, _ in 0 })
        default: path = Self.file("t", shapes: three, labels: [1, 2, Int64.max])
        }
        let text = refusal(path)
        #expect(text.contains(expect), "\(name): \(text)")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B })
    }

    /// Mutation fuzzing of a valid token file: every result is validated contents or a typed error.
    /// CI: 1,500 seeded iterations; longer runs with `VARGEN_FUZZ_ITERATIONS` / `VARGEN_FUZZ_SEED`.
    @Test func fuzzTokenFiles() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = env["VARGEN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 1500
        var rng = SplitMix64(seed: env["VARGEN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 41)
        let seed = try Array(Data(contentsOf: URL(fileURLWithPath: Self.file("seed", shapes: Self.sizes.map { [2, $0, $0] },
                                                                             labels: [1, 2], seeds: [3, 4], meta: "1,2,3"))))
        let headerEnd = 8 + Int(seed[0]) + Int(seed[1]) << 8
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vargen-token-fuzz").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/input.safetensors"
        var accepted = 0
        for _ in 0..<iterations {
            let bytes = CheckpointFuzzTests.mutate(seed, hot: 0..<headerEnd, &rng)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                let c = try TokenFile.read(path, vocabSize: 4096)
                accepted += 1
                #expect(c.count >= 1 && c.tokens.count == c.patchSizes.count)
                for (si, pn) in c.patchSizes.enumerated() {
                    #expect(c.tokens[si].count == c.count * pn * pn)
                    #expect(c.tokens[si].allSatisfy { $0 >= 0 && $0 < 4096 })
                }
                #expect(c.labels.map { $0.count == c.count } ?? true)
            } catch is CheckpointError {
            } catch is RuntimeError {
            }
        }
        #expect(accepted > 0)
    }
}

@Suite struct PNGInputTests {
    /// Issue reproduction: a small PNG declaring 16000×16000 is refused from its header, before decoding.
    @Test(arguments: [(16_000, 16_000), (1 << 31 - 1, 1), (1, 1 << 31 - 1), (5000, 4000)])
    func hugeDeclaredSizeIsRefusedFromTheHeader(width: Int, height: Int) throws {
        var png = try PNG.encode(RGBImage(width: 2, height: 2, fill: (1, 2, 3)))
        // IHDR data starts at byte 16: width, height (big-endian); then fix the CRC.
        for (k, v) in [(16, width), (20, height)] { for j in 0..<4 { png[k + j] = UInt8((v >> (24 - 8 * j)) & 0xFF) } }
        let crc = CRC32.checksum(png[12..<29])
        for j in 0..<4 { png[29 + j] = UInt8((crc >> (24 - 8 * UInt32(j))) & 0xFF) }
        let size = try PNG.dimensions(png)
        #expect(size.width == width && size.height == height)
        #expect(throws: RuntimeError.imageTooLarge(path: nil, width: width, height: height, maxPixels: PNG.defaultMaxPixels)) {
            _ = try PNG.decode(png)
        }
    }

    /// Fuzzing of the IHDR fields and lengths: decode returns an image within the pixel cap or a typed error.
    @Test func fuzzHeaderFields() throws {
        let seed = try PNG.encode(RGBImage(width: 5, height: 3, fill: (9, 8, 7)))
        var rng = SplitMix64(seed: 77)
        let iterations = ProcessInfo.processInfo.environment["VARGEN_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 2000
        for _ in 0..<iterations {
            var b = seed
            for _ in 0...rng.below(3) {
                let at = 8 + rng.below(25)     // signature excluded: the IHDR chunk
                b[at] = UInt8(truncatingIfNeeded: CheckpointFuzzTests.interesting[rng.below(CheckpointFuzzTests.interesting.count)] >> (8 * UInt64(rng.below(4))))
            }
            if rng.below(2) == 0 {
                let crc = CRC32.checksum(b[12..<29])
                for j in 0..<4 { b[29 + j] = UInt8((crc >> (24 - 8 * UInt32(j))) & 0xFF) }
            }
            do {
                let (image, _) = try PNG.decode(b, maxPixels: 1 << 16)
                #expect(image.width * image.height <= 1 << 16)
            } catch is RuntimeError {}
        }
    }
}
