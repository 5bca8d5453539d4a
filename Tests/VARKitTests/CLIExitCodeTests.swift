import Foundation
import Glibc
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 17 class 10: one exit-code rule (`ExitStatus`, docs/cli.md "Exit codes"). Every unusable input —
/// missing, a directory, a FIFO, a file of another kind, empty, garbage — is exit 2 in every position a file
/// is read from (--model, --vae, --drafter, --refiner, inspect FILE, decode TOKENS, reconstruct/edit input),
/// with a message naming the position; failures while working are 1.
@Suite("CLI: exit codes")
struct CLIExitCodeTests {
    var w: String { TinyWeights.directory }

    /// Hostile stand-ins for an input file, built in `dir` (name → path).
    static func hostileInputs(in dir: String) throws -> [(String, String)] {
        try FileManager.default.createDirectory(atPath: dir + "/adir", withIntermediateDirectories: true)
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/image.png")
        try Data("{\"kind\": \"var\"}".utf8).write(to: URL(fileURLWithPath: dir + "/doc.json"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.pth"))
        var g = SplitMix64(seed: 5)
        try Data((0..<300).map { _ in UInt8(truncatingIfNeeded: g.next()) }).write(to: URL(fileURLWithPath: dir + "/garbage.pth"))
        return [("missing", dir + "/missing.pth"), ("directory", dir + "/adir"), ("PNG", dir + "/image.png"),
                ("JSON", dir + "/doc.json"), ("empty", dir + "/empty.pth"), ("garbage", dir + "/garbage.pth")]
    }

    /// Command lines that read `file` in each input position, with the text the error must name.
    func positions(_ file: String, out: String, image: String) -> [(args: [String], names: String)] {
        [
            (["generate", "--model", file, "-o", out], "--model"),
            (["generate", "--vae", file, "-o", out], "--vae"),
            (["generate", "--drafter", file, "-o", out], "--drafter"),
            (["generate", "--refiner", file, "--draft-steps", "2", "-o", out], "--refiner"),
            (["inspect", file], "FILE"),
            (["decode", file, "-o", out], "TOKENS"),
            (["decode", "--input", file, "-o", out], "--input"),
            (["reconstruct", "--input", file, "-o", out], "--input "),
            (["reconstruct", "--vae", file, image, "-o", out], "--vae"),
            (["edit", "--input", file, "--box", "0,0,0.5,0.5", "-o", out], "--input "),
            (["edit", "--input", image, "--box", "0,0,0.5,0.5", "--vae", file, "-o", out], "--vae"),
        ]
    }

    @Test func everyUnusableInputIsExit2InEveryPosition() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A valid 8×8 PNG for the positions that need a good image.
        let image = dir + "/good.png"
        try PNG.write(RGBImage(width: 8, height: 8, fill: (90, 120, 30)), to: image)
        for (kind, file) in try Self.hostileInputs(in: dir) {
            for (args, names) in positions(file, out: dir + "/o.png", image: image) {
                // A PNG is a valid image input ("--input " marks the image positions).
                if kind == "PNG" && names == "--input " { continue }
                let names = names.trimmingCharacters(in: .whitespaces)
                let r = runCLI(args)
                #expect(r.code == 2, "\(kind) as \(names) in \(args[0]): exit \(r.code): \(r.err)")
                #expect(r.err.contains(names) || r.err.contains(file), "\(kind) as \(names): \(r.err)")
                #expect(!r.err.contains("Fatal") && r.out.isEmpty, "\(kind) as \(names): \(r.out)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/o.png"))
    }

    /// A FIFO in every position, in a child process (a hang would be killed after 20 s and fail the test).
    @Test func fifoInEveryPositionIsExit2WithoutBlocking() throws {
        guard ChildProcess.executable != nil else { return }
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/good.png"
        try PNG.write(RGBImage(width: 8, height: 8, fill: (90, 120, 30)), to: image)
        let fifo = dir + "/f.pth"
        #expect(mkfifo(fifo, 0o600) == 0)
        for (args, names) in positions(fifo, out: dir + "/o.png", image: image) {
            let names = names.trimmingCharacters(in: .whitespaces)
            let r = try ChildProcess.run(args, environment: ["VARGEN_WEIGHTS": w], directory: dir, timeout: 20)
            #expect(r.status == 2, "FIFO as \(names) in \(args[0]): \(String(describing: r.status)) \(r.stderr)")
            #expect(r.stderr.contains("FIFO"), "FIFO as \(names): \(r.stderr)")
        }
    }

    /// The table itself: input errors are 2 wherever raised, work failures 1, other errors by phase.
    @Test func errorTypesMapToOneRule() {
        func code(_ e: Error, _ phase: var_gen.ExitStatus.Phase = .work) -> ExitCode { var_gen.ExitStatus.code(for: e, phase: phase) }
        #expect(code(CheckpointError.cannotOpen(file: "f", reason: "r")) == .usage)
        #expect(code(CheckpointError.nonFiniteWeight(file: "f", key: "k", index: 0, value: .nan)) == .usage)
        #expect(code(InputFile.Failure(path: "p", reason: "is a FIFO")) == .usage)
        #expect(code(RuntimeError.invalidArrayFile(path: "t", message: "m")) == .usage)
        #expect(code(RuntimeError.pngDecode(path: "p", message: "m")) == .usage)
        #expect(code(RuntimeError.io(path: "p", operation: "read", message: "EIO")) == .usage)
        #expect(code(RuntimeError.io(path: "p", operation: "write", message: "No space left on device")) == .failure)
        #expect(code(RuntimeError.nonFiniteImage(index: 0)) == .failure)
        #expect(code(GenerationError.nonFiniteLogits(scale: 3, image: 1)) == .failure)
        #expect(code(GenerationError.incompatibleTokenizer(property: .vocabulary, model: [4096], tokenizer: [16])) == .usage)
        #expect(code(GenerationError.logitsOverflow(scale: 0, image: 0, largest: 1e37, temperature: 0.001)) == .failure)
        #expect(code(RuntimeError.nonFiniteLatent(index: 0)) == .failure)
        #expect(code(PipelineError.referenceOutsideDirectory(json: "j", field: "vqvae", name: "/x", reason: "r")) == .usage)
        #expect(code(UsageError("x")) == .usage)
        #expect(code(IncompleteRun(directory: "x")) == .incomplete)
        #expect(code(CLIFailure("x"), .work) == .failure && code(CLIFailure("x"), .validation) == .usage)
    }
}
