import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 18, bench: comma sweeps over every parameter where they make sense (`/` joins the parts of one
/// value), one configuration per combination with its settings as structured fields, progress on stderr.
@Suite("CLI: bench sweeps over weights, threads and sampling")
struct CLIBenchSweepTests {
    /// The tiny weights' context (no output kept).
    static let context = CLIContext(console: Console.capturing().0, environment: ["VARGEN_WEIGHTS": TinyWeights.directory],
                                    currentDirectory: NSTemporaryDirectory(), executablePath: "/nonexistent/var-gen")

    func parse(_ args: [String]) throws -> BenchCommand { try CLIBenchTests().parse(args) }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The threads the sweep uses on this machine: 1 and 2 when there are two cores or more.
    var twoThreadCounts: Bool { ProcessInfo.processInfo.activeProcessorCount >= 2 }

    @Test func listsParseIntoTheCrossProduct() throws {
        let b = try parse(["--weights", "f32,f16,q8/f32", "--draft-steps", "off,2", "--cfg", "1,4", "--top-k", "0,3/3/3/3",
                           "--top-p", "0.5", "--temp", "1/1/0.9/0.9"])
        #expect(b.sweep.weights.map(\.text) == ["f32", "f16", "q8/f32"])
        #expect(b.sweep.cfg == ["1", "4"] && b.sweep.topK == ["0", "3,3,3,3"] && b.sweep.temp == ["1,1,0.9,0.9"])
        #expect(b.points.count == 3 * 2 * 2 * 2)
        // --weights outermost (one load per value), then the split.
        #expect(b.points.prefix(8).allSatisfy { $0.weights.text == "f32" } && b.points[0].draftSteps == 0 && b.points[4].draftSteps == 2)
        // The split is not part of the key: a CoDe row pairs with the drafter alone of the same other settings.
        #expect(b.points[0].key == b.points[4].key && b.points[0].key != b.points[1].key)
        var v = b
        try v.validate(Self.context)
        #expect(v.settings[2].cfg == 4 && v.settings[1].topK == .perScale([3, 3, 3, 3]) && v.settings[0].temperature == .perScale([1, 1, 0.9, 0.9]))
        guard case let .collaborative(plan) = v.pipelines[20].models else { Issue.record("not CoDe"); return }
        #expect(plan.drafter.precision == .int8 && plan.refiner.precision == .float32)
        // generate takes the same pair spelling.
        #expect(try ModelOptions.precisions("q8/f32") == (.int8, .float32))
    }

    @Test(arguments: [
        (["--threads", "0,1"], "--threads: got '0'; expected thread counts ≥ 1"),
        (["--threads", "1,,2"], "--threads: got '1,,2'; expected values separated by commas, none empty"),
        (["--cfg", "1,200"], "--cfg: got '200'; expected a guidance strength in [0, 100]"),
        (["--top-p", "0.5,2"], "--top-p: got '2'"),
        (["--temp", "1,0"], "--temp: got '0'"),
        (["--top-k", "1/2"], "--top-k: got 2 values; expected 1 or one per scale (4)"),
        (["--weights", "f16,bf16"], "--weights: got 'bf16'; expected f32, f16 or q8"),
        (["--weights", "f16/f32/q8"], "--weights: got 'f16/f32/q8'; expected f32, f16, q8, or a drafter/refiner pair"),
        (["--weights", "q8/f32"], "--weights q8/f32: a drafter/refiner pair needs CoDe"),
        (["--model", "m.pth", "--weights", "f32,q8/f32"], "--weights q8/f32: a drafter/refiner pair needs CoDe, not --model"),
    ] as [([String], String)])
    func badListsExitWith2(arguments: [String], message: String) {
        let r = runCLI(["bench"] + arguments)
        #expect(r.code == 2)
        #expect(r.err.contains(message), "stderr: \(r.err)")
        #expect(r.out.isEmpty)
    }

    /// Weights × threads × cfg on the tiny models: every row carries its settings as fields (JSON, JSONL, CSV).
    @Test func crossProductRowsCarryStructuredFields() throws {
        let threads = twoThreadCounts ? "1,2" : "1"
        let base = ["bench", "--weights", "f32,q8", "--threads", threads, "--cfg", "1,2", "-r", "1", "--warmup", "0", "-q"]
        let r = runCLI(base + ["-o", "json"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let record = try json(r.out)
        let runs = try #require(record["runs"] as? [[String: Any]])
        let n = twoThreadCounts ? 8 : 4
        #expect(runs.count == n)
        #expect(runs.map { $0["configuration"] as? Int } == Array(1...n).map { Optional($0) })
        let combos = Set(runs.map { run -> String in
            let s = run["sampling"] as? [String: Any]
            return "\(run["weight_precision"] ?? "") \(run["threads"] ?? "") \(s?["cfg"] ?? "")"
        })
        #expect(combos.count == n, "\(combos)")
        #expect(runs.allSatisfy { $0["threads"] is Int && ($0["sampling"] as? [String: Any])?["cfg"] is Double })
        #expect(Set(runs.compactMap { $0["weight_precision"] as? String }) == ["float32", "int8"])
        // No settings packed into strings anywhere.
        #expect(!r.out.contains("cfg="), "\(r.out)")
        let configurations = try #require(record["configurations"] as? [[String: Any]])
        #expect(configurations.count == n && configurations.allSatisfy { $0["drafter"] is NSNull && $0["model"] as? String == "drafter.pth" })
        let env = try #require(record["environment"] as? [String: Any])
        #expect(env["weight_precision"] is NSNull)
        if twoThreadCounts { #expect(env["blas_threads"] is NSNull) }

        let lines = runCLI(base + ["--output-format", "jsonl"]).out.split(separator: "\n")
        #expect(lines.count == n)
        let row = try json(String(lines[n - 1]))
        #expect(row["weight_precision"] as? String == "int8" && (row["sampling"] as? [String: Any])?["cfg"] as? Double == 2)

        let csv = runCLI(base + ["--output-format", "csv"]).out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(csv.count == n + 1 && csv[0].map(String.init) == BenchReport.csvHeader)
        let column = { (name: String) in BenchReport.csvHeader.firstIndex(of: name)! }
        #expect(csv.dropFirst().map { String($0[column("threads")]) }.allSatisfy { $0 == "1" || $0 == "2" })
        #expect(Set(csv.dropFirst().map { String($0[column("cfg")]) }) == ["1.0", "2.0"])
        #expect(csv[1][column("model")] == "drafter.pth" && csv[1][column("drafter")] == "")
    }

    /// Markdown: the shared settings once, a column per varying setting, a header per configuration, the
    /// per-scale table naming the drafter and the refiner with their files.
    @Test func markdownHasAHeaderPerConfiguration() throws {
        let r = runCLI(["bench", "--draft-steps", "2", "--weights", "f32,f16/f32", "--cfg", "1,3", "-r", "1", "--warmup", "0", "-t", "1"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let md = r.out
        #expect(md.contains("| config | models | weights | cfg | batch | s/image (median) |"), "\(md)")
        #expect(md.contains("- every configuration: draft steps 2, threads 1, "), "\(md)")
        #expect(md.contains("### Configuration 1 of 4: models drafter.pth+refiner.pth, weights f32, cfg 1"), "\(md)")
        #expect(md.contains("### Configuration 4 of 4: models drafter.pth+refiner.pth, weights f16/f32, cfg 3"), "\(md)")
        #expect(md.contains("| 1 | 1 | 1 | drafter drafter.pth |") && md.contains("| 1 | 4 | 4 | refiner refiner.pth |"), "\(md)")
        #expect(!md.contains("- sampling:") && !md.contains("cfg=") && !md.contains("| model |"), "\(md)")
        // One configuration: no numbering, its settings on one line.
        let one = runCLI(["bench", "-r", "1", "--warmup", "0"]).out
        #expect(one.contains("- configuration: draft steps -, weights f32,") && !one.contains("### Configuration"), "\(one)")
        #expect(one.contains("| models | batch | s/image (median) |"), "\(one)")
    }

    /// A list whose meaning differs from generate's says so: with CoDe `--weights f16,f32` sweeps (a pair is
    /// f16/f32), and S values of `--top-k` sweep (one per scale is a/b/c/d).
    @Test func ambiguousListsPrintANote() throws {
        let r = runCLI(["bench", "--draft-steps", "2", "--weights", "f16,f32", "--top-k", "0,1,2,3", "-r", "1", "--warmup", "0",
                        "-o", "json", "-q"])
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.err.contains("var-gen: note: --weights f16,f32 sweeps f16 and f32 (each for both models); for a drafter and a "
                               + "refiner precision write f16/f32"), "\(r.err)")
        #expect(r.err.contains("--top-k 0,1,2,3 sweeps 4 values (one configuration each); for one value per scale write 0/1/2/3"), "\(r.err)")
        let runs = try #require(try json(r.out)["runs"] as? [[String: Any]])
        #expect(runs.count == 8)
    }

    /// A per-scale schedule written with commas, as generate takes it, has repeats: it sweeps its distinct values,
    /// and the note says how to write the schedule.
    @Test func perScaleScheduleWithCommasPrintsANote() throws {
        let r = runCLI(["bench", "--temp", "1.1,1.1,1,1", "-r", "1", "--warmup", "0", "-o", "json", "-q"])
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.err.contains("--temp 1.1,1.1,1,1 sweeps 2 values (one configuration each); for one value per scale "
                               + "write 1.1/1.1/1/1"), "\(r.err)")
        let runs = try #require(try json(r.out)["runs"] as? [[String: Any]])
        #expect(runs.count == 2)
    }

    /// Progress on stderr names the configuration and the call; `-q` silences it; the results stay on stdout.
    @Test func progressAndQuiet() throws {
        let args = ["bench", "--cfg", "1,2", "-r", "2", "--warmup", "1", "-o", "csv"]
        let r = runCLI(args)
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.err.contains("loading "), "\(r.err)")
        // Into a file the first and last lines always appear (the others at most one per 2 s).
        #expect(r.err.contains("configuration 1/2 (cfg 1), batch 1: warm-up 1/1, call 1 of 6"), "\(r.err)")
        #expect(r.err.contains("configuration 2/2 (cfg 2), batch 1: timed call 2/2, call 6 of 6"), "\(r.err)")
        #expect(!r.out.contains("configuration 1/2"))
        let quiet = runCLI(args + ["-q"])
        #expect(quiet.code == 0 && quiet.err.isEmpty, "\(quiet.err)")
        #expect(quiet.out.split(separator: "\n").count == 3)
    }

    /// The CoDe speed-up pairs each CoDe configuration with the drafter alone of the same other settings.
    @Test func speedUpPairsWithinTheSweep() throws {
        let r = runCLI(["bench", "--draft-steps", "off,2", "--cfg", "1,2", "-r", "1", "--warmup", "0", "-q"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let rows = r.out.split(separator: "\n").filter { $0.contains("ratio of medians") }
        #expect(rows.count == 2, "\(r.out)")
        #expect(rows.contains { $0.hasPrefix("| #3 drafter.pth+refiner.pth N=2 | 1 | #1 drafter.pth |") }, "\(r.out)")
        #expect(rows.contains { $0.hasPrefix("| #4 drafter.pth+refiner.pth N=2 | 1 | #2 drafter.pth |") }, "\(r.out)")
    }
}

extension CLIBenchSweepTests {
    /// `--sgemm -t 1,2`: one row per thread count, structured in JSON.
    @Test func sgemmSweepsThreads() throws {
        let threads = twoThreadCounts ? "1,2" : "1"
        let r = runCLI(["bench", "--sgemm", "-t", threads, "-r", "1", "--warmup", "0", "-o", "json"])
        #expect(r.code == 0, "\(r.err)")
        let runs = try #require(try json(r.out)["runs"] as? [[String: Any]])
        #expect(runs.map { $0["threads"] as? Int } == (twoThreadCounts ? [1, 2] : [1]))
        #expect(runs.allSatisfy { ($0["gflops_median"] as? Double ?? 0) > 0 })
    }
}
