import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// The CLI run in-process on the tiny random models of `TinyWeights` (8×8 images, milliseconds per image).
@Suite("CLI: end to end on tiny models")
struct CLIEndToEndTests {
    var w: String { TinyWeights.directory }

    @Test func bareGenerateUsesTheShippedDrafterAndItsDefaults() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = runCLI(["generate", "--output", dir + "/var-gen.png", "--memory-stats", "--verbose"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out == dir + "/var-gen.png\n")
        let (image, text) = try PNG.read(dir + "/var-gen.png")
        #expect(image.width == 8 && image.height == 8)
        #expect(text.first?.key == "var-gen")
        let record = try GenerationRecord.from(textChunks: text, path: "var-gen.png")
        #expect(record.classes == [.id(0)] && record.seed == 0 && record.sampling?.cfg == 1.5 && record.sampling?.topK == .uniform(0))
        #expect(record.models?.model?.name == "drafter.pth" && record.vqvae.name == "vqvae.pth" && record.version == CLI.version)
        #expect(r.err.contains("scale 4/4 (4×4) drafter.pth"))
        #expect(r.err.contains("kvCache") && r.err.contains("process RSS"))
        #expect(r.err.contains("OpenBLAS core"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["var-gen.png"])
    }

    /// Image i uses seed + i, so batching does not change images; a grid holds the same pixels.
    @Test func batchSizeDoesNotChangeImages() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = runCLI(["generate", "--class", "cat,dog,fish", "--seed", "9", "--batch", "1", "--output", dir + "/a.png"])
        let b = runCLI(["generate", "--class", "cat,dog,fish", "--seed", "9", "--batch", "3", "--output", dir + "/b.png"])
        #expect(a.code == 0 && b.code == 0, "\(a.err)\(b.err)")
        #expect(a.out == (0..<3).map { "\(dir)/a_\($0).png\n" }.joined())
        for i in 0..<3 { #expect(try PNG.read("\(dir)/a_\(i).png").image == PNG.read("\(dir)/b_\(i).png").image) }
        let a2 = try GenerationRecord.read(png: "\(dir)/a_2.png")
        #expect(a2.classes == [.id(2)] && a2.seed == 11)
        let single = runCLI(["generate", "--class", "fish", "--seed", "11", "--output", dir + "/c.png"])
        #expect(single.code == 0)
        #expect(try PNG.read("\(dir)/c.png").image == PNG.read("\(dir)/a_2.png").image)
        let g = runCLI(["generate", "--count", "3", "--seed", "9", "--grid", "--output", dir + "/g.png"])
        #expect(g.code == 0)
        #expect(try PNG.read(dir + "/g.png").image.width == 2 * 8 + 3 * 2)
    }

