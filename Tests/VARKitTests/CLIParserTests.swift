import Foundation
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

@Suite("CLI: option parser, validation messages, OpenBLAS core choice")
struct CLIParserTests {
    let specs: [OptionSpec] = [.value("top-k", "K", "k"), .value("seed", "N", "s"), .flag("grid", "g"), .value("cfg", "X", "c")]

    @Test func parsesValuesFlagsAndPositionals() throws {
        let p = try OptionParser.parse(["in.png", "--top-k", "5", "--seed=7", "--grid", "--cfg", "-1.5", "--", "--x"], specs: specs)
        #expect(p.values == ["top-k": "5", "seed": "7", "cfg": "-1.5"])
        #expect(p.flag("grid"))
        #expect(p.positionals == ["in.png", "--x"])
        #expect(try OptionParser.parse(["--grid=false"], specs: specs).flag("grid") == false)
        #expect(try OptionParser.parse(["--help"], specs: specs).helpRequested)
    }

    @Test func unknownOptionsSuggestTheClosestName() {
        #expect(throws: UsageError("unknown option '--topk'; did you mean '--top-k'? (see --help)")) {
            try OptionParser.parse(["--topk", "3"], specs: specs)
        }
        #expect(throws: UsageError("--seed needs a value (N)")) { try OptionParser.parse(["--seed"], specs: specs) }
        #expect(throws: UsageError("--seed needs a value (N)")) { try OptionParser.parse(["--seed", "--grid"], specs: specs) }
        #expect(throws: UsageError.self) { try OptionParser.parse(["--grid=maybe"], specs: specs) }
        #expect(throws: UsageError.self) { try OptionParser.parse(["-x"], specs: specs) }
    }

    @Test func helpIsGeneratedFromTheTable() {
        let r = runCLI(["generate", "--help"])
        #expect(r.code == 0)
        for name in GenerateCommand.options.map(\.name) { #expect(r.out.contains("--\(name)"), "missing --\(name)") }
        #expect(runCLI([]).code == 2)
        #expect(runCLI(["--help"]).out.contains("sample"))
        let typo = runCLI(["genrate"])
        #expect(typo.code == 2 && typo.err.contains("did you mean 'generate'"))
    }

    /// Every validation failure exits with 2 before any work and names the flag and the accepted range.
    /// (The tiny shipped model: 3 classes, vocabulary 64, 4 scales.)
    @Test(arguments: [
        (["--cfg", "-1"], "--cfg: got '-1'; expected a guidance strength in [0, 100]"),
        (["--top-p", "1.5"], "--top-p: got '1.5'; expected a value in [0, 1] (0 = off)"),
        (["--top-k", "65"], "--top-k: got 65; expected a value in [0, 64]"),
        (["--top-k", "-1"], "--top-k: got '-1'; expected values in [0, V] (0 = off)"),
        (["--top-k", "1,2"], "--top-k: got 2 values; expected 1 or one per scale (4)"),
        (["--temp", "0"], "--temp: got '0'; expected temperatures in [0.001, 1000]"),
        (["--temp", "1,1"], "--temp: got 2 values; expected 1 or one per scale (4)"),
        (["--draft-steps", "4"], "--draft-steps: got 4; expected 1…3"),
        (["--draft-steps", "0"], "--draft-steps: got 0; expected 1…3"),
        (["--class", "3"], "--class: class 3 is outside the model's range 0…2"),
        (["--class", "dgo"], "--class: unknown class 'dgo'"),
        (["--class", "dgo"], "did you mean 'dog'?"),
        (["--count", "0"], "--count: got '0'; expected a number of images ≥ 1"),
        (["--batch", "-2"], "--batch: got '-2'; expected a batch size ≥ 1"),
        (["--seed", "x"], "--seed: got 'x'; expected an integer in 0…4294967295, or -1/random for a random seed"),
        (["--model", "/no/such.pth"], "--model: file '/no/such.pth' does not exist"),
        (["--vae", "/no/vae.pth"], "--vae: file '/no/vae.pth' does not exist"),
        (["--output", "/no/such/dir/x.png"], "--output: directory '/no/such/dir' does not exist"),
        (["--model", "m.pth", "--drafter", "d.pth"], "--model (plain VAR) cannot be combined"),
        (["--memory-budget", "lots"], "--memory-budget: got 'lots'; expected a size"),
        (["--threads", "0"], "--threads: got '0'; expected a thread count ≥ 1"),
    ] as [([String], String)])
    func validationErrorsExitWith2(arguments: [String], message: String) {
        let r = runCLI(["generate"] + arguments)
        #expect(r.code == 2)
        #expect(r.err.contains(message), "stderr: \(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func missingWeightsGiveAHint() {
        let r = runCLI(["generate"], environment: [:], in: "/")
        #expect(r.code == 2)
        #expect(r.err.contains("HINT: pass --drafter FILE or set VARGEN_WEIGHTS=DIR"))
    }

    @Test func otherCommandsValidateToo() {
        #expect(runCLI(["sample"]).err.contains("--output DIR is required"))
        #expect(runCLI(["sample", "--output", "/tmp/x", "--shard", "2/2"]).err.contains("--shard: got '2/2'"))
        #expect(runCLI(["sample", "--output", "/tmp/x", "--classes", "0-5"]).err.contains("outside the model's range 0…2"))
        #expect(runCLI(["edit", "--input", "/no.png", "--box", "0,0,1,1"]).err.contains("--input: file '/no.png' does not exist"))
        #expect(runCLI(["edit", "--input", "a.png"]).err.contains("--mask PNG or --box"))
        #expect(runCLI(["edit", "--input", "a.png", "--box", "0.5,0,0.2,1"]).err.contains("y0 < y1"))
        #expect(runCLI(["decode"]).code == 2)
        #expect(runCLI(["inspect", "/no/file"]).code == 2)
        #expect(runCLI(["pack", "/no/dir"]).err.contains("DIR: directory '/no/dir' does not exist"))
    }

    /// The re-exec rule of docs/performance.md §1: only after a Prescott fallback, never over the user's choice, never twice,
    /// and never a core the CPU cannot run (this machine kind is AVX2-only AMD: Haswell, not SkylakeX).
    @Test func openBLASCoreChoice() {
        let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]
        let avx512 = avx2.union(["avx512f", "avx512bw"])
        #expect(OpenBLASCoreFix.coreToForce(detected: "Prescott", environment: [:], cpuFlags: avx512) == "SkylakeX")
        #expect(OpenBLASCoreFix.coreToForce(detected: "Prescott", environment: [:], cpuFlags: avx2) == "Haswell")
        #expect(OpenBLASCoreFix.coreToForce(detected: "Prescott", environment: [:], cpuFlags: ["sse3"]) == nil)
        #expect(OpenBLASCoreFix.coreToForce(detected: "Zen", environment: [:], cpuFlags: avx2) == nil)
        #expect(OpenBLASCoreFix.coreToForce(detected: "Prescott", environment: ["OPENBLAS_CORETYPE": "Sandybridge"], cpuFlags: avx512) == nil)
        #expect(OpenBLASCoreFix.coreToForce(detected: "Prescott", environment: [OpenBLASCoreFix.guardVariable: "1"], cpuFlags: avx512) == nil)
        #expect(OpenBLASCoreFix.cpuFlags(cpuinfo: "processor\t: 0\nflags\t\t: fpu avx2 fma\nbugs\t: x\n") == ["fpu", "avx2", "fma"])
    }

    @Test func sampleSeedsAndShards() {
        #expect(SampleCommand.seed(base: 0, classID: 0, index: 0) == 0)
        #expect(SampleCommand.seed(base: 5, classID: 2, index: 3) == 5 + 2 * 1_000_003 + 3)
        #expect(SampleCommand.seed(base: UInt64(UInt32.max), classID: 999, index: 49) < 1 << 32)
        let classes = [0, 1, 2, 7]
        let single = SampleCommand.pairs(classes: classes, perClass: 5, shard: 0, of: 1)
        #expect(single.count == 20)
        for n in [2, 3, 7] {
            let shards = (0..<n).map { SampleCommand.pairs(classes: classes, perClass: 5, shard: $0, of: n) }
            let union = shards.flatMap { $0 }.map { "\($0.classID)_\($0.index)" }
            #expect(union.count == 20 && Set(union) == Set(single.map { "\($0.classID)_\($0.index)" }))
        }
    }

    @Test func defaultSamplingFollowsThePipeline() throws {
        let options = try SamplingOptions(try OptionParser.parse([], specs: SamplingOptions.specs))
        // An official checkpoint (configuration inferred, no JSON): the VAR demo's settings alone, the CoDe
        // script's (top-k 600, temperature 1.1 for scales 0–6) as a drafter/refiner pair.
        func configuration(_ models: PipelineConfiguration.Models) throws -> PipelineConfiguration {
            try PipelineConfiguration(models: models, tokenizer: "vqvae.pth")
        }
        let d30 = ModelSource(path: "d30.pth", config: .official(depth: 30))
        let d16 = ModelSource(path: "d16.pth", config: .official(depth: 16))
        let plain = try options.resolve(for: configuration(.plain(d16)))
        #expect(describe(plain) == "cfg=4 top_k=900 top_p=0.95 temp=1")
        let code = try options.resolve(for: configuration(.collaborative(CoDePlan(drafter: d30, refiner: d16, draftSteps: 8))))
        #expect(describe(code) == "cfg=4 top_k=600 top_p=0.95 temp=1.1,1.1,1.1,1.1,1.1,1.1,1.1,1,1,1")
        // A model JSON's own defaults win in both modes.
        var tuned = VARConfig.official(depth: 16)
        tuned.sampling = SamplingDefaults(cfg: 2, topK: 50, topP: 0, temperature: .uniform(0.9), moreSmooth: false)
        let own = ModelSource(path: "t.pth", config: tuned)
        #expect(describe(try options.resolve(for: configuration(.plain(own)))) == "cfg=2 top_k=50 top_p=0 temp=0.9")
        #expect(describe(try options.resolve(for: configuration(.collaborative(CoDePlan(drafter: own, refiner: own, draftSteps: 4)))))
                == "cfg=2 top_k=50 top_p=0 temp=0.9")
    }

    @Test func classListsAndNames() throws {
        let c = TinyWeights.varConfig(depth: 1)
        #expect(try ClassList.parse("0,dog,FISH,0-1,uncond", flag: "class", config: c) == [0, 1, 2, 0, 1, 3])
        #expect(try ClassList.parse("all", flag: "class", config: c) == [0, 1, 2])
        #expect(throws: UsageError.self) { try ClassList.parse("2-1", flag: "class", config: c) }
    }

    @Test func outputNames() {
        #expect(GenerateCommand.outputPath("out/x.png", index: 2, count: 3) == "out/x_2.png")
        #expect(GenerateCommand.outputPath("x.png", index: 0, count: 1) == "x.png")
        #expect(GenerateCommand.outputPath("x", index: 1, count: 2) == "x_1.png")
        #expect(PackCommand.ordered(["10_0.png", "2_1.png", "2_0.png", "a.png", ".tmp.png", "n.txt"]) == ["2_0.png", "2_1.png", "10_0.png", "a.png"])
    }

    @Test func editMaskFromBox() {
        // Inpainting the centre half of a 4×4 grid: rows/cols [1, 3) are generated (keep = false).
        let keep = EditCommand.keepMask(box: [0.25, 0.25, 0.75, 0.75], side: 4, outpaint: false)
        #expect(keep.enumerated().filter { $0.element == 0 }.map(\.offset) == [5, 6, 9, 10])
        let out = EditCommand.keepMask(box: [0.25, 0.25, 0.75, 0.75], side: 4, outpaint: true)
        #expect(out == keep.map { 1 - $0 })
        var img = RGBImage(width: 8, height: 8)
        for y in 0..<4 { for x in 0..<8 { for c in 0..<3 { img.pixels[(y * 8 + x) * 3 + c] = 255 } } }   // top half white
        #expect(EditCommand.keepMask(image: img, side: 4) == Array(repeating: 0, count: 8) + Array(repeating: 1, count: 8))
    }
}
