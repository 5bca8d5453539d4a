import Foundation
import VARKit

extension BenchReport {
    /// The environment lines, then the summary, per-scale, speed-up (when a drafter ran alone) and profile tables.
    var markdown: String {
        var s = environment.markdown + configurationLines
            + "- \(warmup) warm-up + \(repeats) timed calls per row; medians over the timed calls; "
            + "spread = min–max of s/image\n- process peak RSS (whole run): \(ByteSize.format(peakRSS))\n\n"
        s += BenchResult.summaryTable(results) + "\n" + BenchResult.scaleTable(results)
        let speedUps = BenchResult.speedUpTable(results, paired: paired)
        if !speedUps.isEmpty { s += "\n" + speedUps }
        if profile { s += "\n" + BenchResult.profileTable(results) }
        return s
    }

    /// The sampling settings: one line when every configuration shares them, else one line per configuration.
    var configurationLines: String {
        let labels = results.reduce(into: [String]()) { if !$0.contains($1.label) { $0.append($1.label) } }
        let distinct = Set(settings.map(describe))
        if distinct.count <= 1 { return "- sampling: \(distinct.first ?? "")\n" }
        return labels.map { label in
            let r = results.first { $0.label == label }!
            return "- \(label): \(describe(r.pipeline.sampling))\n"
        }.joined()
    }
}
