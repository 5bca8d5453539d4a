import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// `sample`/`pack` (issue 7) and `edit` (issue 8) on the tiny random models of `TinyWeights` (8×8 images,
/// patch sizes 1, 2, 3, 4, so the edit mask lives on a 4×4 grid of 2×2-pixel cells).
@Suite("CLI: sample, pack and edit")
struct CLISampleEditTests {
    var w: String { TinyWeights.directory }

    func bytes(_ path: String) throws -> [UInt8] { try FileIO.readAll(path) }
    /// The PNGs of a directory (the sample manifest `var-gen-sample.json` aside).
    func names(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }.sorted()
    }

    /// Shards 0/3, 1/3, 2/3 (with another batch size) produce exactly the files of one run, byte for byte
    /// (metadata included); an interrupted run (files missing, one truncated, a temporary file left behind)
    /// is completed by running it again, and the result is again byte-identical.
    @Test func shardsAndResumeAreByteIdentical() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = dir + "/single", sharded = dir + "/sharded"
        let common = ["--per-class", "3", "--classes", "all", "--seed", "4"]
        let s = runCLI(["sample", "--output", single, "--batch", "4"] + common)
        #expect(s.code == 0, "\(s.err)")
        #expect(s.err.contains("images/s") && s.err.contains("ETA"), "\(s.err)")
        for shard in ["0/3", "1/3", "2/3"] {
            let r = runCLI(["sample", "--output", sharded, "--batch", "2", "--shard", shard] + common)
            #expect(r.code == 0, "\(r.err)")
            #expect(r.err.contains("3 images in this shard"), "\(r.err)")
        }
        let expected = (0..<3).flatMap { c in (0..<3).map { "\(c)_\($0).png" } }.sorted()
        #expect(try names(single) == expected)
        #expect(try names(sharded) == expected)
        for n in expected { #expect(try bytes("\(single)/\(n)") == bytes("\(sharded)/\(n)"), "\(n)") }
        // The seed of image k of class c depends on (base, c, k) only.
        let r12 = try GenerationRecord.read(png: single + "/1_2.png")
        #expect(r12.classes == [.id(1)] && r12.seed == UInt64(4 + 1_000_003 + 2))

        // Interrupt: two files lost, one truncated mid-write, a temporary file of an unfinished write left over.
        try FileManager.default.removeItem(atPath: sharded + "/0_0.png")
        try FileManager.default.removeItem(atPath: sharded + "/2_1.png")
        let whole = try bytes(sharded + "/1_1.png")
        try Data(whole.prefix(whole.count / 2)).write(to: URL(fileURLWithPath: sharded + "/1_1.png"))
        try Data(whole.prefix(40)).write(to: URL(fileURLWithPath: sharded + "/.1_2.png.tmp-1-2"))
        let resumed = runCLI(["sample", "--output", sharded, "--batch", "5"] + common)
        #expect(resumed.code == 0, "\(resumed.err)")
        #expect(resumed.err.contains("9 images in this shard, 6 already present, 3 to generate"), "\(resumed.err)")
        for n in expected { #expect(try bytes("\(single)/\(n)") == bytes("\(sharded)/\(n)"), "resumed \(n)") }
        let again = runCLI(["sample", "--output", sharded] + common)
        #expect(again.err.contains("9 already present, 0 to generate"), "\(again.err)")

        // pack ignores the temporary file and orders by (class, k).
        let p = runCLI(["pack", sharded, "--output", dir + "/s.npz"])
        #expect(p.code == 0, "\(p.err)")
        let arrays = try NPZReader.arrays(try bytes(dir + "/s.npz"))
        #expect(arrays["arr_0"]?.shape == [9, 8, 8, 3])
        #expect(arrays["arr_1"]?.int64s == [0, 0, 0, 1, 1, 1, 2, 2, 2])
        var all: [UInt8] = []
        for c in 0..<3 { for k in 0..<3 { all += try PNG.read("\(single)/\(c)_\(k).png").image.pixels } }
        #expect(arrays["arr_0"].map { Array($0.data) } == all)
    }

    /// A mask image: `generate(y, x)` true = white (generate).
    func writeMask(_ path: String, size: Int = 8, generate: (Int, Int) -> Bool) throws {
        var m = RGBImage(width: size, height: size)
        for y in 0..<size { for x in 0..<size where generate(y, x) {
            for c in 0..<3 { m.pixels[(y * size + x) * 3 + c] = 255 }
        } }
        try PNG.write(m, to: path)
    }

    /// Keep everything: the edit's tokens are the VQVAE round trip of the input at every scale (and the
    /// image is `reconstruct`'s) — for plain VAR and for CoDe (the refiner's scales are teacher-forced too).
    @Test func keepEverythingIsTheTokenizerRoundTrip() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "fish", "--seed", "3", "--output", dir + "/in.png"]).code == 0)
        try writeMask(dir + "/keep.png") { _, _ in false }
        let rec = runCLI(["reconstruct", dir + "/in.png", "--output", dir + "/rec.png", "--save-tokens", dir + "/rec.st"])
        #expect(rec.code == 0, "\(rec.err)")
        let roundTrip = try TokenFile.read(dir + "/rec.st").tokens
        for (name, models) in [("plain", ["--model", w + "/drafter.pth"]), ("code", ["--draft-steps", "2"])] {
            let e = runCLI(["edit", "--input", dir + "/in.png", "--mask", dir + "/keep.png", "--class", "dog", "--count", "2",
                            "--output", "\(dir)/\(name).png", "--save-tokens", "\(dir)/\(name).st"] + models)
            #expect(e.code == 0, "\(e.err)")
            #expect(e.err.contains("0/16 cells regenerated"), "\(e.err)")
            let t = try TokenFile.read("\(dir)/\(name).st").tokens
            #expect(t == roundTrip.map { $0 + $0 }, "\(name)")
            for i in 0..<2 { #expect(try PNG.read("\(dir)/\(name)_\(i).png").image == PNG.read(dir + "/rec.png").image) }
        }
    }

    /// Keep nothing: docs/model.md §11 still keeps every position of scales with pn² ≤ 3 (the 1×1 scale), so an
    /// all-white mask teacher-forces only scale 0 to the input's token. For a seed whose `generate` draws
    /// that same scale-0 token, the edit is `generate` exactly (tokens and image); for the others only the
    /// 1×1 token is the input's.
    @Test func keepNothingIsGeneration() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeMask(dir + "/all.png") { _, _ in true }
        #expect(runCLI(["generate", "--class", "fish", "--seed", "1", "--output", dir + "/in.png"]).code == 0)
        let rec = runCLI(["reconstruct", dir + "/in.png", "--output", dir + "/r.png", "--save-tokens", dir + "/r.st"])
        #expect(rec.code == 0, "\(rec.err)")
        let scale0 = try TokenFile.read(dir + "/r.st").tokens[0][0]
        for models in [[], ["--draft-steps", "1"]] {
            let many = runCLI(["generate", "--class", "dog", "--count", "64", "--batch", "64", "--output", dir + "/m.png",
                               "--save-tokens", dir + "/m.st"] + models)
            #expect(many.code == 0, "\(many.err)")
            let drawn = try TokenFile.read(dir + "/m.st").tokens
            let seed = try #require(drawn[0].firstIndex(of: scale0), "no seed < 64 draws the input's scale-0 token")
            let other = seed == 0 ? 1 : 0
            for s in [seed, other] {
                let e = runCLI(["edit", "--input", dir + "/in.png", "--mask", dir + "/all.png", "--class", "dog", "--seed", "\(s)",
                                "--output", dir + "/e.png", "--save-tokens", dir + "/e.st"] + models)
                #expect(e.code == 0, "\(e.err)")
                #expect(e.err.contains("16/16 cells regenerated"), "\(e.err)")
                let edited = try TokenFile.read(dir + "/e.st").tokens
                #expect(edited[0] == [scale0])
                if s == seed {
                    #expect(edited == drawn.enumerated().map { si, t in let n = t.count / 64; return Array(t[(s * n)..<((s + 1) * n)]) },
                            "\(models)")
                    #expect(try PNG.read(dir + "/e.png").image == PNG.read(dir + "/m_" + String(format: "%02d", s) + ".png").image)
                }
            }
            let meta = try GenerationRecord.read(png: dir + "/e.png")
            #expect(meta.edit?.input.name == "in.png" && meta.edit?.mask?.name == "all.png" && meta.classes == [.id(1)]
                    && meta.seed == UInt64(other), "\(meta)")
        }
    }

    /// CoDe editing with the same model as drafter and refiner equals the plain edit (docs/model.md §7.3 + §11): the
    /// refiner's prefill must see the edited scales, and it applies the mask at its own scales.
    @Test func codeEditWithOneModelEqualsPlainEdit() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "fish", "--seed", "8", "--output", dir + "/in.png"]).code == 0)
        let edit = ["edit", "--input", dir + "/in.png", "--box", "0.25,0,1,0.75", "--class", "cat", "--seed", "2", "--count", "3"]
        let plain = runCLI(edit + ["--model", w + "/drafter.pth", "--output", dir + "/p.png", "--save-tokens", dir + "/p.st"])
        #expect(plain.code == 0, "\(plain.err)")
        for n in ["1", "2", "3"] {
            let code = runCLI(edit + ["--drafter", w + "/drafter.pth", "--refiner", w + "/drafter.pth", "--draft-steps", n,
                                      "--output", dir + "/c.png", "--save-tokens", dir + "/c.st"])
            #expect(code.code == 0, "\(code.err)")
            #expect(try TokenFile.read(dir + "/c.st").tokens == TokenFile.read(dir + "/p.st").tokens, "draft steps \(n)")
            for i in 0..<3 { #expect(try PNG.read("\(dir)/c_\(i).png").image == PNG.read("\(dir)/p_\(i).png").image) }
        }
        // The box's kept cells hold the original's tokens at the last scale; the outpaint box is the complement.
        let rec = runCLI(["reconstruct", dir + "/in.png", "--output", dir + "/r.png", "--save-tokens", dir + "/r.st"])
        #expect(rec.code == 0)
        let original = try TokenFile.read(dir + "/r.st").tokens[3], edited = try TokenFile.read(dir + "/p.st").tokens[3]
        let keep = EditCommand.keepMask(box: [0.25, 0, 1, 0.75], side: 4, outpaint: false)
        #expect(keep.filter { $0 == 0 }.count == 9)
        for i in 0..<3 { for p in 0..<16 where keep[p] == 1 { #expect(edited[i * 16 + p] == original[p]) } }
        let out = runCLI(edit + ["--outpaint", "--output", dir + "/o.png"])
        #expect(out.code == 0 && out.err.contains("7/16 cells regenerated"), "\(out.err)")
        let o0 = try GenerationRecord.read(png: dir + "/o_0.png")
        #expect(o0.edit?.outpaint == true && o0.edit?.box == [0.25, 0, 1, 0.75] && o0.classes == [.id(0)] && o0.seed == 2)
    }

    /// Inputs of another size are cropped to the central square and area-resized; the mask follows the same
    /// geometry. A 20×16 input equals editing its fitted 8×8 version with the fitted mask.
    @Test func inputsAreCroppedAndResized() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var big = RGBImage(width: 20, height: 16)
        for i in big.pixels.indices { big.pixels[i] = UInt8((i * 37 + i / 60) % 256) }
        try PNG.write(big, to: dir + "/big.png")
        let maskBig = RGBImage(width: 20, height: 16, pixels: (0..<16).flatMap { y in      // bottom half white
            [UInt8](repeating: y >= 8 ? 255 : 0, count: 20 * 3) })
        try PNG.write(maskBig, to: dir + "/bigmask.png")
        let fitted = EditCommand.fitted(big, size: 8)
        #expect(fitted.width == 8 && fitted.height == 8)
        try PNG.write(fitted, to: dir + "/small.png")
        try writeMask(dir + "/smallmask.png") { y, _ in y >= 4 }
        let a = runCLI(["edit", "--input", dir + "/big.png", "--mask", dir + "/bigmask.png", "--class", "dog",
                        "--output", dir + "/a.png"])
        let b = runCLI(["edit", "--input", dir + "/small.png", "--mask", dir + "/smallmask.png", "--class", "dog",
                        "--output", dir + "/b.png"])
        #expect(a.code == 0 && b.code == 0, "\(a.err)\(b.err)")
        #expect(a.err.contains("input 20×16 → central 16×16 → area-resized to 8×8"), "\(a.err)")
        #expect(a.err.contains("8/16 cells regenerated"))
        #expect(try PNG.read(dir + "/a.png").image == PNG.read(dir + "/b.png").image)
        let bad = runCLI(["edit", "--input", dir + "/big.png", "--mask", dir + "/smallmask.png", "--output", dir + "/x.png"])
        #expect(bad.code == 2 && bad.err.contains("--mask is 8×8 but --input is 20×16"), "\(bad.err)")
    }

    /// Central square and area resampling on hand-computed values.
    @Test func centerSquareAndAreaResize() {
        // 5×3 image whose red channel is the column index: the central 3×3 starts at column 1.
        var img = RGBImage(width: 5, height: 3)
        for y in 0..<3 { for x in 0..<5 { img.pixels[(y * 5 + x) * 3] = UInt8(10 * x + y) } }
        let sq = img.centerSquare()
        #expect(sq.width == 3 && sq.height == 3)
        #expect((0..<9).map { sq.pixels[$0 * 3] } == [10, 20, 30, 11, 21, 31, 12, 22, 32])
        // 3 → 2 along each axis: output pixel 0 covers input [0, 1.5): weights 2/3, 1/3.
        let means = sq.areaMeans(width: 2, height: 1)
        let row = (10.0 + 11 + 12) / 3, row2 = (20.0 + 21 + 22) / 3, row3 = (30.0 + 31 + 32) / 3
        #expect(abs(means[0] - (row * 2 / 3 + row2 / 3)) < 1e-9)
        #expect(abs(means[3] - (row2 / 3 + row3 * 2 / 3)) < 1e-9)
        // Integer factors are block means; same size is the identity.
        let four = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 255, 255, 255, 100, 100, 100, 1, 1, 1])
        #expect(four.resizedByArea(width: 1, height: 1).pixels == [89, 89, 89])        // 356 / 4 = 89
        #expect(four.resizedByArea(width: 4, height: 4).pixels[0..<6] == [0, 0, 0, 0, 0, 0])
        #expect(four.resizedByArea(width: 2, height: 2) == four)
        #expect(EditCommand.keepMask(image: four, side: 1) == [1])                    // mean 89/255 ≤ ½: keep
    }
}
