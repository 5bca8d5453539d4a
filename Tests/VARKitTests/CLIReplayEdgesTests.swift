import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Hostile or inconsistent records given to `generate --from`: refused with exit 2 naming the record's field
/// (never a trap, never blamed on a flag the user did not type), names from the PNG printed escaped, file flags
/// the record has no use for refused; and the notes for edits that regenerate nothing or everything.
@Suite("CLI: --from with hostile records; edit and grid notes")
struct CLIReplayEdgesTests {
    /// `source` re-written with `change` applied to its record (the pixels kept).
    func rewrite(_ source: String, to path: String, _ change: (inout GenerationRecord) -> Void) throws {
        var record = try GenerationRecord.read(png: source)
        change(&record)
        try PNG.write(try PNG.read(source).image, text: [PNGTextChunk(key: GenerationRecord.textKey, text: try record.json())], to: path)
    }

    @Test func hostileRecordsAreRefusedNamingTheField() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "0,1,2", "--grid", "-o", dir + "/g.png", "-q"]).code == 0)
        for (count, shown) in [(1 << 33, "8589934592"), (Int.max, String(Int.max)), (Int.min, String(Int.min)), (0, "0")] {
            try rewrite(dir + "/g.png", to: dir + "/h.png") { $0.grid = .init(count: count, columns: 2) }
            let r = runCLI(["generate", "--from", dir + "/h.png", "-o", dir + "/x.png"])
            #expect(r.code == 2 && r.err.contains("record field 'grid.count': expected 1…100000, got \(shown)"), "\(r.err)")
        }
        // Values the flags would refuse are the record's fault, not a flag's.
        try rewrite(dir + "/g.png", to: dir + "/cfg.png") { $0.sampling?.cfg = 1e19 }
        let cfg = runCLI(["generate", "--from", dir + "/cfg.png", "-o", dir + "/x.png"])
        #expect(cfg.code == 2 && cfg.err.contains("--from: \(dir)/cfg.png: record field 'sampling.cfg': got '1e+19'"), "\(cfg.err)")
        try rewrite(dir + "/g.png", to: dir + "/w.png") { $0.models?.weights = "f64" }
        let weights = runCLI(["generate", "--from", dir + "/w.png", "-o", dir + "/x.png"])
        #expect(weights.code == 2 && weights.err.contains("record field 'models.weights': got 'f64'"), "\(weights.err)")
        // A file name from the PNG is printed escaped.
        try rewrite(dir + "/g.png", to: dir + "/esc.png") { $0.models?.model?.name = "\u{1B}[2J\u{1B}]0;PWN\u{07}.pth" }
        let esc = runCLI(["generate", "--from", dir + "/esc.png", "-o", dir + "/x.png"])
        #expect(esc.code == 2 && esc.err.contains("the recorded model \\x1b[2J\\x1b]0;PWN\\x07.pth") && !esc.err.contains("\u{1B}"),
                "\(esc.err)")
    }

    @Test func sampleSeedMustMatchItsIndex() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["sample", "-o", dir + "/s", "--class", "1", "-n", "2", "-s", "5", "-q"]).code == 0)
        try rewrite(dir + "/s/1_1.png", to: dir + "/bad.png") { $0.seed = 3 }
        let r = runCLI(["generate", "--from", dir + "/bad.png", "-o", dir + "/x.png"])
        #expect(r.code == 2 && r.err.contains("record field 'seed': 3 is not the seed of sample image 1 of class 1 from base seed 5 "
                                              + "(expected \(5 + 1_000_003 + 1))"), "\(r.err)")
        try rewrite(dir + "/s/1_1.png", to: dir + "/huge.png") { $0.sample = .init(baseSeed: 5, index: Int.max) }
        let huge = runCLI(["generate", "--from", dir + "/huge.png", "-o", dir + "/x.png"])
        #expect(huge.code == 2 && huge.err.contains("record field 'sample.index'"), "\(huge.err)")
    }

    @Test func unusedFileFlagsAreRefused() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "1", "-o", dir + "/in.png", "-q"]).code == 0)
        #expect(runCLI(["edit", dir + "/in.png", "--box", "0,0,0.5,1", "-o", dir + "/e.png", "-q"]).code == 0)
        let r = runCLI(["generate", "--from", dir + "/e.png", "--mask", dir + "/in.png", "-o", dir + "/x.png"])
        #expect(r.code == 2 && r.err.contains("--mask: the record of \(dir)/e.png (a 'edit') names no such file"), "\(r.err)")
        let plain = runCLI(["generate", "--from", dir + "/in.png", "--refiner", TinyWeights.directory + "/refiner.pth", "-o", dir + "/x.png"])
        #expect(plain.code == 2 && plain.err.contains("--refiner: the record of"), "\(plain.err)")
    }

    @Test func editsThatRegenerateNothingOrEverythingSaySo() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(runCLI(["generate", "--class", "1", "-o", dir + "/in.png", "-q"]).code == 0)
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/black.png")
        let black = runCLI(["edit", dir + "/in.png", "--mask", dir + "/black.png", "-o", dir + "/e.png", "-q"])
        #expect(black.code == 0 && black.err.contains("note: --mask \(dir)/black.png regenerates 0/16 cells of the 4×4 grid: "
                                                      + "nothing is regenerated"), "\(black.err)")
        let all = runCLI(["edit", dir + "/in.png", "--box", "0,0,1,1", "--outpaint", "-o", dir + "/e.png", "-q"])
        #expect(all.code == 0 && all.err.contains("note: --box 0,0,1,1 --outpaint regenerates 0/16 cells"), "\(all.err)")
        let whole = runCLI(["edit", dir + "/in.png", "--box", "0,0,1,1", "-o", dir + "/e.png", "-q"])
        #expect(whole.code == 0 && whole.err.contains("regenerates 16/16 cells of the 4×4 grid: the whole image is regenerated"), "\(whole.err)")
        let columns = runCLI(["generate", "-n", "2", "--grid", "--columns", "99999999999", "-o", dir + "/g.png", "-q"])
        #expect(columns.code == 0 && columns.err.contains("note: --columns 99999999999 is more than the 2 images"), "\(columns.err)")
    }
}
