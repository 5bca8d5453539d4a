import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

@Suite("CLI: bench flags, sweeps and report")
struct CLIBenchTests {
    func parse(_ args: [String]) throws -> BenchCommand {
        let p = try OptionParser.parse(args, specs: BenchCommand.options)
        let context = CLIContext(console: Console.capturing().0, environment: ["VARGEN_WEIGHTS": TinyWeights.directory],
                                 currentDirectory: NSTemporaryDirectory(), executablePath: "/nonexistent/var-gen")
        return try BenchCommand(p, context: context)
    }

    @Test func sweepsRandomAndShortRepeats() throws {
        let b = try parse(["--batch", "1,8", "-r", "5", "--warmup", "0", "--random", "d30,d16", "--draft-steps", "8,6", "--json"])
        #expect(b.batches == [1, 8] && b.repeats == 5 && b.warmup == 0 && b.format == .json)
        #expect(b.random == [30, 16] && b.draftSteps == [8, 6])
        let plain = try parse(["--random", "D16"])
        #expect(plain.random == [16] && plain.draftSteps == [nil] && plain.batches == [1] && plain.repeats == 3)
        #expect(try parse(["--repeats", "2"]).repeats == 2)
        #expect(try BenchCommand.parseRandom("d30, d16") == [30, 16])
    }

    /// Random pipelines: official shapes, CoDe split checked, CoDe uses the official CoDe sampling defaults.
    @Test func randomPipelines() throws {
        guard case let .plain(m) = try BenchCommand.randomPipeline([16], draftSteps: nil).models else { Issue.record("not plain"); return }
        #expect(m.config.width == 1024 && m.config.depth == 16 && m.name == "random-d16")
        guard case let .collaborative(plan) = try BenchCommand.randomPipeline([30, 16], draftSteps: 6).models else {
            Issue.record("not CoDe"); return
        }
        let (d, r, n) = (plan.drafter, plan.refiner, plan.draftSteps)
        #expect(d.config.depth == 30 && r.config.depth == 16 && n == 6 && d.config.sampling == nil)
        #expect(throws: UsageError.self) { try BenchCommand.randomPipeline([30, 16], draftSteps: 10) }
    }

    @Test(arguments: [
        (["--batch", "1,0"], "--batch: got '0'; expected batch sizes ≥ 1"),
        (["--batch", "1,x"], "--batch: got '1,x'; expected an integer or a comma-separated list"),
        (["-r", "0"], "--repeats: got '0'; expected a count ≥ 1"),
        (["--warmup", "-1"], "--warmup: got '-1'; expected a count ≥ 0"),
        (["--random", "16"], "--random: got '16'; expected one or two official depths such as d16 or d30,d16"),
        (["--random", "d30,d16,d8"], "--random: got 'd30,d16,d8'; expected one or two official depths"),
        (["--random", "d16", "--model", "m.pth"], "--random cannot be combined with --model"),
        (["--random", "d16", "--vae", "v.pth"], "--random cannot be combined with --vae"),
        (["--random", "d16", "--draft-steps", "8"], "--draft-steps needs a drafter and a refiner"),
        (["--draft-steps", "2,5"], "--draft-steps: got 5; expected 1…3"),
        (["--draft-steps", "off,0"], "--draft-steps: got 'off,0'; expected scale counts ≥ 1 or off"),
        (["--draft-steps", "off", "--model", "m.pth"], "--draft-steps off (the drafter alone) needs --drafter"),
        (["-x", "1"], "unknown option '-x'"),
    ] as [([String], String)])
    func invalidFlagsExitWith2(arguments: [String], message: String) {
        let r = runCLI(["bench"] + arguments)
        #expect(r.code == 2)
        #expect(r.err.contains(message), "stderr: \(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func helpShowsShortAlias() {
        let r = runCLI(["bench", "--help"])
        #expect(r.code == 0 && r.out.contains("-r, --repeats R") && r.out.contains("--random dA[,dB]"))
    }

