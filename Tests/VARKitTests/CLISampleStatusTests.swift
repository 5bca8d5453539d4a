import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// `sample --shard auto` and `sample --status` on the tiny random models of `TinyWeights` (3 classes).
@Suite("CLI: sample --shard auto and --status")
struct CLISampleStatusTests {
    var w: String { TinyWeights.directory }
    let common = ["--per-class", "4", "--classes", "all", "--seed", "2", "--batch", "3"]

    /// Four Slurm array tasks (IDs 1–4) with `--shard auto` write exactly the files of `--shard i/4`.
    @Test func autoShardsEqualExplicitShards() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for id in 1...4 {
            let env = ["VARGEN_WEIGHTS": w, "SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "1",
                       "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "1", "SLURM_PROCID": "0"]
            let auto = runCLI(["sample", "--output", dir + "/auto", "--shard", "auto"] + common, environment: env)
            #expect(auto.code == 0, "\(auto.err)")
            #expect(auto.err.contains("shard \(id - 1)/4 (SLURM_ARRAY_TASK_ID=\(id) (array 1-4))"), "\(auto.err)")
            #expect(auto.err.contains("3 images in this shard"), "\(auto.err)")
            let fixed = runCLI(["sample", "--output", dir + "/fixed-\(id - 1)", "--shard", "\(id - 1)/4"] + common)
            #expect(fixed.code == 0, "\(fixed.err)")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/fixed-\(id - 1)") {
                #expect(try FileIO.readAll("\(dir)/fixed-\(id - 1)/\(name)") == FileIO.readAll("\(dir)/auto/\(name)"), "\(name)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/auto").filter { $0.hasSuffix(".png") }.count == 12)
        // Outside a job, auto is a usage error that names the variables; nothing is written.
        let outside = runCLI(["sample", "--output", dir + "/none", "--shard", "auto"] + common)
        #expect(outside.code == 2)
        #expect(outside.err.contains("SLURM_ARRAY_TASK_ID") && outside.err.contains("JOB_COMPLETION_INDEX"), "\(outside.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/none"))
        let bad = runCLI(["sample", "--output", dir + "/none", "--shard", "auto/x"] + common)
        #expect(bad.code == 2 && bad.err.contains("--shard: got 'auto/x'"), "\(bad.err)")
    }

    /// Status of an empty, a partial, a complete and a polluted directory: counts per shard, compact missing
    /// lists, settings mismatches, unexpected files, and the exit codes 3 / 0.
    @Test func statusReportsWhatIsMissing() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let status = ["sample", "--status", out, "--shard", "auto/2"] + common
        let empty = runCLI(status)
        #expect(empty.code == 3, "\(empty.err)")
        #expect(empty.out.contains("0/12 images done (0.0 %), 12 missing"), "\(empty.out)")
        #expect(empty.out.contains("1      0/6            class 0: 1, 3; class 1: 1, 3; class 2: 1, 3"), "\(empty.out)")
        #expect(!empty.out.contains("missing:"), "\(empty.out)")

        #expect(runCLI(["sample", "--output", out, "--shard", "0/2"] + common).code == 0)
        let half = runCLI(status)
        #expect(half.code == 3)
        #expect(half.out.contains("0      6/6            -"), "\(half.out)")
        #expect(half.out.contains("1      0/6            class 0: 1, 3; class 1: 1, 3; class 2: 1, 3"), "\(half.out)")
        #expect(half.out.contains("6/12 images done (50.0 %)"), "\(half.out)")

        #expect(runCLI(["sample", "--output", out, "--shard", "1/2"] + common).code == 0)
        let full = runCLI(status)
        #expect(full.code == 0, "\(full.out)\(full.err)")
        #expect(full.out.contains("12/12 images done (100.0 %), 0 missing, 0 made with other settings, 0 unexpected"), "\(full.out)")
        #expect(full.out.hasSuffix("complete\n"))
        // Without --shard: one total; --output and --status may name the same directory.
        let plain = runCLI(["sample", "--status", out, "--output", out] + common)
        #expect(plain.code == 0 && !plain.out.contains("shard"), "\(plain.out)")

        // A file made with another seed, a damaged one, a foreign PNG: all reported, exit 3.
        let other = dir + "/other"
        #expect(runCLI(["sample", "--output", other, "--per-class", "1", "--classes", "2", "--seed", "9"]).code == 0)
        try FileManager.default.removeItem(atPath: out + "/2_0.png")
        try FileManager.default.copyItem(atPath: other + "/2_0.png", toPath: out + "/2_0.png")
        try Data([0x89, 0x50]).write(to: URL(fileURLWithPath: out + "/1_3.png"))
        try FileManager.default.copyItem(atPath: other + "/2_0.png", toPath: out + "/2_7.png")
        let dirty = runCLI(status)
        #expect(dirty.code == 3)
        #expect(dirty.out.contains("10/12 images done (83.3 %), 1 missing, 1 made with other settings, 1 unexpected PNG files"), "\(dirty.out)")
        #expect(dirty.out.contains("0      5/6            class 2: 0\n1      5/6            class 1: 3\n"), "\(dirty.out)")
        let dirtyTotal = runCLI(["sample", "--status", out] + common)
        #expect(dirtyTotal.out.contains("missing: class 1: 3\n"), "\(dirtyTotal.out)")
        #expect(dirty.out.contains("other settings (regenerate: delete them and run sample again): class 2: 0"), "\(dirty.out)")
        #expect(dirty.out.contains("unexpected (pack would include them): 2_7.png"), "\(dirty.out)")
        #expect(dirty.err.contains("is not complete"), "\(dirty.err)")

        // Usage errors (exit 2): no count for auto outside a job, a directory that does not exist, two directories.
        let noCount = runCLI(["sample", "--status", out, "--shard", "auto"] + common)
        #expect(noCount.code == 2 && noCount.err.contains("auto/N"), "\(noCount.err)")
        #expect(runCLI(["sample", "--status", dir + "/nope"] + common).code == 2)
        #expect(runCLI(["sample", "--status", out, "--output", other] + common).code == 2)
    }

    @Test func rangesUseSlurmNotation() {
        #expect(SampleStatus.ranges([]) == "")
        #expect(SampleStatus.ranges([4]) == "4")
        #expect(SampleStatus.ranges([1, 2]) == "1, 2")
        #expect(SampleStatus.ranges([0, 1, 2, 3]) == "0-3")
        #expect(SampleStatus.ranges([1, 5, 9, 13, 14, 20]) == "1-13:4, 14, 20")
        #expect(SampleStatus.ranges([0, 2, 4, 5, 6, 7]) == "0-4:2, 5-7")
        #expect(SampleStatus.ranges(Array(stride(from: 0, to: 40, by: 3)).flatMap { [$0, $0 + 1] })
                == "0, 1, 3, 4, 6, 7, 9, 10, … 20 more")
        let many = (0..<9).map { (classID: $0, index: 0) }
        #expect(SampleStatus.compact(many) == "class 0: 0; class 1: 0; class 2: 0; class 3: 0; class 4: 0; class 5: 0; … 3 more classes")
    }
}
