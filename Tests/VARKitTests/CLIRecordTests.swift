import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 18, reproducibility: every PNG records its complete settings, `generate --from` makes the same
/// bytes again for every command that writes PNGs, and `sample` directories cannot mix settings.
@Suite("CLI: generation records, --from, sample manifests")
struct CLIRecordTests {
    var w: String { TinyWeights.directory }

    func bytes(_ path: String) throws -> [UInt8] { try FileIO.readAll(path) }

    /// Runs `arguments`, then `generate --from output --output rerun` and checks the bytes are the same.
    func expectRerunIdentical(_ arguments: [String], output: String, in dir: String, extra: [String] = [],
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> GenerationRecord {
        let first = runCLI(arguments)
        #expect(first.code == 0, "\(arguments): \(first.err)", sourceLocation: sourceLocation)
        let rerun = dir + "/rerun-" + URL(fileURLWithPath: output).lastPathComponent
        let again = runCLI(["generate", "--from", output, "--output", rerun] + extra)
        #expect(again.code == 0, "--from \(output): \(again.err)", sourceLocation: sourceLocation)
        #expect(try bytes(rerun) == bytes(output), "--from \(output) wrote other bytes", sourceLocation: sourceLocation)
        return try GenerationRecord.read(png: output)
    }

    @Test func generateGridAndCoDeRerunToIdenticalBytes() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The two cases the issue names: uncond and the largest seed are recorded as --class/--seed accept them.
        let single = try expectRerunIdentical(["generate", "--class", "uncond", "--seed", "4294967295", "--weights", "f16",
                                               "--cfg", "1.25", "--top-k", "0,3,5,7", "--output", dir + "/u.png"],
                                              output: dir + "/u.png", in: dir)
        #expect(single.command == .generate && single.classes == [.unconditional] && single.seed == 4_294_967_295)
        #expect(single.models?.weights == "f16" && single.models?.model?.name == "drafter.pth")
        #expect(single.models?.model?.sha256 == (try SHA256.hashFile(w + "/drafter.pth")))
        #expect(single.vqvae == .init(name: "vqvae.pth", sha256: try SHA256.hashFile(w + "/vqvae.pth")))
        #expect(single.sampling?.topK == .perScale([0, 3, 5, 7]) && single.sampling?.cfg == 1.25)
        let text = try PNG.readText(dir + "/u.png")
        let parameters = text.first { $0.key == "parameters" }?.text ?? ""
        #expect(parameters.hasPrefix("uncond\nSteps: 4, Sampler: VAR next-scale, CFG scale: 1.25, Seed: 4294967295, Size: 8x8"), "\(parameters)")

        let grid = try expectRerunIdentical(["generate", "--class", "cat,fish", "--count", "3", "--grid", "--columns", "2",
                                             "--seed", "9", "--smooth", "--output", dir + "/g.png"], output: dir + "/g.png", in: dir)
        #expect(grid.command == .grid && grid.classes == [.id(0), .id(2), .id(0)] && grid.grid == .init(count: 3, columns: 2))

        let code = try expectRerunIdentical(["generate", "--draft-steps", "2", "--class", "dog", "--seed", "3",
                                             "--weights", "f16,f32", "--output", dir + "/c.png"], output: dir + "/c.png", in: dir)
        #expect(code.models?.drafter?.name == "drafter.pth" && code.models?.refiner?.name == "refiner.pth")
        #expect(code.models?.draftSteps == 2 && code.models?.weights == "f16,f32")

        // Several images: each file records its own seed.
        let many = runCLI(["generate", "--class", "1", "--count", "2", "--seed", "20", "--output", dir + "/m.png"])
        #expect(many.code == 0, "\(many.err)")
        let m1 = try GenerationRecord.read(png: dir + "/m_1.png")
        #expect(m1.seed == 21 && m1.command == .generate)
        _ = try expectRerunIdentical(["generate", "--from", dir + "/m_1.png", "--output", dir + "/m1again.png"],
                                     output: dir + "/m_1.png", in: dir)
    }

