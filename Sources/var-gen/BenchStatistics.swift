import Foundation
import VARKit

/// The timings of one call (seconds, whole batch).
struct BenchSample {
    var total = 0.0, decode = 0.0, sampling = 0.0
    /// The threads large products used during the call.
    var threads = 0
    /// Transformer seconds by model role ("drafter", "refiner", or "model" for plain VAR).
    var transformer: [ModelRole: Double] = [:]
    /// Per scale: (role, transformer seconds, sampling seconds).
    var scales: [(role: ModelRole, transformer: Double, sampling: Double)] = []

    /// Operation times by model role (with `--profile`).
    var profile: [ModelRole: OpProfile] = [:]

    mutating func record(_ ops: OpProfile, role: ModelRole) {
        profile[role] = (profile[role] ?? OpProfile()) + ops
    }

    mutating func record(_ p: GenerationProgress) {
        let role = ModelRole(p.stage)
        transformer[role, default: 0] += p.transformerSeconds
        sampling += p.samplingSeconds
        scales.append((role, p.transformerSeconds, p.samplingSeconds))
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One row of the sweep: a configuration (models, CoDe split, weights, threads, sampling) at one batch size.
struct BenchResult {
    var pipeline: PipelineConfiguration
    var batch: Int
    var samples: [BenchSample]
    var patchSizes: [Int]
    var memory: MemoryAccountant.Report
    /// The configuration's index in the sweep (0-based; reports number them from 1).
    var configuration = 0
    /// Which value of each swept list except `--draft-steps` (`BenchSweep.Point.key`).
    var key: [Int] = []
    /// The threads the calls ran with.
    var threads = 0

    /// The precision the weights were held in (after the CPU's fallback): the plain model's or the drafter's,
    /// and the refiner's (nil for plain VAR).
    var weights: (drafter: WeightPrecision, refiner: WeightPrecision?) {
        switch pipeline.models {
        case let .plain(m): return (m.precision.effective, nil)
        case let .collaborative(plan): return (plan.drafter.precision.effective, plan.refiner.precision.effective)
        }
    }
    /// The drafter running alone (`--draft-steps off`), the baseline of the CoDe speed-up table.
    var drafterAlone = false

    var accountedPeak: Int { memory.total.peak }
    /// Peak KV cache plus peak activations (each category's own peak), bytes.
    var kvActivationPeak: Int { memory[.kvCache].peak + memory[.activations].peak }

    var roles: [ModelRole] {
        if case .collaborative = pipeline.models { return [.drafter, .refiner] }
        return [.model]
    }
    var perImage: [Double] { samples.map { $0.total / Double(batch) } }
    var secondsPerImage: Double { median(perImage) }
    var imagesPerSecond: Double { median(samples.map { Double(batch) / $0.total }) }
    var sd: Double {
        let xs = perImage, m = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(1, xs.count - 1))).squareRoot()
    }
    func transformer(_ role: ModelRole) -> Double { median(samples.map { ($0.transformer[role] ?? 0) / Double(batch) }) }
    var sampling: Double { median(samples.map { $0.sampling / Double(batch) }) }
    var decode: Double { median(samples.map { $0.decode / Double(batch) }) }
    /// Per scale, medians over the repeats of the whole call's seconds.
    var scaleRows: [(scale: Int, role: ModelRole, transformer: Double, sampling: Double)] {
        guard let first = samples.first else { return [] }
        return first.scales.indices.map { i in
            (i, first.scales[i].role, median(samples.map { $0.scales[i].transformer }),
             median(samples.map { $0.scales[i].sampling }))
        }
    }
    var label: String {
        pipeline.modelDescription + (pipeline.draftSteps.map { " N=\($0)" } ?? "")
    }

    /// Median seconds per image of `op` for `role`, and the FLOP rate.
    func profile(_ role: ModelRole, _ op: OpProfile.Op) -> (seconds: Double, gflops: Double) {
        let secs = samples.map { ($0.profile[role]?[op] ?? 0) / Double(batch) }
        let flops = (samples.first?.profile[role]?.flops(op) ?? 0) / Double(batch)
        let s = median(secs)
        return (s, s > 0 ? flops / s / 1e9 : 0)
    }
}
