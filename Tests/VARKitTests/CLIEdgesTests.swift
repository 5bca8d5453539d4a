import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 18 "behaviour users expect": streamed outputs, progress, messages naming the user's own flag,
/// notices for ignored flags, consistent names.
@Suite("CLI: rough edges")
struct CLIEdgesTests {
    var w: String { TinyWeights.directory }

    /// The built executable next to the test bundle (nil when absent, e.g. under another runner).
    static var executable: String? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("var-gen").path
        return FileManager.default.isExecutableFile(atPath: exe) ? exe : nil
    }

    @Test func numberedOutputsAreZeroPaddedToTheCountsWidth() {
        #expect(GenerateCommand.outputPath("a/seven.png", index: 7, count: 1000) == "a/seven_0007.png")
        #expect(GenerateCommand.outputPath("a/seven.png", index: 7, count: 100) == "a/seven_007.png")
        #expect(GenerateCommand.outputPath("seven.png", index: 7, count: 99) == "seven_07.png")
        #expect(GenerateCommand.outputPath("seven", index: 3, count: 9) == "seven_3.png")
        #expect(GenerateCommand.outputPath("seven.png", index: 0, count: 1) == "seven.png")
    }

    /// `generate --count N` writes each batch's images when the batch is done: after a SIGINT mid-run the
    /// finished images are on disk, complete, numbered with zero padding, and no temporary file is left.
    @Test func generateStreamsImagesSoAnInterruptKeepsFinishedBatches() throws {
        guard let exe = Self.executable else { return }
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["generate", "-n", "5000", "-b", "2", "-o", dir + "/seven.png", "-q"]
        p.environment = ["VARGEN_WEIGHTS": TinyWeights.directory]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline
                && ((try? FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }.count) ?? 0) < 4 {
            usleep(10_000)
        }
        #expect(p.isRunning, "generate finished (or failed) before it could be interrupted")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names.count >= 4 && names.count < 5000)
        #expect(names.allSatisfy { !$0.hasPrefix(".") && $0.hasSuffix(".png") })
        // Zero-padded to the width of 5000, in order from the first image.
        #expect(Array(names.prefix(4)) == ["seven_0000.png", "seven_0001.png", "seven_0002.png", "seven_0003.png"])
        for n in names { #expect(PNG.isValidFile(dir + "/" + n), "\(n)") }
        // Image 3 is exactly what a single run with its seed writes.
        let single = runCLI(["generate", "--class", "0", "--seed", "3", "--output", dir + "/single.png"])
        #expect(single.code == 0, "\(single.err)")
        #expect(try PNG.read(dir + "/seven_0003.png").image == PNG.read(dir + "/single.png").image)
    }

    /// One progress style: into a file (non-terminal) at most one line per 2 s plus the last; on a terminal one
    /// redrawn line; `-q` prints no progress at all.
    @Test func progressIsThrottledIntoFilesAndSilencedByQuiet() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = runCLI(["generate", "--count", "6", "--batch", "1", "--output", dir + "/p.png"])
        #expect(r.code == 0, "\(r.err)")
        let scaleLines = r.err.split(separator: "\n").filter { $0.contains(" tokens, ") }
        // 6 batches × 4 scales = 24 events: the first, the last, and at most one per 2 s between them.
        #expect(scaleLines.count < 24, "\(r.err)")
        #expect(scaleLines.first?.hasPrefix("batch 1/6: scale 1/4") == true)
        #expect(scaleLines.last?.hasPrefix("batch 6/6: scale 4/4") == true)
        let q = runCLI(["generate", "-n", "2", "-q", "-o", dir + "/q.png"])
        #expect(q.code == 0 && q.err.isEmpty, "\(q.err)")
        #expect(q.out == "\(dir)/q_0.png\n\(dir)/q_1.png\n")
        #expect(runCLI(["generate", "-q", "-v"]).code == 2)

        // Into a file: 200 lines in well under 2 s give the first and the final one.
        final class Lines { var text = "" }
        let log = Lines()
        let file = ProgressPrinter(console: Console(out: { _ in }, err: { log.text += $0 }, interactive: false))
        for i in 0..<200 { file.line("step \(i)", final: i == 199) }
        #expect(log.text == "step 0\nstep 199\n")
        #expect(ProgressPrinter.interval == 2)

        // A terminal: every event redraws the one line (no newline until the line is finished).
        final class Box { var text = "" }
        let box = Box()
        let tty = ProgressPrinter(console: Console(out: { _ in }, err: { box.text += $0 }, interactive: true))
        for i in 0..<5 { tty.line("step \(i)") }
        #expect(box.text.components(separatedBy: "\r\u{1B}[2K").count == 6 && !box.text.contains("\n"))
        tty.finish()
        #expect(box.text.hasSuffix("step 4\n"))
    }

    /// Errors name what the user typed: the argument, `--input`, `VARGEN_WEIGHTS`; a path under a file; a
    /// reversed range; a VQVAE given as a model; never Foundation's raw error text.
    @Test func errorsNameTheUsersOwnFlagOrArgument() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func refused(_ args: [String], env: [String: String]? = nil) -> String {
            let r = runCLI(args, environment: env)
            #expect(r.code == 2, "\(args): \(r.err)")
            #expect(!r.err.contains("Error Domain") && !r.err.contains("CodingKeys"), "\(r.err)")
            return r.err
        }
        let d = refused(["decode", dir + "/missing.safetensors"])
        #expect(d.contains("TOKENS: file '\(dir)/missing.safetensors' does not exist") && !d.contains("--tokens"), "\(d)")
        #expect(refused(["decode", "--tokens", dir + "/missing.safetensors"]).contains("--tokens"))
        let r = refused(["reconstruct", dir + "/missing.png"])
        #expect(r.contains("INPUT.png: file") && !r.contains("--input"), "\(r)")
        #expect(refused(["reconstruct", "--input", dir + "/missing.png"]).contains("--input: file"))
        let i = refused(["inspect", dir + "/missing.pth"])
        #expect(i.contains("FILE: file") && !i.contains("--file"), "\(i)")
        let e = refused(["edit", dir + "/missing.png", "--box", "0,0,1,1"])
        #expect(e.contains("PNG: file") && !e.contains("--input"), "\(e)")

        let env = refused(["generate", "--output", dir + "/x.png"], env: ["VARGEN_WEIGHTS": dir + "/nowhere"])
        #expect(env.contains("VARGEN_WEIGHTS=\(dir)/nowhere") && !env.contains("--drafter"), "\(env)")
        let empty = refused(["generate", "--output", dir + "/x.png"], env: ["VARGEN_WEIGHTS": dir])
        #expect(empty.contains("VARGEN_WEIGHTS=\(dir) has no") && !empty.contains("--drafter:"), "\(empty)")

        FileManager.default.createFile(atPath: dir + "/plain", contents: Data("x".utf8))
        let under = refused(["generate", "--output", dir + "/plain/sub/x.png"])
        #expect(under.contains("'\(dir)/plain', which is a file") && !under.contains("does not exist"), "\(under)")
        #expect(refused(["generate", "--output", dir + "/plain/x.png"]).contains("'\(dir)/plain' is a file"))
        #expect(refused(["decode", dir + "/plain/t.safetensors"]).contains("is a file, not a directory"))

        #expect(refused(["generate", "--class", "2-1"]).contains("'2-1' is a reversed range"))
        #expect(refused(["generate", "--class", "1-7"]).contains("outside the model's range"))
        let vq = refused(["generate", "--model", w + "/vqvae.pth", "--output", dir + "/x.png"])
        #expect(vq.contains("--model: '\(w)/vqvae.pth' is a VQVAE checkpoint, not a VAR model"), "\(vq)")

        // Foundation's errors in plain words.
        let denied = NSError(domain: NSCocoaErrorDomain, code: NSFileWriteNoPermissionError, userInfo: [NSFilePathErrorKey: "/x.png"])
        #expect(userFacing(denied) == "'/x.png': permission denied")
        struct Probe: Decodable { var depth: Int }
        do { _ = try JSONDecoder().decode(Probe.self, from: Data("{}".utf8)); Issue.record("decoded") } catch {
            #expect(userFacing(error) == "the JSON has no field 'depth'")
        }
    }

    /// Flags that have no effect say so (and the run goes on); a non-PNG output name is refused.
    @Test func ignoredFlagsSaySo() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func note(_ args: [String]) -> String {
            let r = runCLI(args + ["-q"])
            #expect(r.code == 0, "\(args): \(r.err)")
            return r.err
        }
        #expect(note(["generate", "--columns", "2", "-n", "2", "-o", dir + "/c.png"])
                .contains("note: --columns applies to --grid"))
        #expect(note(["generate", "-n", "2", "--class", "0,1,2", "-o", dir + "/d.png"])
                .contains("note: --count 2 uses the first 2 of the 3 classes of --class; 1 are not generated"))
        #expect(note(["generate", "-t", "100000", "-o", dir + "/t.png"]).contains("note: --threads 100000 is more than the"))
        #expect(note(["generate", "--mmap", "--weights", "f16", "-o", dir + "/m.png"]).contains("note: --mmap has no effect"))
        #expect(!note(["generate", "--mmap", "-o", dir + "/m32.png"]).contains("note:"))
        #expect(note(["generate", "--grid", "-n", "2", "--columns", "1", "-o", dir + "/g.png"]).isEmpty)
        #expect(note(["edit", dir + "/m32.png", "--box", "0,0,0.1,0.1", "-o", dir + "/e.png"])
                .contains("note: --box 0,0,0.1,0.1 covers no token cell of the 4×4 grid"))
        let jpg = runCLI(["generate", "-o", dir + "/x.jpg"])
        #expect(jpg.code == 2 && jpg.err.contains("--output: '\(dir)/x.jpg': var-gen writes PNG files only"), "\(jpg.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.jpg") && !FileManager.default.fileExists(atPath: dir + "/x.png"))
    }

    /// One spelling everywhere: short forms, `--class` (and `--classes`) in generate and sample, the input as
    /// argument or `--input`, `help COMMAND`, `--version` after any command.
    @Test func namesAreConsistentAcrossCommands() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let long = runCLI(["generate", "--count", "2", "--seed", "5", "--batch", "1", "--threads", "1", "--classes", "dog",
                           "--output", dir + "/l.png"])
        let short = runCLI(["generate", "-n", "2", "-s", "5", "-b", "1", "-t", "1", "--class", "dog", "-o", dir + "/s.png", "-v"])
        #expect(long.code == 0 && short.code == 0, "\(long.err)\(short.err)")
        for k in 0..<2 { #expect(try PNG.read("\(dir)/l_\(k).png").image == PNG.read("\(dir)/s_\(k).png").image) }
        #expect(short.err.contains("OpenBLAS core"))

        let a = runCLI(["sample", "-o", dir + "/sa", "--class", "1", "-n", "1", "-q"])
        let b = runCLI(["sample", "-o", dir + "/sb", "--classes", "1", "--per-class", "1", "-q"])
        #expect(a.code == 0 && b.code == 0, "\(a.err)\(b.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sa").filter { $0.hasSuffix(".png") } == ["1_0.png"])
        #expect(try PNG.read(dir + "/sa/1_0.png").image == PNG.read(dir + "/sb/1_0.png").image)

        let p1 = runCLI(["reconstruct", dir + "/s_0.png", "-o", dir + "/r1.png"])
        let p2 = runCLI(["reconstruct", "--input", dir + "/s_0.png", "-o", dir + "/r2.png"])
        #expect(p1.code == 0 && p2.code == 0 && p1.out.hasSuffix(p2.out.components(separatedBy: "\n").dropFirst().joined(separator: "\n")))
        #expect(runCLI(["reconstruct", dir + "/s_0.png", "--input", dir + "/s_1.png"]).code == 2)
        #expect(runCLI(["inspect", "--input", w + "/vqvae.pth"]).out.contains("VQVAE vocabulary 64"))
        #expect(runCLI(["edit", dir + "/s_0.png", "--box", "0,0,0.5,1", "-o", dir + "/e.png", "-q"]).code == 0)

        for c in CLI.commands {
            let h = runCLI(["help", c.name]), direct = runCLI([c.name, "--help"])
            #expect(h.code == 0 && h.out == direct.out && h.out.contains("USAGE: var-gen \(c.name)"))
            let v = runCLI([c.name, "--version"])
            #expect(v.code == 0 && v.out == "var-gen \(CLI.version)\n", "\(c.name)")
        }
        #expect(runCLI(["generate", "--help"]).out.contains("-o, --output FILE"))
        #expect(runCLI(["generate", "--help"]).out.contains("-q, --quiet"))
        #expect(runCLI(["help", "genrate"]).err.contains("did you mean 'generate'"))
    }
}
