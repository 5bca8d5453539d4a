import Foundation
import VARKit

extension BenchResult {
    /// The row as a JSON object (`--output-format json`/`jsonl`).
    var json: [String: Any] {
        var t: [String: Any] = [:]
        for r in roles { t[r.description] = transformer(r) }
        return [
            "models": pipeline.modelDescription, "draft_steps": pipeline.draftSteps ?? NSNull(), "batch": batch,
            "sampling": BenchReport.samplingJSON(pipeline.sampling),
            "seconds_per_image_median": secondsPerImage, "seconds_per_image_sd": sd,
            "seconds_per_image_min": perImage.min() ?? 0, "seconds_per_image_max": perImage.max() ?? 0,
            "images_per_second_median": imagesPerSecond,
            "transformer_seconds_per_image": t, "sampling_seconds_per_image": sampling,
            "decode_seconds_per_image": decode, "accounted_peak_bytes": accountedPeak,
            "kv_cache_peak_bytes": memory[.kvCache].peak, "activations_peak_bytes": memory[.activations].peak,
            "scales": scaleRows.map { ["scale": $0.scale, "pn": patchSizes[$0.scale], "model": $0.role.description,
                                        "transformer_seconds_per_call": $0.transformer,
                                        "sampling_seconds_per_call": $0.sampling] as [String: Any] },
        ]
    }
}
