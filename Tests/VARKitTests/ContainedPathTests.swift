import Foundation
import Glibc
import Testing
@testable import VARCore
@testable import VARKit
@testable import var_gen

/// Issue 17 class 7: a file named by a model JSON (`"vqvae"`) stays beside the JSON — a plain name or a
/// relative path inside its directory after `..` and symbolic links — unless given on the command line.
@Suite("Files named by a JSON stay beside it")
struct ContainedPathTests {
    var w: String { TinyWeights.directory }

    /// `dir/m/` with the tiny drafter and a JSON naming `vqvae`, the tiny VQVAE copied to `dir/m/vqvae.pth`,
    /// `dir/m/sub/vq.pth` and `dir/vqvae.pth` (outside), plus symbolic links inside and outside.
    func model(in dir: String, vqvae: String) throws -> String {
        let fm = FileManager.default
        let m = dir + "/m"
        if !fm.fileExists(atPath: m) {
            try fm.createDirectory(atPath: m + "/sub", withIntermediateDirectories: true)
            for target in [m, m + "/sub", dir] {
                try fm.copyItem(atPath: w + "/vqvae.pth", toPath: target + "/vqvae.pth")
                try fm.copyItem(atPath: w + "/vqvae.json", toPath: target + "/vqvae.json")
            }
            try fm.copyItem(atPath: w + "/vqvae.json", toPath: m + "/sub/vq.json")
            try fm.moveItem(atPath: m + "/sub/vqvae.pth", toPath: m + "/sub/vq.pth")
            try fm.copyItem(atPath: w + "/drafter.pth", toPath: m + "/drafter.pth")
            #expect(symlink(dir + "/vqvae.pth", m + "/out.pth") == 0)       // escapes
            try fm.copyItem(atPath: w + "/vqvae.json", toPath: m + "/out.json")
            #expect(symlink(m + "/vqvae.pth", m + "/in.pth") == 0)          // stays inside
            try fm.copyItem(atPath: w + "/vqvae.json", toPath: m + "/in.json")
            #expect(symlink(dir, m + "/up") == 0)                           // a directory link leading out
        }
        var config = TinyWeights.varConfig(depth: 2)
        config.vqvae = vqvae
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: m + "/drafter.json"))
        return m + "/drafter.pth"
    }

    @Test func escapingNamesAreRefusedAndInsideNamesWork() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let refused = ["../vqvae.pth", "../../../../../../etc/passwd", "/etc/passwd", dir + "/vqvae.pth", "out.pth",
                       "up/vqvae.pth", "sub/../../vqvae.pth", "", ".", "sub/..", "~/vqvae.pth"]
        for name in refused {
            let drafter = try model(in: dir, vqvae: name)
            let r = runCLI(["generate", "--model", drafter, "-o", dir + "/o.png", "-q"])
            #expect(r.code == 2, "\"\(name)\": exit \(r.code): \(r.err)")
            #expect(r.err.contains("\"vqvae\"") && r.err.contains("--vae"), "\"\(name)\": \(r.err)")
            #expect(!r.err.contains("root:"), "the error shows the file's contents: \(r.err)")
            // Given on the command line, any VQVAE is accepted.
            let given = runCLI(["generate", "--model", drafter, "--vae", dir + "/vqvae.pth", "-o", dir + "/o.png", "-q"])
            #expect(given.code == 0, "\"\(name)\" with --vae: \(given.err)")
        }
        for name in ["vqvae.pth", "./vqvae.pth", "sub/vq.pth", "sub/../vqvae.pth", "in.pth"] {
            let drafter = try model(in: dir, vqvae: name)
            let r = runCLI(["generate", "--model", drafter, "-o", dir + "/o.png", "-q"])
            #expect(r.code == 0, "\"\(name)\": \(r.err)")
        }
        // The library applies the same rule when no tokenizer is given.
        let drafter = try model(in: dir, vqvae: "../vqvae.pth")
        #expect(throws: PipelineError.self) { try PipelineConfiguration(models: .plain(try ModelSource(path: drafter))) }
    }

    /// Names from a JSON (a `"vqvae"` with escape sequences, class names) reach stderr escaped, never raw.
    @Test func namesFromFilesReachTheTerminalEscaped() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let drafter = try model(in: dir, vqvae: "\u{1B}[2J\u{1B}]0;PWN\u{07}x.pth")
        let r = runCLI(["generate", "--model", drafter, "-o", dir + "/o.png"])
        #expect(r.code == 2 && r.err.contains("\\x1b[2J") && !r.err.contains("\u{1B}") && !r.err.contains("\u{07}"), "\(r.err)")
        var config = TinyWeights.varConfig(depth: 2)
        config.classNames = ["\u{1B}[2Jcat", "\u{1B}]0;T\u{07}dog", "fi\u{202E}sh"]
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: dir + "/m/drafter.json"))
        for args in [["--class", "zebra"], ["--class", "0", "--columns", "2"]] {
            let c = runCLI(["generate", "--model", drafter, "--vae", dir + "/vqvae.pth", "-o", dir + "/c.png"] + args)
            #expect(!c.err.contains("\u{1B}") && !c.err.contains("\u{07}") && !c.err.contains("\u{202E}"), "\(c.err)")
        }
    }

    /// Property: random names of `..`, `.`, directory and linked components are accepted exactly when the
    /// file system's own resolution (`realpath`) of an existing name lies strictly inside the directory.
    @Test func randomRelativeNamesResolveInsideOrAreRefused() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/a/b", withIntermediateDirectories: true)
        #expect(symlink("/", dir + "/a/root") == 0)
        #expect(symlink("..", dir + "/a/b/up") == 0)
        #expect(symlink("../..", dir + "/a/b/out") == 0)
        guard let base = realpath(dir + "/a", nil) else { Issue.record("realpath"); return }
        let root = String(cString: base); free(base)
        var g = SplitMix64(seed: 17)
        let parts = ["..", ".", "b", "root", "up", "out"]
        var checked = 0
        for _ in 0..<800 {
            let name = (0..<(1 + Int(g.next() % 5))).map { _ in parts[Int(g.next() % UInt64(parts.count))] }.joined(separator: "/")
            guard let r = realpath(dir + "/a/" + name, nil) else { continue }
            let real = String(cString: r); free(r)
            let expected = real.hasPrefix(root + "/")
            let accepted = (try? ContainedPath.resolve(name, besideFile: dir + "/a/m.pth", json: "m.json", field: "vqvae")) != nil
            #expect(accepted == expected, "\(name) → \(real)")
            checked += 1
        }
        #expect(checked > 100)
    }
}
