import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 18: `--scales` strips from every command that generates images (generate, edit, sample), each
/// carrying the var-gen record of its image marked as a strip; `generate --from STRIP.png` makes the image and
/// the strip again byte for byte; sample strips live in `DIR/scales/`, outside what `--status` and `pack` read.
@Suite("CLI: --scales strips everywhere, and their records")
struct CLIScalesTests {
    func bytes(_ path: String) throws -> [UInt8] { try FileIO.readAll(path) }

    /// `generate --from strip` writes `rerun.png` and `rerun.scales.png`, equal to the image and the strip.
    func expectStripRerun(image: String, strip: String, in dir: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let rerun = dir + "/rerun-" + URL(fileURLWithPath: image).lastPathComponent
        let r = runCLI(["generate", "--from", strip, "--output", rerun])
        #expect(r.code == 0, "--from \(strip): \(r.err)", sourceLocation: sourceLocation)
        #expect(r.err.contains("is the --scales strip of an image: making the image (\(rerun)) and its strip "
                               + "(\(Records.stripPath(rerun))) again"), "\(r.err)", sourceLocation: sourceLocation)
        #expect(try bytes(rerun) == bytes(image), "image of \(strip)", sourceLocation: sourceLocation)
        #expect(try bytes(Records.stripPath(rerun)) == bytes(strip), "strip \(strip)", sourceLocation: sourceLocation)
    }

    @Test func generateStripsCarryTheRecordAndRerun() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // CoDe single image: the strip's record is the image's, marked as a strip.
        let r = runCLI(["generate", "--draft-steps", "2", "--class", "fish", "--seed", "4", "--scales", "-o", dir + "/c.png"])
        #expect(r.code == 0, "\(r.err)")
        let image = try GenerationRecord.read(png: dir + "/c.png"), strip = try GenerationRecord.read(png: dir + "/c.scales.png")
        #expect(image.strip == nil && strip.strip == true)
        var unmarked = strip
        unmarked.strip = nil
        #expect(unmarked == image)
        let parameters = try PNG.readText(dir + "/c.scales.png").first { $0.key == "parameters" }?.text ?? ""
        #expect(parameters.contains("Scale strip: the picture after each scale") && parameters.contains("Draft steps: 2"), "\(parameters)")
        try expectStripRerun(image: dir + "/c.png", strip: dir + "/c.scales.png", in: dir)

        // Numbered images, and a grid (the strips stacked).
        #expect(runCLI(["generate", "--class", "0,1", "--seed", "7", "--scales", "-o", dir + "/n.png"]).code == 0)
        try expectStripRerun(image: dir + "/n_1.png", strip: dir + "/n_1.scales.png", in: dir)
        #expect(runCLI(["generate", "--class", "0,1,2", "--grid", "--scales", "-o", dir + "/g.png"]).code == 0)
        #expect(try GenerationRecord.read(png: dir + "/g.scales.png").command == .grid)
        try expectStripRerun(image: dir + "/g.png", strip: dir + "/g.scales.png", in: dir)

        // --scales with --from an image: the strip is written too, the same bytes as the original's.
        let withStrip = runCLI(["generate", "--from", dir + "/c.png", "--scales", "-o", dir + "/again.png"])
        #expect(withStrip.code == 0, "\(withStrip.err)")
        #expect(try bytes(dir + "/again.scales.png") == bytes(dir + "/c.scales.png"))
    }

    @Test func editStrips() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "1", "-o", dir + "/in.png"]).code == 0)
        let one = runCLI(["edit", dir + "/in.png", "--box", "0,0,0.5,1", "--class", "cat", "--scales", "-o", dir + "/e.png"])
        #expect(one.code == 0, "\(one.err)")
        #expect(one.out.contains(dir + "/e.scales.png"))
        let record = try GenerationRecord.read(png: dir + "/e.scales.png")
        #expect(record.command == .edit && record.strip == true && record.edit?.box == [0, 0, 0.5, 1])
        // The last tile is the edited image.
        let strip = try PNG.read(dir + "/e.scales.png").image, image = try PNG.read(dir + "/e.png").image
        let p = ScaleStrip.padding, x0 = p + 3 * (8 + p)
        for y in 0..<8 {
            #expect(Array(strip.pixels[((p + y) * strip.width + x0) * 3..<((p + y) * strip.width + x0 + 8) * 3])
                    == Array(image.pixels[y * 24..<(y + 1) * 24]))
        }
        try expectStripRerun(image: dir + "/e.png", strip: dir + "/e.scales.png", in: dir)
        // Several variants: one strip beside each numbered output.
        let many = runCLI(["edit", dir + "/in.png", "--box", "0,0,0.5,1", "-n", "2", "--scales", "-o", dir + "/v.png"])
        #expect(many.code == 0, "\(many.err)")
        #expect(try GenerationRecord.read(png: dir + "/v_1.scales.png").seed == 1)
        try expectStripRerun(image: dir + "/v_1.png", strip: dir + "/v_1.scales.png", in: dir)
    }

    @Test func sampleStripsStayOutOfTheSampleSet() throws {
        let root = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/s"
        let r = runCLI(["sample", "-o", dir, "--class", "0-1", "-n", "2", "--draft-steps", "2", "--scales", "-q"])
        #expect(r.code == 0, "\(r.err)")
        let strips = try FileManager.default.contentsOfDirectory(atPath: dir + "/scales").sorted()
        #expect(strips == ["0_0.scales.png", "0_1.scales.png", "1_0.scales.png", "1_1.scales.png"])
        let record = try GenerationRecord.read(png: dir + "/scales/1_1.scales.png")
        #expect(record.command == .sample && record.strip == true && record.sample == .init(baseSeed: 0, index: 1))
        // --status, resuming and pack see the four images only.
        let status = runCLI(["sample", "--status", dir, "--class", "0-1", "-n", "2", "--draft-steps", "2"])
        #expect(status.code == 0 && status.out.contains("4/4 images done") && status.out.contains("0 unexpected PNG files"), "\(status.out)")
        let again = runCLI(["sample", "-o", dir, "--class", "0-1", "-n", "2", "--draft-steps", "2", "--scales"])
        #expect(again.code == 0 && again.err.contains("4 already present, 0 to generate"), "\(again.err)")
        let pack = runCLI(["pack", dir, "-o", root + "/s.npz"])
        #expect(pack.code == 0, "\(pack.err)")
        #expect(try NPZReader.arrays(try FileIO.readAll(root + "/s.npz"))["arr_0"]?.shape == [4, 8, 8, 3])
        try expectStripRerun(image: dir + "/1_1.png", strip: dir + "/scales/1_1.scales.png", in: root)
        // Nothing to show for a decode or a reconstruction.
        #expect(runCLI(["reconstruct", dir + "/0_0.png", "-o", root + "/r.png"]).code == 0)
        let refused = runCLI(["generate", "--from", root + "/r.png", "--scales", "-o", root + "/r2.png"])
        #expect(refused.code == 2 && refused.err.contains("--scales: \(root)/r.png was written by 'reconstruct'"), "\(refused.err)")
    }

    /// `--from` round trips the cases the older tests leave out: a numbered edit variant and a decoded grid.
    @Test func moreRerunsToIdenticalBytes() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "2", "-n", "3", "-s", "11", "-o", dir + "/b.png", "--save-tokens", dir + "/t.safetensors"]).code == 0)
        #expect(runCLI(["edit", dir + "/b_0.png", "--box", "0.5,0,1,1", "-n", "2", "-s", "3", "-o", dir + "/e.png"]).code == 0)
        #expect(runCLI(["decode", dir + "/t.safetensors", "--grid", "-o", dir + "/d.png"]).code == 0)
        for source in ["e_1.png", "d.png", "b_2.png"] {
            let r = runCLI(["generate", "--from", dir + "/" + source, "-o", dir + "/again-" + source])
            #expect(r.code == 0, "\(source): \(r.err)")
            #expect(try bytes(dir + "/again-" + source) == bytes(dir + "/" + source), "\(source)")
        }
    }
}