    /// One small sweep on the tiny shipped models: every row, split and environment field present and consistent.
    @Test func endToEndOnTinyModels() throws {
        let r = runCLI(["bench", "--batch", "1,2", "--draft-steps", "2,3", "-r", "2", "--warmup", "0", "--json",
                        "--threads", "1"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let env = try #require(record["environment"] as? [String: Any])
        #expect(env["blas_core"] as? String == BLAS.coreName && env["blas_threads"] as? Int == 1)
        #expect((env["cpu"] as? String)?.isEmpty == false && env["commit"] as? String != nil)
        #expect(env["weight_precision"] as? String == "float32")
        #expect((record["peak_rss_bytes"] as? Int ?? 0) > 0)
        let runs = try #require(record["runs"] as? [[String: Any]])
        #expect(runs.map { $0["batch"] as? Int } == [1, 2, 1, 2])
        #expect(runs.map { $0["draft_steps"] as? Int } == [2, 2, 3, 3])
        for run in runs {
            let s = run["seconds_per_image_median"] as? Double ?? 0
            let t = try #require(run["transformer_seconds_per_image"] as? [String: Double])
            #expect(Set(t.keys) == ["drafter", "refiner"] && t.values.allSatisfy { $0 > 0 })
            let parts = t.values.reduce(0, +) + (run["sampling_seconds_per_image"] as? Double ?? 0)
                + (run["decode_seconds_per_image"] as? Double ?? 0)
            #expect(s > 0 && parts > 0 && parts <= s * 1.05, "parts \(parts) vs total \(s)")
            let scales = try #require(run["scales"] as? [[String: Any]])
            #expect(scales.map { $0["pn"] as? Int } == [1, 2, 3, 4])
            #expect((run["accounted_peak_bytes"] as? Int ?? 0) > 0)
        }
        #expect(runs[0]["scales"].flatMap { ($0 as? [[String: Any]])?.map { $0["role"] as? String } }
                == ["drafter", "drafter", "refiner", "refiner"])
        #expect(runs[0]["scales"].flatMap { ($0 as? [[String: Any]])?.map { $0["model"] as? String } }
                == ["drafter.pth", "drafter.pth", "refiner.pth", "refiner.pth"])
        // Markdown by default: the summary and the per-scale table.
        let md = runCLI(["bench", "-r", "1", "--warmup", "0"])
        #expect(md.code == 0 && md.out.contains("| models | batch | s/image (median)") && md.out.contains("| scale | pn |"))
        #expect(md.out.contains("OpenBLAS core \(BLAS.coreName)"))
    }