    @Test func editDecodeReconstructAndSampleRerunToIdenticalBytes() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = runCLI(["generate", "--class", "2", "--count", "2", "--seed", "5", "--output", dir + "/b.png",
                           "--save-tokens", dir + "/t.safetensors"])
        #expect(base.code == 0, "\(base.err)")
        let edit = try expectRerunIdentical(["edit", "--input", dir + "/b_0.png", "--box", "0.25,0,1,0.5", "--outpaint",
                                             "--class", "fish", "--seed", "8", "--output", dir + "/e.png"], output: dir + "/e.png", in: dir)
        #expect(edit.edit?.box == [0.25, 0, 1, 0.5] && edit.edit?.outpaint == true && edit.classes == [.id(2)])
        #expect(edit.edit?.input.sha256 == (try SHA256.hashFile(dir + "/b_0.png")))
        let mask = RGBImage(width: 8, height: 8, pixels: (0..<192).map { $0 < 96 ? 255 : 0 })
        try PNG.write(mask, to: dir + "/mask.png")
        _ = try expectRerunIdentical(["edit", "--input", dir + "/b_1.png", "--mask", dir + "/mask.png", "--seed", "1",
                                      "--output", dir + "/em.png"], output: dir + "/em.png", in: dir)

        let decoded = runCLI(["decode", dir + "/t.safetensors", "--output", dir + "/d.png"])
        #expect(decoded.code == 0, "\(decoded.err)")
        let d1 = try GenerationRecord.read(png: dir + "/d_1.png")
        #expect(d1.command == .decode && d1.tokens?.index == 1 && d1.classes == [.id(2)])
        _ = try expectRerunIdentical(["generate", "--from", dir + "/d_1.png", "--output", dir + "/d1.png"],
                                     output: dir + "/d_1.png", in: dir)
        #expect(try PNG.read(dir + "/d_1.png").image == PNG.read(dir + "/b_1.png").image)

        let r = try expectRerunIdentical(["reconstruct", dir + "/b_0.png", "--output", dir + "/r.png"], output: dir + "/r.png", in: dir)
        #expect(r.command == .reconstruct && r.input?.name == "b_0.png")

