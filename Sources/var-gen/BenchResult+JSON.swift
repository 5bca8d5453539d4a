import Foundation
import VARKit

extension BenchResult {
    /// The configuration's settings as JSON fields (a per-scale sampling setting is a list).
    var configurationJSON: [String: Any] {
        var names: [String: Any] = ["model": NSNull(), "drafter": NSNull(), "refiner": NSNull()]
        switch pipeline.models {
        case let .plain(m): names["model"] = m.name
        case let .collaborative(plan): names["drafter"] = plan.drafter.name; names["refiner"] = plan.refiner.name
        }
        return names.merging([
            "configuration": configuration + 1, "models": pipeline.modelDescription,
            "draft_steps": pipeline.draftSteps ?? NSNull(), "threads": threads,
            "weight_precision": weights.drafter.rawValue, "refiner_weight_precision": weights.refiner?.rawValue ?? NSNull(),
            "sampling": BenchReport.samplingJSON(pipeline.sampling),
        ]) { a, _ in a }
    }

    /// The row as a JSON object (`--output-format json`/`jsonl`): the configuration's fields, then the figures.
    var json: [String: Any] {
        var t: [String: Any] = [:]
        for r in roles { t[r.description] = transformer(r) }
        return configurationJSON.merging([
            "batch": batch,
            "seconds_per_image_median": secondsPerImage, "seconds_per_image_sd": sd,
            "seconds_per_image_min": perImage.min() ?? 0, "seconds_per_image_max": perImage.max() ?? 0,
            "images_per_second_median": imagesPerSecond,
            "transformer_seconds_per_image": t, "sampling_seconds_per_image": sampling,
            "decode_seconds_per_image": decode, "accounted_peak_bytes": accountedPeak,
            "kv_cache_peak_bytes": memory[.kvCache].peak, "activations_peak_bytes": memory[.activations].peak,
            "scales": scaleRows.map { ["scale": $0.scale, "pn": patchSizes[$0.scale], "role": $0.role.description,
                                        "model": modelName($0.role),
                                        "transformer_seconds_per_call": $0.transformer,
                                        "sampling_seconds_per_call": $0.sampling] as [String: Any] },
        ]) { a, _ in a }
    }

    /// The file of the model that plays `role` ("drafter.pth"; the plain model's for `.model`).
    func modelName(_ role: ModelRole) -> String {
        switch (role, pipeline.models) {
        case let (.refiner, .collaborative(plan)): return plan.refiner.name
        default: return pipeline.primary.name
        }
    }
}
