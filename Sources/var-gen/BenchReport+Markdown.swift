import Foundation
import VARKit

extension BenchReport {
    /// The environment lines, the settings every configuration shares, the summary table (one row per
    /// configuration and batch, a column for each setting that varies), then per configuration a header and its
    /// per-scale table, and the speed-up (when a drafter ran alone) and profile tables.
    var markdown: String {
        var s = environment.markdown
            + "- \(warmup) warm-up + \(repeats) timed calls per row; medians over the timed calls; "
            + "spread = min–max of s/image\n- process peak RSS (whole run): \(ByteSize.format(peakRSS))\n"
        let (shared, varying) = splitParameters
        s += "- " + (numbered ? "every configuration: " : "configuration: ")
            + shared.map { "\($0.title) \($0.text)" }.joined(separator: ", ") + "\n\n"
        s += BenchResult.summaryTable(results, columns: varying, numbered: numbered) + "\n"
        for (i, rows) in configurations.enumerated() {
            if numbered {
                let settings = varying.map { title in "\(title) \(rows[0].parameters.first { $0.title == title }!.text)" }
                s += "### Configuration \(rows[0].configuration + 1) of \(configurations.count): "
                    + settings.joined(separator: ", ") + "\n\n"
            }
            s += BenchResult.scaleTable(rows) + (i + 1 < configurations.count ? "\n" : "")
        }
        let speedUps = BenchResult.speedUpTable(results, paired: paired, numbered: numbered)
        if !speedUps.isEmpty { s += "\n" + speedUps }
        if profile { s += "\n" + BenchResult.profileTable(results, numbered: numbered) }
        return s
    }

    /// Whether the report has several configurations (rows are then numbered).
    var numbered: Bool { configurations.count > 1 }

    /// The rows grouped by configuration, in the order they first appear.
    var configurations: [[BenchResult]] {
        var order: [Int] = []
        for r in results where !order.contains(r.configuration) { order.append(r.configuration) }
        return order.map { c in results.filter { $0.configuration == c } }
    }

    /// The settings with one value in every row, and the titles of those that vary (always `models` first).
    var splitParameters: (shared: [BenchParameter], varying: [String]) {
        guard let first = results.first else { return ([], ["models"]) }
        var shared: [BenchParameter] = [], varying: [String] = ["models"]
        for (i, p) in first.parameters.enumerated() where p.title != "models" {
            if results.allSatisfy({ $0.parameters[i].text == p.text }) { shared.append(p) } else { varying.append(p.title) }
        }
        return (shared, varying)
    }
}
