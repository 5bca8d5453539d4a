import Foundation
import VARKit

/// The batch a generating command uses, from `--batch`, `--memory-budget` and the memory prediction: checked
/// before any model is loaded.
enum BatchPlan {
    /// The machine's physical memory: the budget when none is given (a batch predicted above it is lowered,
    /// so that no request, e.g. `--batch 99999999999`, allocates more than the machine has).
    static var physicalMemory: Int {
        let bytes = ProcessInfo.processInfo.physicalMemory
        return bytes == 0 || bytes > UInt64(Int.max) ? Int.max : Int(bytes)
    }

    /// How much faster than predicted the measured peak RSS may grow per image of a batch. Measured with the
    /// shipped models (`MemoryBoundTests`): 3.5 MiB per image against 2.7 MiB predicted (×1.30: freed decoder
    /// buffers that the allocator keeps, per-image convolution blocks of small images), so the budget is
    /// applied to the batch-dependent part with a ×1.5 margin.
    static let perImageMargin = 1.5

    /// The chosen batch and, when it is lower than requested, a note saying why.
    struct Choice { var batch: Int; var note: String? }

    /// The largest batch ≤ `requested` whose predicted peak plus `heldBytes` (what the command keeps for the
    /// whole run, e.g. a grid's images) fits in `budget` (nil: the physical memory). With a budget given, a run
    /// where one image does not fit is refused (exit 2) naming the minimum budget.
    static func choose(requested: Int, prediction: MemoryPrediction, budget: Int?, heldBytes: Int = 0) throws -> Choice {
        let limit = budget ?? physicalMemory
        let available = limit > heldBytes ? limit - heldBytes : 0
        let one = prediction.peak(batch: 1)
        // The part of the peak that grows with the batch is counted `perImageMargin` times (see there).
        let search = available >= one.total ? one.total + Int(Double(available - one.total) / perImageMargin) : available
        guard let b = prediction.largestBatch(upTo: requested, budget: search) else {
            guard let budget else { return Choice(batch: 1, note: nil) }
            let need = one.total.addingReportingOverflow(heldBytes).partialValue
            throw UsageError("--memory-budget \(ByteSize.format(budget)) is too small for one image: it needs a predicted peak of "
                             + "\(ByteSize.format(need)) (\(one.phase)\(heldBytes > 0 ? ", with \(ByteSize.format(heldBytes)) held for the whole run" : ""), "
                             + "process baseline included)\nHINT: give --memory-budget \(ByteSize.format(need)) or more, or use smaller models")
        }
        guard b < requested else { return Choice(batch: b, note: nil) }
        let peak = ByteSize.format(prediction.peak(batch: b).total)
        let why = budget.map { "--memory-budget \(ByteSize.format($0))" } ?? "the machine's \(ByteSize.format(limit)) of memory"
        return Choice(batch: b, note: "\(why): batch \(b) instead of \(requested) (predicted peak \(peak))")
    }
}

extension BatchPlan {
    /// `bench` (and `edit --count`, made in one call): every `--batch` must fit the budget (`--memory-budget`, else the physical memory) as it is —
    /// a benchmark of another batch than asked would mislead — so a batch that does not is refused (exit 2)
    /// naming the largest that fits. Random weights are predicted with the official VQVAE (its weights
    /// uncounted, ~0.4 GB: the check is about the batch-dependent part).
    static func requireFits(batches: [Int], pipelines: [PipelineConfiguration], random: Bool, budget: Int?,
                            flag: String = "batch") throws {
        for configuration in pipelines {
            let prediction = random
                ? GenerationPipeline.predictMemory(configuration, vqvae: .official256, vqvaeWeightBytes: 0, vqvaeFileBytes: 0)
                : try GenerationPipeline.predictMemory(configuration)
            for batch in batches {
                let choice = try choose(requested: batch, prediction: prediction, budget: budget)
                guard choice.batch < batch else { continue }
                let limit = budget.map { "--memory-budget \(ByteSize.format($0))" } ?? "the machine's memory (\(ByteSize.format(physicalMemory)))"
                throw UsageError("--\(flag) \(batch): the predicted peak exceeds \(limit); at most \(choice.batch) images per call fit"
                                 + " with \(configuration.modelDescription)\nHINT: give --\(flag) \(choice.batch) or less")
            }
        }
    }
}