        let s = runCLI(["sample", "--output", dir + "/s", "--per-class", "2", "--classes", "0-1", "--seed", "3"])
        #expect(s.code == 0, "\(s.err)")
        let sr = try GenerationRecord.read(png: dir + "/s/1_1.png")
        #expect(sr.command == .sample && sr.sample == .init(baseSeed: 3, index: 1) && sr.seed == 3 + 1_000_003 + 1)
        _ = try expectRerunIdentical(["generate", "--from", dir + "/s/1_1.png", "--output", dir + "/s11.png"],
                                     output: dir + "/s/1_1.png", in: dir)
    }

    @Test func renamedFilesAreRecognisedByContent() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "1", "--seed", "2", "--output", dir + "/a.png"]).code == 0)
        try FileManager.default.copyItem(atPath: w + "/drafter.pth", toPath: dir + "/renamed.pth")
        try FileManager.default.copyItem(atPath: w + "/drafter.json", toPath: dir + "/renamed.json")
        let ok = runCLI(["generate", "--from", dir + "/a.png", "--model", dir + "/renamed.pth", "--output", dir + "/b.png"])
        #expect(ok.code == 0, "\(ok.err)")
        #expect(try PNG.read(dir + "/b.png").image == PNG.read(dir + "/a.png").image)
        let wrong = runCLI(["generate", "--from", dir + "/a.png", "--model", w + "/refiner.pth", "--output", dir + "/c.png"])
        #expect(wrong.code == 2)
        #expect(wrong.err.contains("--model '\(w)/refiner.pth' has SHA-256"), "\(wrong.err)")
        // No weights where the record's files could be found: the message says which file and how to pass it.
        let missing = runCLI(["generate", "--from", dir + "/a.png", "--output", dir + "/d.png"],
                             environment: ["VARGEN_WEIGHTS": dir + "/none"], in: dir)
        #expect(missing.code == 2)
        #expect(missing.err.contains("the recorded VQVAE vqvae.pth"), "\(missing.err)")
        #expect(missing.err.contains("--vae FILE"), "\(missing.err)")
        // Not a var-gen PNG; settings flags cannot be mixed with --from.
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/plain.png")
        let foreign = runCLI(["generate", "--from", dir + "/plain.png"])
        #expect(foreign.code == 2 && foreign.err.contains("no var-gen record"), "\(foreign.err)")
        let mixed = runCLI(["generate", "--from", dir + "/a.png", "--cfg", "2"])
        #expect(mixed.code == 2 && mixed.err.contains("--cfg"), "\(mixed.err)")
    }

    @Test func seedRangeAndRandomSeeds() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let over = runCLI(["generate", "--seed", "4294967295", "--count", "2", "--output", dir + "/o.png"])
        #expect(over.code == 2)
        #expect(over.err.contains("image 1 would use seed 4294967296"), "\(over.err)")
        #expect(runCLI(["generate", "--seed", "4294967296", "--output", dir + "/o.png"]).code == 2)
        let random = runCLI(["generate", "--seed", "-1", "--output", dir + "/r.png"])
        #expect(random.code == 0, "\(random.err)")
        let seed = try GenerationRecord.read(png: dir + "/r.png").seed
        #expect(random.err.contains("random seed \(seed!)"), "\(random.err)")
        let implicit = runCLI(["generate", "--output", dir + "/i.png"])
        #expect(implicit.err.contains("seed 0"), "\(implicit.err)")
        #expect(runCLI(["generate", "--seed", "random", "--output", dir + "/r2.png"]).code == 0)
    }

    @Test func sampleManifestRefusesOtherSettingsAndChecksEveryImage() throws {
        let dir = try makeScratchDirectory() + "/s"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = runCLI(["sample", "--output", dir, "--per-class", "2", "--classes", "0-1", "--cfg", "1"])
        #expect(first.code == 0, "\(first.err)")
        let manifest = try #require(try SampleManifest.read(directory: dir))
        #expect(manifest.sampling.cfg == 1 && manifest.baseSeed == 0)
        let other = runCLI(["sample", "--output", dir, "--per-class", "2", "--classes", "0-1", "--cfg", "3", "--seed", "7"])
        #expect(other.code == 2)
        #expect(other.err.contains("baseSeed: 0 vs 7") && other.err.contains("sampling.cfg: 1 vs 3"), "\(other.err)")
        // More classes with the same settings extend the set.
        let more = runCLI(["sample", "--output", dir, "--per-class", "2", "--classes", "all", "--cfg", "1"])
        #expect(more.code == 0, "\(more.err)")
        #expect(more.err.contains("6 images in this shard, 4 already present, 2 to generate"), "\(more.err)")
        // A foreign PNG of the right size and an image whose record disagrees are regenerated and counted.
        let original = try bytes(dir + "/0_1.png")
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/0_1.png")
        var changed = try GenerationRecord.read(png: dir + "/1_0.png")
        changed.sampling?.cfg = 2
        try Records.write(try PNG.read(dir + "/1_0.png").image, record: changed, classNames: ["dog"], steps: 4, to: dir + "/1_0.png")
        let fixed = runCLI(["sample", "--output", dir, "--per-class", "2", "--classes", "all", "--cfg", "1"])
        #expect(fixed.code == 0, "\(fixed.err)")
        #expect(fixed.err.contains("6 images in this shard, 4 already present, 2 to generate (2 replace images whose metadata differs"),
                "\(fixed.err)")
        #expect(try bytes(dir + "/0_1.png") == original)
        // pack refuses a directory whose images disagree with the manifest, and names it cannot label.
        #expect(runCLI(["pack", dir, "--output", dir + ".npz"]).code == 0)
        try Records.write(try PNG.read(dir + "/1_0.png").image, record: changed, classNames: ["dog"], steps: 4, to: dir + "/1_0.png")
        let bad = runCLI(["pack", dir, "--output", dir + "2.npz"])
        #expect(bad.code == 2 && bad.err.contains("1_0.png") && bad.err.contains("sampling.cfg"), "\(bad.err)")
        let loose = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: loose) }
        try PNG.write(RGBImage(width: 8, height: 8), to: loose + "/0_0.png")
        try PNG.write(RGBImage(width: 8, height: 8), to: loose + "/holiday.png")
        let unlabeled = runCLI(["pack", loose, "--output", loose + "/x.npz"])
        #expect(unlabeled.code == 2 && unlabeled.err.contains("holiday.png"), "\(unlabeled.err)")
    }

    @Test func scalesStripIsWrittenBesideTheImage() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = runCLI(["generate", "--draft-steps", "2", "--class", "1", "--scales", "--output", dir + "/a.png"])
        #expect(r.code == 0, "\(r.err)")
        let strip = try PNG.read(dir + "/a.scales.png").image
        #expect(strip.width == 4 * 8 + 5 * ScaleStrip.padding)
        let image = try PNG.read(dir + "/a.png").image
        // The last tile is the image.
        let p = ScaleStrip.padding, x0 = p + 3 * (8 + p)
        for y in 0..<8 {
            let row = Array(strip.pixels[((p + y) * strip.width + x0) * 3..<((p + y) * strip.width + x0 + 8) * 3])
            #expect(row == Array(image.pixels[y * 24..<(y + 1) * 24]))
        }
        #expect(r.out.contains(dir + "/a.scales.png"))
    }
}