/// Issue 18, names: `-V`/`--version` after every command, `help COMMAND`, `pack` taking its directory as the
/// argument or `--input`, and every short form the issue lists on every command that has the option, in its
/// help and in docs/cli.md.
@Suite("CLI: version, help, pack input and short forms")
struct CLINamesTests {
    @Test func versionAndHelpAfterEveryCommand() {
        for c in CLI.commands {
            for flag in ["-V", "--version"] {
                let v = runCLI([c.name, flag])
                #expect(v.code == 0 && v.out == "var-gen \(CLI.version)\n", "\(c.name) \(flag): \(v.err)")
            }
            let h = runCLI(["help", c.name])
            #expect(h.code == 0 && h.out.contains("USAGE: var-gen \(c.name)") && h.out.contains("-V, --version"))
        }
        #expect(runCLI(["-V"]).out == "var-gen \(CLI.version)\n")
    }

    @Test func packTakesTheArgumentOrInput() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["sample", "-o", dir + "/s", "--class", "0", "-n", "2", "-q"]).code == 0)
        let a = runCLI(["pack", dir + "/s", "-o", dir + "/a.npz"])
        let b = runCLI(["pack", "--input", dir + "/s", "-o", dir + "/b.npz", "-q"])
        #expect(a.code == 0 && b.code == 0, "\(a.err)\(b.err)")
        #expect(try FileIO.readAll(dir + "/a.npz") == FileIO.readAll(dir + "/b.npz"))
        #expect(a.err.contains("packed 2 images") && b.err.isEmpty, "\(a.err) | \(b.err)")
        let both = runCLI(["pack", dir + "/s", "--input", dir + "/s"])
        #expect(both.code == 2 && both.err.contains("both name the DIR"), "\(both.err)")
        let missing = runCLI(["pack", "--input", dir + "/none"])
        #expect(missing.code == 2 && missing.err.contains("--input: directory '\(dir)/none' does not exist"), "\(missing.err)")
        let file = runCLI(["pack", dir + "/a.npz"])
        #expect(file.code == 2 && file.err.contains("DIR: '\(dir)/a.npz' is a file, not a directory"), "\(file.err)")
    }

    /// A pack member whose header declares another size (here 16000×16000, with the member's own record kept) is
    /// refused from the header, before it is decoded, naming both sizes.
    @Test func packComparesSizesFromTheHeader() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["sample", "-o", dir + "/s", "--class", "0", "-n", "2", "-q"]).code == 0)
        var png = try FileIO.readAll(dir + "/s/0_1.png")
        for (k, v) in [(16, 16_000), (20, 16_000)] { for j in 0..<4 { png[k + j] = UInt8((v >> (24 - 8 * j)) & 0xFF) } }
        let crc = CRC32.checksum(png[12..<29])
        for j in 0..<4 { png[29 + j] = UInt8((crc >> (24 - 8 * UInt32(j))) & 0xFF) }
        try Data(png).write(to: URL(fileURLWithPath: dir + "/s/0_1.png"))
        let r = runCLI(["pack", dir + "/s", "-o", dir + "/p.npz", "-q"])
        #expect(r.code != 0 && r.err.contains("0_1.png is 16000×16000 but 0_0.png is"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/p.npz"))
    }

    /// The short forms of the issue (-o -s -n -b -t -v -q) on every command that has the long option.
    @Test func shortFormsWhereverTheOptionExists() throws {
        let shorts: [(Character, String)] = [("o", "output"), ("s", "seed"), ("n", "count"), ("b", "batch"), ("t", "threads"),
                                             ("v", "verbose"), ("q", "quiet")]
        var listed = 0
        for c in CLI.commands {
            let help = runCLI([c.name, "--help"]).out
            for (short, long) in shorts {
                let name = c == SampleCommand.self && long == "count" ? "per-class" : long
                guard c.options.contains(where: { $0.name == name }) else { continue }
                #expect(help.contains("-\(short), --\(name)"), "\(c.name): -\(short) for --\(name)")
                #expect(c.options.first { $0.name == name }?.shortForm == short, "\(c.name) --\(name)")
                listed += 1
            }
        }
        #expect(listed >= 30)
        // bench: -o is the output format, as in llama-bench.
        #expect(runCLI(["bench", "--help"]).out.contains("-o, --output-format md|json|jsonl|csv"))
        let docs = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/cli.md").path, encoding: .utf8).replacingOccurrences(of: "\n", with: " ")
        for (short, long) in shorts {
            #expect(docs.contains("`-\(short)` `--\(long)`") || docs.contains("`-\(short)` the number of images (`--\(long)`"),
                    "docs/cli.md lacks -\(short)")
        }
    }
}
