import Foundation
import VARKit

/// `var-gen bench`: images per second of generate (+ decode), with warm-up and repeats (performance.md §5).
struct BenchCommand: Command {
    static let name = "bench"
    static let summary = "Time generation: warm-up, repeats, median ± sd; Markdown or --json."
    static let usage = "[--batch N] [--repeats R] [--warmup W] [model and sampling options]"
    static let options: [OptionSpec] = ModelOptions.specs + SamplingOptions.specs + [
        .value("batch", "N", "Images per timed call.", default: "1"),
        .value("repeats", "R", "Timed calls.", default: "3"),
        .value("warmup", "W", "Untimed calls first.", default: "1"),
        .flag("json", "Print one JSON record instead of a Markdown table."),
    ] + RuntimeOptions.specs

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var batch: Int, repeats: Int, warmup: Int
    var json: Bool
    var pipeline: Pipeline!
    var vaePath = ""
    var settings = SamplingConfig()

    init(_ p: ParsedOptions, context: CLIContext) throws {
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        batch = try p.int("batch") ?? 1
        repeats = try p.int("repeats") ?? 3
        warmup = try p.int("warmup") ?? 1
        json = p.flag("json")
        guard batch > 0 else { throw UsageError.invalid("batch", String(batch), expected: "a batch size ≥ 1") }
        guard repeats > 0 else { throw UsageError.invalid("repeats", String(repeats), expected: "a count ≥ 1") }
        guard warmup >= 0 else { throw UsageError.invalid("warmup", String(warmup), expected: "a count ≥ 0") }
    }

    mutating func validate(_ context: CLIContext) throws {
        (pipeline, vaePath) = try models.resolve(context)
        settings = try sampling.resolve(for: pipeline)
    }

    func run(_ context: CLIContext) throws {
        runtime.apply(context.console)
        let engine = try Engine(pipeline: pipeline, vaePath: vaePath)
        let n = engine.config.numClasses
        let labels = (0..<batch).map { $0 % n }
        let seeds = settings.seeds(count: batch)
        var times: [Double] = []
        for r in 0..<(warmup + repeats) {
            let t0 = Date()
            let out = try engine.generate(labels: labels, seeds: seeds, sampling: settings)
            precondition(out.images.count == batch)     // keeps the result alive
            if r >= warmup { times.append(Date().timeIntervalSince(t0)) }
        }
        let sorted = times.sorted()
        let median = sorted[sorted.count / 2]
        let mean = times.reduce(0, +) / Double(times.count)
        let sd = (times.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, times.count - 1))).squareRoot()
        let peak = ProcessMemory.current()?.peakResidentBytes ?? 0
        if json {
            let record: [String: Any] = [
                "models": pipeline.modelDescription, "draft_steps": pipeline.draftSteps ?? NSNull(), "batch": batch,
                "repeats": repeats, "seconds_per_call_median": median, "seconds_per_call_sd": sd,
                "seconds_per_image": median / Double(batch), "images_per_second": Double(batch) / median,
                "blas_core": BLAS.coreName, "threads": BLAS.threadCount, "peak_rss_bytes": peak, "sampling": describe(settings),
            ]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            context.console.out(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            context.console.out("| models | batch | s/call (median ± sd) | s/image | images/s | BLAS core | threads | peak RSS |\n")
            context.console.out("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
            context.console.out(String(format: "| %@%@ | %d | %.3f ± %.3f | %.3f | %.2f | %@ | %d | %@ |\n",
                                       pipeline.modelDescription, pipeline.draftSteps.map { " (N=\($0))" } ?? "", batch,
                                       median, sd, median / Double(batch), Double(batch) / median, BLAS.coreName,
                                       BLAS.threadCount, ByteSize.format(peak)))
        }
    }
}
