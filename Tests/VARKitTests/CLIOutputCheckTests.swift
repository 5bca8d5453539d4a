import Foundation
import Glibc
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 17 class 9: every output path is checked before any work (exit 2 naming the flag, nothing loaded,
/// nothing written), and stale temporary files of killed runs are removed by the next run writing there.
@Suite("CLI: outputs checked before work")
struct CLIOutputCheckTests {
    var w: String { TinyWeights.directory }

    /// Bad output paths built in `dir`: an existing directory, "", a path whose parent is missing, one under a
    /// regular file, one ending in '/', and an existing FIFO.
    static func badOutputs(in dir: String) throws -> [(String, String)] {
        try FileManager.default.createDirectory(atPath: dir + "/isdir.png", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        _ = mkfifo(dir + "/fifo.png", 0o600)
        return [("directory", dir + "/isdir.png"), ("empty", ""), ("missing parent", dir + "/nodir/o.png"),
                ("under a file", dir + "/file/o.png"), ("trailing slash", dir + "/new/"), ("FIFO", dir + "/fifo.png")]
    }

    @Test func everyOutputFlagIsCheckedBeforeWork() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/in.png"
        try PNG.write(RGBImage(width: 8, height: 8, fill: (20, 40, 60)), to: image)
        let tokens = dir + "/t.safetensors"
        let made = runCLI(["generate", "-n", "2", "-o", dir + "/g.png", "--save-tokens", tokens, "-q"])
        try #require(made.code == 0, "\(made.err)")
        try FileManager.default.createDirectory(atPath: dir + "/samples", withIntermediateDirectories: true)
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/samples/0_0.png")
        for (kind, out) in try Self.badOutputs(in: dir) {
            let lines: [([String], String)] = [
                (["generate", "-o", out], "--output"),
                (["generate", "-n", "3", "-o", out], "--output"),
                (["generate", "-o", dir + "/ok.png", "--save-tokens", out], "--save-tokens"),
                (["decode", tokens, "-o", out], "--output"),
                (["reconstruct", image, "-o", out], "--output"),
                (["reconstruct", image, "-o", dir + "/ok.png", "--save-tokens", out], "--save-tokens"),
                (["edit", "--input", image, "--box", "0,0,0.5,0.5", "-o", out], "--output"),
                (["edit", "--input", image, "--box", "0,0,0.5,0.5", "-o", dir + "/ok.png", "--save-tokens", out], "--save-tokens"),
                (["pack", dir + "/samples", "-o", out], "--output"),
            ]
            for (args, flag) in lines {
                let r = runCLI(args)
                #expect(r.code == 2, "\(kind) for \(flag) of \(args[0]): exit \(r.code): \(r.err)")
                #expect(r.err.contains(flag), "\(kind) for \(flag) of \(args[0]): \(r.err)")
                #expect(!r.err.contains("loading"), "\(args[0]) loaded a model before refusing: \(r.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/ok.png"))
    }

    /// Numbered outputs and `--scales` strips: an existing directory where image 1 or a strip will go is
    /// refused up front, not after image 0 was written.
    @Test func numberedNamesAndStripsAreCheckedToo() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/g_1.png", withIntermediateDirectories: true)
        let numbered = runCLI(["generate", "-n", "3", "-o", dir + "/g.png"])
        #expect(numbered.code == 2 && numbered.err.contains("--output") && numbered.err.contains("g_1.png"), "\(numbered.err)")
        try FileManager.default.createDirectory(atPath: dir + "/s.scales.png", withIntermediateDirectories: true)
        let strip = runCLI(["generate", "--scales", "-o", dir + "/s.png"])
        #expect(strip.code == 2 && strip.err.contains("s.scales.png"), "\(strip.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["g_1.png", "s.scales.png"])
    }

    /// `sample --output`: "", a regular file, a path under a regular file, a missing parent.
    @Test func sampleDirectoryIsCheckedBeforeWork() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        for out in ["", dir + "/file", dir + "/file/sub", dir + "/no/such/dir"] {
            let r = runCLI(["sample", "-o", out, "-n", "1"])
            #expect(r.code == 2 && r.err.contains("--output"), "'\(out)': \(r.err)")
        }
        // An image name of the run taken by a directory: refused before the first image is made.
        try FileManager.default.createDirectory(atPath: dir + "/s/0_1.png", withIntermediateDirectories: true)
        let taken = runCLI(["sample", "-o", dir + "/s", "-n", "2", "--class", "0"])
        #expect(taken.code == 2 && taken.err.contains("0_1.png") && taken.err.contains("directory"), "\(taken.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/s/0_0.png"))
    }

    /// A dead PID for temporary names (above the kernel's PID limit when possible, else any free PID).
    static func deadPID() -> Int32 {
        for pid in stride(from: Int32(4_194_303), to: 1000, by: -7919) where kill(pid, 0) != 0 && errno == ESRCH { return pid }
        return Int32.max
    }

    /// Temporary files of var-gen's pattern with a dead PID are removed by the next run that writes into the
    /// directory; a live PID's, a locked one (a writer elsewhere), a symbolic link and other names are kept.
    @Test func staleTemporariesOfDeadRunsAreRemoved() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = Self.deadPID()
        let stale = [".g.png.tmp-\(dead)-12345", ".g_1.png.tmp-\(dead)-7", ".var-gen-sample.json.tmp-\(dead)-99"]
        let kept = [".g.png.tmp-\(getpid())-1", ".locked.png.tmp-\(dead)-5", ".link.png.tmp-\(dead)-6",
                    ".g.png.tmp-\(dead)-x", "g.png.tmp-\(dead)-1", "notes.txt"]
        for name in stale + kept where name != ".link.png.tmp-\(dead)-6" {
            try Data("partial".utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try Data("target".utf8).write(to: URL(fileURLWithPath: dir + "/../link-target-\(dead)"))
        #expect(symlink(dir + "/../link-target-\(dead)", dir + "/.link.png.tmp-\(dead)-6") == 0)
        defer { unlink(dir + "/../link-target-\(dead)") }
        let lock = open(dir + "/.locked.png.tmp-\(dead)-5", O_RDONLY)
        #expect(flock(lock, LOCK_EX) == 0)
        defer { close(lock) }
        #expect(StaleTemporaries.writerPID(ofName: stale[0]) == dead)
        #expect(StaleTemporaries.writerPID(ofName: "g.png.tmp-1-2") == nil && StaleTemporaries.writerPID(ofName: ".a.tmp-1-") == nil)
        let r = runCLI(["generate", "-o", dir + "/g.png", "-q"])
        #expect(r.code == 0, "\(r.err)")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        for s in stale { #expect(!names.contains(s), "\(s) was not removed") }
        for k in kept { #expect(names.contains(k), "\(k) was removed") }
        #expect(names.contains("g.png"))
    }
}