    /// `--draft-steps off,…`: the drafter alone as a plain row next to the CoDe rows, the random drafter depth
    /// for `--random`, and the speed-up table (paired by round with `--interleave`) with the memory ratio.
    @Test func drafterAloneBaselineAndInterleavedRounds() throws {
        let b = try parse(["--random", "d30,d16", "--draft-steps", "off,8,6"])
        #expect(b.draftSteps == [0, 8, 6] && !b.interleave)
        #expect(try BenchCommand.parseDraftSteps("OFF, 3") == [0, 3])
        #expect(try parse(["--random", "d16", "--draft-steps", "off"]).draftSteps == [0])
        let r = runCLI(["bench", "--draft-steps", "3,off,2", "--batch", "1,2", "-r", "2", "--warmup", "1", "--interleave",
                        "--json", "--threads", "1"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let runs = try #require(record["runs"] as? [[String: Any]])
        // Interleaved: batch-major, every configuration of a batch size together, in the order given.
        #expect(runs.map { $0["batch"] as? Int } == [1, 1, 1, 2, 2, 2])
        #expect(runs.map { $0["draft_steps"] as? Int } == [3, nil, 2, 3, nil, 2])
        #expect(runs.map { $0["models"] as? String } == ["drafter.pth+refiner.pth", "drafter.pth", "drafter.pth+refiner.pth",
                                                          "drafter.pth+refiner.pth", "drafter.pth", "drafter.pth+refiner.pth"])
        let alone = try #require(runs[1]["transformer_seconds_per_image"] as? [String: Double])
        #expect(Set(alone.keys) == ["model"])
        for run in runs { #expect((run["kv_cache_peak_bytes"] as? Int ?? 0) > 0) }
        let md = runCLI(["bench", "--draft-steps", "off,2", "-r", "2", "--warmup", "0", "--interleave", "--threads", "1"])
        #expect(md.code == 0)
        let row = try #require(md.out.split(separator: "\n").first { $0.hasPrefix("| #2 drafter.pth+refiner.pth N=2 | 1 | #1 drafter.pth |") })
        #expect(row.contains("median of 2 paired calls"), "\(row)")
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        let transformer = Double(cells[3].dropLast()) ?? 0, total = Double(cells[4].dropLast()) ?? 0
        let memory = Double(cells[6].prefix { $0 != "x" }) ?? 0
        // Speed is a benchmark's business, not a unit test's: the ratios only need to be measured (finite,
        // positive). Memory is not timed: two of four scales on the refiner make a smaller KV cache.
        for ratio in [transformer, total] { #expect(ratio.isFinite && ratio > 0, "\(row)") }
        #expect(memory > 0 && memory < 1, "\(row)")
        // Every CoDe configuration at every batch size has its row against the drafter alone.
        let speedUpRows = md.out.split(separator: "\n").filter { $0.hasSuffix("|") && $0.contains("paired calls") }
        #expect(speedUpRows.count == 1, "\(md.out)")
        #expect(!runCLI(["bench", "--draft-steps", "2", "-r", "1", "--warmup", "0"]).out.contains("CoDe speed-up"))
    }

    /// `--profile`: rows per operation and model role with a total per role; no such table without the flag.
    @Test func profileTable() throws {
        let r = runCLI(["bench", "--draft-steps", "3", "-r", "1", "--warmup", "0", "--profile", "--threads", "1"])
        #expect(r.code == 0)
        let rows = r.out.split(separator: "\n").filter { $0.contains("| 1 | drafter |") || $0.contains("| 1 | refiner |") }
        for role in ["drafter", "refiner"] {
            let mine = rows.filter { $0.contains("| \(role) |") }
            #expect(mine.contains { $0.contains("| linear fc1 |") } && mine.contains { $0.contains("| attention: scores, softmax, values |") })
            let total = mine.first { $0.contains("**all operations**") }
            #expect(total != nil, "\(role): no total row")
        }
        #expect(!runCLI(["bench", "-r", "1", "--warmup", "0"]).out.contains("**all operations**"))
    }

    /// `--weights f16` reaches the models, the environment block and `--verbose`; other values exit with 2.
    @Test func weightsFlag() throws {
        #expect(try parse(["--weights", "f16"]).models.precision == .float16)
        #expect(try parse(["--weights", "float32"]).models.precision == .float32)
        #expect(try parse([]).models.precision == .float32)
        let bad = runCLI(["bench", "--weights", "bf16"])
        #expect(bad.code == 2 && bad.err.contains("--weights: got 'bf16'; expected f32, f16 or q8"), "\(bad.err)")
        let r = runCLI(["bench", "--weights", "f16", "-r", "1", "--warmup", "0", "--json", "--verbose", "--threads", "1"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let env = try #require(record["environment"] as? [String: Any])
        let used = WeightPrecision.float16.effective
        #expect(env["weight_precision"] as? String == used.rawValue)
        #expect(r.err.contains(used.kernelDescription), "stderr: \(r.err)")
        let help = runCLI(["generate", "--help"])
        #expect(help.out.contains("--weights f32|f16"))
    }

    /// `--mmap`: the float32 fixture's matrices are used in place (reported in the environment) and generation is
    /// the same PNG as with copied weights; refused with `--random`.
    @Test func mmapFlag() throws {
        let model = GenerationFixtures.path("tiny_var.pth")
        func bench(_ extra: [String]) throws -> Int {
            let r = runCLI(["bench", "--model", model, "-r", "1", "--warmup", "0", "--json", "--threads", "1"] + extra)
            #expect(r.code == 0, "stderr: \(r.err)")
            let record = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            let env = try #require(record["environment"] as? [String: Any])
            return try #require(env["mapped_weight_bytes"] as? Int)
        }
        #expect(try bench(["--mmap"]) > 0)
        #expect(try bench([]) == 0)
        let dir = NSTemporaryDirectory() + "vargen-mmap-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pngs: [Data] = []
        for (name, extra) in [("copy", [String]()), ("mapped", ["--mmap"])] {
            let r = runCLI(["generate", "--model", model, "--class", "2", "--seed", "4", "--output", "\(dir)/\(name).png"] + extra)
            #expect(r.code == 0, "stderr: \(r.err)")
            pngs.append(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).png")))
        }
        #expect(pngs[0] == pngs[1])
        let bad = runCLI(["bench", "--random", "d16", "--mmap"])
        #expect(bad.code == 2 && bad.err.contains("--random cannot be combined with --mmap"), "\(bad.err)")
    }

    /// `--weights DRAFTER/REFINER` (bench; a comma sweeps): each CoDe model gets its own precision (one value:
    /// both); refused for plain VAR, for three parts, and when drafter and refiner are one file.
    @Test func weightsPerRole() throws {
        let both = try parse(["--weights", "f16/f32"]).models
        #expect(both.precision == .float16 && both.refinerPrecision == .float32)
        let one = try parse(["--weights", "f16"]).models
        #expect(one.precision == .float16 && one.refinerPrecision == .float16)
        guard case let .collaborative(plan) = try BenchCommand.randomPipeline([30, 16], draftSteps: 6, precision: .float16,
                                                                              refinerPrecision: .float32).models else {
            Issue.record("not CoDe"); return
        }
        let (d, r) = (plan.drafter, plan.refiner)
        #expect(d.precision == .float16 && r.precision == .float32)
        for (args, message) in [(["--weights", "f16/f32/f16"], "--weights: got 'f16/f32/f16'; expected f32, f16, q8, or a drafter/refiner pair"),
                                (["--weights", "f16/bf16"], "--weights: got 'bf16'; expected f32, f16 or q8"),
                                (["--model", "m.pth", "--weights", "f16/f32"], "--weights f16/f32: a drafter/refiner pair needs CoDe")] {
            let bad = runCLI(["bench"] + args)
            #expect(bad.code == 2 && bad.err.contains(message), "\(bad.err)")
        }
        let drafter = TinyWeights.directory + "/drafter.pth"
        let same = runCLI(["generate", "--drafter", drafter, "--refiner", drafter, "--draft-steps", "2", "--weights", "f16,f32",
                           "--output", NSTemporaryDirectory() + "/never.png"])
        #expect(same.code == 2 && same.err.contains("the drafter and the refiner are one file"), "\(same.err)")
        let run = runCLI(["bench", "--weights", "f16/f32", "--draft-steps", "2", "-r", "1", "--warmup", "0", "--json",
                          "--threads", "1"])
        #expect(run.code == 0, "stderr: \(run.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        let env = try #require(record["environment"] as? [String: Any])
        #expect(env["weight_precision"] as? String == WeightPrecision.float16.effective.rawValue)
        #expect(env["refiner_weight_precision"] as? String == "float32")
    }

    /// `--output-format`: JSON with structured sampling fields, one self-contained JSON object per row, CSV with
    /// one line per row under a fixed header; Markdown names who made each scale; bad or conflicting values refused.
    @Test func outputFormats() throws {
        #expect(try parse(["--output-format", "CSV"]).format == .csv && parse([]).format == .md)
        let base = ["bench", "--draft-steps", "off,2", "-r", "1", "--warmup", "0", "--threads", "1"]
        let json = runCLI(base + ["--output-format", "json"])
        #expect(json.code == 0, "stderr: \(json.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let configurations = try #require(record["configurations"] as? [[String: Any]])
        let sampling = configurations.compactMap { $0["sampling"] as? [String: Any] }
        #expect(sampling.count == 2 && sampling.allSatisfy { $0["cfg"] is Double && $0["top_p"] is Double && $0["seed"] != nil })
        let runs = try #require(record["runs"] as? [[String: Any]])
        #expect(runs.allSatisfy { ($0["sampling"] as? [String: Any])?["top_k"] != nil })

        let jsonl = runCLI(base + ["--output-format", "jsonl"])
        #expect(jsonl.code == 0, "stderr: \(jsonl.err)")
        let lines = jsonl.out.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, steps) in zip(lines, [nil, 2] as [Int?]) {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(row["draft_steps"] as? Int == steps && row["batch"] as? Int == 1)
            #expect((row["environment"] as? [String: Any])?["blas_threads"] as? Int == 1 && row["repeats"] as? Int == 1)
        }

        let csv = runCLI(base + ["--output-format", "csv"])
        #expect(csv.code == 0, "stderr: \(csv.err)")
        let table = csv.out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(table.count == 3 && table[0].map(String.init) == BenchReport.csvHeader)
        #expect(table.allSatisfy { $0.count == BenchReport.csvHeader.count }, "\(csv.out)")
        let column = { (name: String) in BenchReport.csvHeader.firstIndex(of: name)! }
        #expect(table[1][column("models")] == "drafter.pth" && table[2][column("draft_steps")] == "2")
        #expect(table[1][column("transformer_drafter_seconds_per_image")] == "" && table[2][column("transformer_model_seconds_per_image")] == "")
        #expect((Double(table[2][column("seconds_per_image_median")]) ?? 0) > 0)

        let md = runCLI(base)
        #expect(md.code == 0)
        // Configuration 1 (the drafter alone): its per-scale rows name its file; configuration 2 names the role and file.
        let sections = md.out.components(separatedBy: "### Configuration ")
        #expect(sections.count == 3 && sections[1].hasPrefix("1 of 2: models drafter.pth, draft steps -"), "\(md.out)")
        let scaleRows = sections[1].split(separator: "\n").filter { $0.hasPrefix("| 1 |") && $0.split(separator: "|").count == 6 }
        #expect(scaleRows.count == 4 && scaleRows.allSatisfy { $0.split(separator: "|")[3].trimmingCharacters(in: .whitespaces) == "drafter.pth" }, "\(md.out)")
        #expect(!md.out.contains("| model |"), "\(md.out)")
        #expect(sections[2].contains("| 1 | 3 | 3 | refiner refiner.pth |") && md.out.contains("| made by |"), "\(md.out)")

        let bad = runCLI(["bench", "--output-format", "xml"])
        #expect(bad.code == 2 && bad.err.contains("--output-format: got 'xml'"), "\(bad.err)")
        let both = runCLI(["bench", "--json", "--output-format", "csv"])
        #expect(both.code == 2 && both.err.contains("--json"), "\(both.err)")
    }
}
