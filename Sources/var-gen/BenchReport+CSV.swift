import Foundation
import VARKit

extension BenchReport {
    /// The CSV columns: environment, the configuration's settings (each its own column), then the row's figures
    /// (seconds per image unless named otherwise; a per-scale setting is its values joined by `/`; transformer
    /// time by role, empty when the role did not run).
    static let csvHeader = [
        "commit", "cpu", "blas_core", "configuration", "models", "model", "drafter", "refiner", "draft_steps",
        "weight_precision", "refiner_weight_precision", "threads", "batch", "repeats", "warmup",
        "cfg", "top_k", "top_p", "temperature", "more_smooth", "seed",
        "seconds_per_image_median", "seconds_per_image_sd", "seconds_per_image_min", "seconds_per_image_max",
        "images_per_second_median", "transformer_model_seconds_per_image", "transformer_drafter_seconds_per_image",
        "transformer_refiner_seconds_per_image", "sampling_seconds_per_image", "decode_seconds_per_image",
        "accounted_peak_bytes", "kv_cache_peak_bytes", "activations_peak_bytes",
    ]

    var csv: String {
        let e = environment
        let rows = results.map { r -> [String] in
            let s = r.pipeline.sampling
            let time = { (role: ModelRole) in r.roles.contains(role) ? "\(r.transformer(role))" : "" }
            var files = ["", "", ""]
            switch r.pipeline.models {
            case let .plain(m): files[0] = m.name
            case let .collaborative(plan): files[1] = plan.drafter.name; files[2] = plan.refiner.name
            }
            return [e.commit, e.cpu, e.blasCore, "\(r.configuration + 1)", r.pipeline.modelDescription] + files
                + [r.pipeline.draftSteps.map(String.init) ?? "", r.weights.drafter.rawValue, r.weights.refiner?.rawValue ?? "",
                   "\(r.threads)", "\(r.batch)", "\(repeats)", "\(warmup)",
                   "\(s.cfg)", perScaleText(s.topK) { "\($0)" }, "\(s.topP)", perScaleText(s.temperature) { "\($0)" },
                   "\(s.moreSmooth)", "\(s.seed)",
                   "\(r.secondsPerImage)", "\(r.sd)", "\(r.perImage.min() ?? 0)", "\(r.perImage.max() ?? 0)",
                   "\(r.imagesPerSecond)", time(.model), time(.drafter), time(.refiner), "\(r.sampling)", "\(r.decode)",
                   "\(r.accountedPeak)", "\(r.memory[.kvCache].peak)", "\(r.memory[.activations].peak)"]
        }
        return CSV.table(header: Self.csvHeader, rows: rows)
    }
}
