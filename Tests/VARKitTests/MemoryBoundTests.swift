import Foundation
import Glibc
import Testing
@testable import VARCore
import VARKit
@testable import var_gen

/// Issue 17 class 5, measured: peak RSS of the real `var-gen` process (its kernel high-water mark `VmHWM`,
/// `ChildProcess`), not a prediction.
/// Lazy plans (a count of 10⁹ costs no memory and images appear at once), `--memory-budget` holding for the
/// shipped models at several budgets and counts, and batch requests that cannot be allocated refused.
@Suite("Memory: measured peak RSS", .serialized)
struct MemoryBoundTests {
    var w: String { TinyWeights.directory }

    /// What `var-gen`'s peak RSS may exceed `--memory-budget` by (docs/security.md, docs/cli.md): the part of
    /// the process baseline (executable, Swift runtime, OpenBLAS, libpng, thread stacks) that the prediction's
    /// `MemoryPrediction.defaultRuntimeBytes` does not cover, with a margin.
    static let baselineAllowance = 16 << 20

    static func pngCount(_ dir: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".png") }.count
    }

    /// A huge count is a lazy plan: after a few images, SIGINT; the peak RSS is within 16 MiB of an 8-image run's.
    @Test(arguments: [
        ["generate", "--count", "1000000000"],
        ["generate", "--count", "4000000000", "--class", "0,1,2,2,1,0"],
        ["sample", "--per-class", "100000000"],
        ["sample", "--per-class", "1000000000", "--class", "0,1,2,0,1,2"],
    ])
    func hugeCountsDoNotMaterialiseThePlan(_ args: [String]) throws {
        guard ChildProcess.executable != nil else { return }
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sample = args[0] == "sample"
        for sub in ["small", "huge"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        func output(_ sub: String) -> String { sample ? dir + "/\(sub)/s" : dir + "/\(sub)/g.png" }
        func images(_ sub: String) -> Int { Self.pngCount(sample ? output(sub) : dir + "/" + sub) }
        let env = ["VARGEN_WEIGHTS": w]
        // The reference: 8 images, one batch of the default size 8, the batch the huge runs use too.
        let small = try ChildProcess.run([args[0], sample ? "--per-class" : "--count", "8", "--class", "0", "-o", output("small"), "-q", "--memory-stats"],
                                         environment: env, directory: dir)
        #expect(small.status == 0, "\(small.stderr)")
        let huge = try ChildProcess.run(args + ["-o", output("huge"), "-q"], environment: env, directory: dir,
                                        interrupt: (SIGINT, 20), ready: { images("huge") >= 3 })
        #expect(huge.status == 130, "\(args): \(String(describing: huge.status)) \(huge.stderr)")
        #expect(images("huge") >= 3, "\(args): only \(images("huge")) images before the interrupt")
        #expect(huge.peakRSS <= small.peakRSS + 16 << 20,
                "\(args): peak RSS \(huge.peakRSS >> 20) MiB vs \(small.peakRSS >> 20) MiB for 8 images")
        // No temporary file is left by the interrupt.
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: sample ? output("huge") : dir + "/huge")) ?? [])
            .filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }

    /// Batch requests whose buffers cannot exist are refused before anything is allocated (exit 2).
    @Test func impossibleBatchesAreRefused() throws {
        let budget = runCLI(["bench", "--batch", "99999999999", "--memory-budget", "100M"])
        #expect(budget.code == 2 && budget.err.contains("--batch 99999999999") && budget.err.contains("--memory-budget"),
                "\(budget.err)")
        let machine = runCLI(["bench", "--random", "d16", "--batch", "99999999999"])
        #expect(machine.code == 2 && machine.err.contains("machine's memory"), "\(machine.err)")
        let list = runCLI(["bench", "--batch", "1,99999999999", "--memory-budget", "100M"])
        #expect(list.code == 2, "\(list.err)")
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PNG.write(RGBImage(width: 8, height: 8), to: dir + "/in.png")
        let edit = runCLI(["edit", "--input", dir + "/in.png", "--box", "0,0,1,1", "--count", "4000000000", "-o", dir + "/e.png"])
        #expect(edit.code == 2 && edit.err.contains("--count 4000000000"), "\(edit.err)")
        // The search over batches is logarithmic and overflow-free for any request.
        let p = try? GenerationPipeline.predictMemory(PipelineConfiguration(
            models: .plain(ModelSource(path: w + "/drafter.pth")), tokenizer: w + "/vqvae.pth"))
        if let p {
            let b = p.largestBatch(upTo: Int.max, budget: 1 << 40)
            #expect(b != nil && p.peak(batch: b!).total <= 1 << 40 && p.peak(batch: b! + 1).total > 1 << 40)
        }
    }

    /// `--memory-budget B` holds for the measured peak RSS: generate with the shipped models at several
    /// budgets and counts (`--batch 400`, lowered by the budget), peak ≤ B + `baselineAllowance`; a budget below
    /// one image's need is refused with exit 2 naming the minimum, and that minimum then works.
    @Test func budgetHoldsForMeasuredPeakRSS() throws {
        guard ChildProcess.executable != nil, let shipped = ChildProcess.shippedWeights else { return }
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rows: [String] = []
        for budget in ["40M", "64M", "128M"] {
            for count in [1, 50, 400] {
                let r = try ChildProcess.run(["generate", "--count", String(count), "--batch", "400", "--memory-budget", budget,
                                              "--threads", "2", "--memory-stats", "-o", dir + "/m\(budget)_\(count).png"],
                                             environment: ["VARGEN_WEIGHTS": shipped], directory: dir)
                let bytes = ByteSize.parse(budget)!
                if r.status == 2 {
                    #expect(r.stderr.contains("too small for one image"), "\(budget): \(r.stderr)")
                    rows.append("\(budget) \(count) refused (exit 2)")
                    continue
                }
                #expect(r.status == 0, "\(budget) × \(count): \(r.stderr)")
                let chosen = r.stderr.components(separatedBy: ", batch ").dropFirst().first?.prefix { $0.isNumber } ?? "?"
                rows.append("\(budget) \(count) batch \(chosen) peak \(String(format: "%.1f", Double(r.peakRSS) / 1048576)) MiB")
                #expect(r.peakRSS <= bytes + Self.baselineAllowance,
                        "\(budget) × \(count): peak \(r.peakRSS >> 20) MiB > budget + \(Self.baselineAllowance >> 20) MiB")
            }
        }
        print("memory-budget table (budget, count, batch chosen, measured peak RSS):\n  " + rows.joined(separator: "\n  "))
    }
}
