import Foundation
import VARKit

/// The Markdown tables of `var-gen bench`.
extension BenchResult {
    /// One row per configuration and batch size: `config` (when numbered), a cell per setting in `columns`,
    /// then the figures.
    static func summaryTable(_ rs: [BenchResult], columns: [String], numbered: Bool) -> String {
        let head = (numbered ? ["config"] : []) + columns + ["batch", "s/image (median)", "spread (min–max, sd)", "images/s",
                                                             "transformer s/image", "sampling s/image", "decode s/image", "peak accounted"]
        var s = "| " + head.joined(separator: " | ") + " |\n|" + String(repeating: " --- |", count: head.count) + "\n"
        for r in rs {
            let tr = r.roles.map { role in
                String(format: "%.3f", r.transformer(role)) + (role == .model ? "" : " (\(role))")
            }.joined(separator: " + ")
            let settings = columns.map { title in r.parameters.first { $0.title == title }!.text }
            let cells = (numbered ? [String(r.configuration + 1)] : []) + settings + [
                String(r.batch), String(format: "%.3f", r.secondsPerImage),
                String(format: "%.3f–%.3f, %.3f", r.perImage.min() ?? 0, r.perImage.max() ?? 0, r.sd),
                String(format: "%.3f", r.imagesPerSecond), tr, String(format: "%.3f", r.sampling), String(format: "%.3f", r.decode),
                ByteSize.format(r.accountedPeak)]
            s += "| " + cells.joined(separator: " | ") + " |\n"
        }
        return s
    }

    static func profileTable(_ rs: [BenchResult], numbered: Bool) -> String {
        var s = "Transformer time by operation (seconds per image, medians; GFLOP/s where the operation is a product):\n\n"
            + "| models | batch | model | operation | s/image | share | GFLOP/s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            let name = r.name(numbered: numbered)
            for role in r.roles where r.samples.contains(where: { $0.profile[role] != nil }) {
                let rows = OpProfile.Op.allCases.map { ($0, r.profile(role, $0)) }
                let total = rows.reduce(0) { $0 + $1.1.seconds }
                for (op, v) in rows where v.seconds > 0 {
                    s += String(format: "| %@ | %d | %@ | %@ | %.4f | %.1f %% | %@ |\n", name, r.batch, role.description, op.name,
                                v.seconds, 100 * v.seconds / max(total, 1e-12),
                                v.gflops > 0 ? String(format: "%.1f", v.gflops) : "")
                }
                s += String(format: "| %@ | %d | %@ | **all operations** | %.4f | 100 %% | |\n", name, r.batch, role.description, total)
            }
        }
        return s
    }

    /// For every CoDe row whose drafter also ran alone (`--draft-steps off`) with the same other settings and
    /// batch size: the drafter alone's seconds over CoDe's. With `--interleave` the calls pair up by round and
    /// the speed-up is the median of the per-round ratios (drift cancels); otherwise the ratio of the medians.
    static func speedUpTable(_ rs: [BenchResult], paired: Bool, numbered: Bool) -> String {
        var s = "CoDe speed-up over the drafter alone (its seconds per image ÷ CoDe's):\n\n"
            + "| models | batch | drafter alone | transformer | transformer + sampling + decode | pairing "
            + "| KV cache + activations peak |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        var any = false
        for r in rs {
            guard case .collaborative = r.pipeline.models,
                  let base = rs.first(where: { $0.drafterAlone && $0.key == r.key && $0.batch == r.batch }) else { continue }
            any = true
            func ratio(_ f: (BenchSample) -> Double) -> Double {
                if paired && base.samples.count == r.samples.count { return median(zip(base.samples, r.samples).map { f($0) / max(f($1), 1e-12) }) }
                return median(base.samples.map(f)) / max(median(r.samples.map(f)), 1e-12)
            }
            let transformer = ratio { $0.transformer.values.reduce(0, +) }
            let total = ratio(\.total)
            let memory = String(format: "%.2fx (%@ vs %@)", Double(r.kvActivationPeak) / Double(max(base.kvActivationPeak, 1)),
                                ByteSize.format(r.kvActivationPeak), ByteSize.format(base.kvActivationPeak))
            s += String(format: "| %@ | %d | %@ | %.2fx | %.2fx | %@ | %@ |\n", r.name(numbered: numbered), r.batch,
                        base.name(numbered: numbered), transformer, total,
                        paired ? "median of \(r.samples.count) paired calls" : "ratio of medians", memory)
        }
        return any ? s : ""
    }

    /// The rows of one configuration, per scale: which model made it (the CoDe role and its file, or the plain
    /// model's file) and its seconds.
    static func scaleTable(_ rs: [BenchResult]) -> String {
        var s = "Per scale (seconds per call of the whole batch, medians):\n\n"
            + "| batch | scale | pn | made by | transformer s | sampling s |\n| --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            for row in r.scaleRows {
                s += String(format: "| %d | %d | %d | %@ | %.4f | %.4f |\n", r.batch, row.scale + 1,
                            r.patchSizes[row.scale], r.maker(row.role), row.transformer, row.sampling)
            }
        }
        return s
    }

    /// Who made a scale: "drafter drafter.pth", "refiner refiner.pth", or the plain model's file.
    func maker(_ role: ModelRole) -> String {
        role == .model ? modelName(role) : "\(role) \(modelName(role))"
    }
}
