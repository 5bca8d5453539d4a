import Foundation
import VARKit

/// The Markdown tables of `var-gen bench`.
extension BenchResult {
    static func summaryTable(_ rs: [BenchResult]) -> String {
        var s = "| models | batch | s/image (median) | spread (min–max, sd) | images/s | transformer s/image | "
            + "sampling s/image | decode s/image | peak accounted |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            let tr = r.roles.map { role in
                String(format: "%.3f", r.transformer(role)) + (role == .model ? "" : " (\(role))")
            }.joined(separator: " + ")
            s += String(format: "| %@ | %d | %.3f | %.3f–%.3f, %.3f | %.3f | %@ | %.3f | %.3f | %@ |\n",
                        r.label, r.batch, r.secondsPerImage, r.perImage.min() ?? 0, r.perImage.max() ?? 0, r.sd,
                        r.imagesPerSecond, tr, r.sampling, r.decode, ByteSize.format(r.accountedPeak))
        }
        return s
    }

    static func profileTable(_ rs: [BenchResult]) -> String {
        var s = "Transformer time by operation (seconds per image, medians; GFLOP/s where the operation is a product):\n\n"
            + "| models | batch | model | operation | s/image | share | GFLOP/s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            for role in r.roles where r.samples.contains(where: { $0.profile[role] != nil }) {
                let rows = OpProfile.Op.allCases.map { ($0, r.profile(role, $0)) }
                let total = rows.reduce(0) { $0 + $1.1.seconds }
                for (op, v) in rows where v.seconds > 0 {
                    s += String(format: "| %@ | %d | %@ | %@ | %.4f | %.1f %% | %@ |\n", r.label, r.batch, role.description, op.name,
                                v.seconds, 100 * v.seconds / max(total, 1e-12),
                                v.gflops > 0 ? String(format: "%.1f", v.gflops) : "")
                }
                s += String(format: "| %@ | %d | %@ | **all operations** | %.4f | 100 %% | |\n", r.label, r.batch, role.description, total)
            }
        }
        return s
    }

    /// For every CoDe row whose drafter also ran alone (`--draft-steps off`) at the same batch size: the
    /// drafter alone's seconds over CoDe's. With `--interleave` the calls pair up by round and the speed-up is
    /// the median of the per-round ratios (drift cancels); otherwise the ratio of the medians.
    static func speedUpTable(_ rs: [BenchResult], paired: Bool) -> String {
        var s = "CoDe speed-up over the drafter alone (its seconds per image ÷ CoDe's):\n\n"
            + "| models | batch | drafter alone | transformer | transformer + sampling + decode | pairing "
            + "| KV cache + activations peak |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        var any = false
        for r in rs {
            guard case let .collaborative(plan) = r.pipeline.models,
                  let base = rs.first(where: { b in
                      if case let .plain(m) = b.pipeline.models { m.name == plan.drafter.name && b.batch == r.batch } else { false }
                  }) else { continue }
            any = true
            func ratio(_ f: (BenchSample) -> Double) -> Double {
                if paired && base.samples.count == r.samples.count { return median(zip(base.samples, r.samples).map { f($0) / max(f($1), 1e-12) }) }
                return median(base.samples.map(f)) / max(median(r.samples.map(f)), 1e-12)
            }
            let transformer = ratio { $0.transformer.values.reduce(0, +) }
            let total = ratio(\.total)
            let memory = String(format: "%.2fx (%@ vs %@)", Double(r.kvActivationPeak) / Double(max(base.kvActivationPeak, 1)),
                                ByteSize.format(r.kvActivationPeak), ByteSize.format(base.kvActivationPeak))
            s += String(format: "| %@ | %d | %@ | %.2fx | %.2fx | %@ | %@ |\n", r.label, r.batch, base.label, transformer,
                        total, paired ? "median of \(r.samples.count) paired calls" : "ratio of medians", memory)
        }
        return any ? s : ""
    }

    static func scaleTable(_ rs: [BenchResult]) -> String {
        var s = "Per scale (seconds per call of the whole batch, medians):\n\n"
            + "| models | batch | scale | pn | made by | transformer s | sampling s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            for row in r.scaleRows {
                // CoDe names the role; plain VAR the model's file.
                let maker = row.role == .model ? r.pipeline.modelDescription : row.role.description
                s += String(format: "| %@ | %d | %d | %d | %@ | %.4f | %.4f |\n", r.label, r.batch, row.scale + 1,
                            r.patchSizes[row.scale], maker, row.transformer, row.sampling)
            }
        }
        return s
    }
}