    /// Spec §7.3: with the same model as drafter and refiner at temperature 1, CoDe equals plain VAR.
    @Test func codeWithOneModelEqualsPlainGeneration() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = runCLI(["generate", "--model", w + "/drafter.pth", "--class", "1", "--seed", "3", "--output", dir + "/p.png"])
        let code = runCLI(["generate", "--drafter", w + "/drafter.pth", "--refiner", w + "/drafter.pth", "--draft-steps", "2",
                           "--class", "1", "--seed", "3", "--output", dir + "/c.png"])
        #expect(plain.code == 0 && code.code == 0, "\(plain.err)\(code.err)")
        #expect(try PNG.read(dir + "/p.png").image == PNG.read(dir + "/c.png").image)
        #expect(code.err.contains("drafter drafter.pth") && code.err.contains("refiner drafter.pth"))
        let pair = runCLI(["generate", "--draft-steps", "1", "--output", dir + "/pair.png"])
        #expect(pair.code == 0, "\(pair.err)")
        let models = try GenerationRecord.read(png: dir + "/pair.png").models
        #expect(models?.drafter?.name == "drafter.pth" && models?.refiner?.name == "refiner.pth" && models?.draftSteps == 1)
    }

    @Test func savedTokensDecodeToTheSameImage() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let g = runCLI(["generate", "--count", "2", "--output", dir + "/g.png", "--save-tokens", dir + "/t.safetensors"])
        #expect(g.code == 0, "\(g.err)")
        let d = runCLI(["decode", dir + "/t.safetensors", "--output", dir + "/d.png"])
        #expect(d.code == 0, "\(d.err)")
        for i in 0..<2 { #expect(try PNG.read("\(dir)/g_\(i).png").image == PNG.read("\(dir)/d_\(i).png").image) }
        let r = runCLI(["reconstruct", dir + "/g_0.png", "--output", dir + "/r.png"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("PSNR"))
        let bad = runCLI(["reconstruct", dir + "/g.png"])      // no such file
        #expect(bad.code == 2)
        try PNG.write(RGBImage(width: 9, height: 8), to: dir + "/odd.png")
        let odd = runCLI(["reconstruct", dir + "/odd.png"])
        #expect(odd.code == 2 && odd.err.contains("the image is 9×8 but the VQVAE works at 8×8"), "\(odd.err)")
        let budget = runCLI(["generate", "--memory-budget", "1K", "--output", dir + "/m.png"])
        #expect(budget.code == 2 && budget.err.contains("too small for one image"), "\(budget.err)")
    }

    @Test func sampleIsResumableAndShardsCompose() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let full = dir + "/full", sharded = dir + "/sharded"
        #expect(runCLI(["sample", "--output", full, "--per-class", "2", "--classes", "0,2", "--batch", "3"]).code == 0)
        for s in ["0/3", "1/3", "2/3"] {
            let r = runCLI(["sample", "--output", sharded, "--per-class", "2", "--classes", "0,2", "--shard", s])
            #expect(r.code == 0, "\(r.err)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: full).sorted()
        #expect(names == ["0_0.png", "0_1.png", "2_0.png", "2_1.png", SampleManifest.fileName])
        #expect(try FileManager.default.contentsOfDirectory(atPath: sharded).sorted() == names)
        for n in names where n.hasSuffix(".png") { #expect(try PNG.read("\(full)/\(n)").image == PNG.read("\(sharded)/\(n)").image) }
        let r21 = try GenerationRecord.read(png: full + "/2_1.png")
        #expect(r21.classes == [.id(2)] && r21.seed == 2000007 && r21.sample?.index == 1)
        // Resume: a corrupt file is regenerated, valid ones are skipped.
        try FileIO.readAll(full + "/0_0.png").prefix(20).withUnsafeBufferPointer { try Data($0).write(to: URL(fileURLWithPath: full + "/0_1.png")) }
        let again = runCLI(["sample", "--output", full, "--per-class", "2", "--classes", "0,2"])
        #expect(again.err.contains("3 already present, 1 to generate"), "\(again.err)")
        #expect(try PNG.read(full + "/0_1.png").image == PNG.read(sharded + "/0_1.png").image)
        // Pack into an NPZ with labels.
        let p = runCLI(["pack", full, "--output", dir + "/s.npz"])
        #expect(p.code == 0, "\(p.err)")
        let arrays = try NPZReader.arrays(try FileIO.readAll(dir + "/s.npz"))
        #expect(arrays["arr_0"]?.shape == [4, 8, 8, 3])
        #expect(arrays["arr_1"]?.int64s == [0, 0, 2, 2])
        #expect(arrays["arr_0"]?.data.suffix(192) == ArraySlice(try PNG.read(full + "/2_1.png").image.pixels))
    }

    @Test func inspectAndEdit() throws {
        let i = runCLI(["inspect", w + "/drafter.pth", "--json", "--summary"])
        #expect(i.code == 0, "\(i.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(i.out.utf8)) as? [String: Any]
        #expect(obj?["kind"] as? String == "var")
        #expect((obj?["parameters"] as? Int ?? 0) > 1000)
        #expect(runCLI(["inspect", w + "/vqvae.pth"]).out.contains("VQVAE vocabulary 64"))

        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--output", dir + "/in.png"]).code == 0)
        let e = runCLI(["edit", "--input", dir + "/in.png", "--box", "0,0,0.5,1", "--class", "dog", "--count", "2",
                        "--output", dir + "/e.png"])
        #expect(e.code == 0, "\(e.err)")
        #expect(e.out == "\(dir)/e_0.png\n\(dir)/e_1.png\n")
        #expect(e.err.contains("8/16 cells regenerated as class dog"))
    }

    /// The built executable itself: exit codes and streams (skipped when it is not next to the test bundle).
    @Test func builtExecutable() throws {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("var-gen").path
        guard FileManager.default.isExecutableFile(atPath: exe) else { return }
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args
            var env = ProcessInfo.processInfo.environment
            env["VARGEN_WEIGHTS"] = TinyWeights.directory
            p.environment = env
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            try p.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let bad = try run(["generate", "--top-p", "2"])
        #expect(bad.0 == 2 && bad.1.contains("--top-p"))
        #expect(try run(["generate", "--help"]).0 == 0)

        // SIGINT during a long sampling run: exit 130, complete PNGs only, no temporary files left.
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["sample", "--output", dir, "--per-class", "3000", "--batch", "1"]
        p.environment = ["VARGEN_WEIGHTS": TinyWeights.directory]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        while p.isRunning && ((try? FileManager.default.contentsOfDirectory(atPath: dir).count) ?? 0) < 5 { usleep(10_000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != SampleManifest.fileName }
        #expect(!names.isEmpty && names.allSatisfy { !$0.hasPrefix(".") && $0.hasSuffix(".png") })
        for n in names { #expect(PNG.isValidFile(dir + "/" + n)) }
        #expect(try SampleManifest.read(directory: dir) != nil)
    }
}
