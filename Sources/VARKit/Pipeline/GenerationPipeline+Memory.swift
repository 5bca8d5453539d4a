/// Memory planning: the prediction made before loading, and batch sizes under a budget.
extension GenerationPipeline {
    /// The predicted peak of batches of `batch` images.
    public func predictMemory(batch: Int) -> MemoryPrediction.Peak {
        prediction.peak(batch: batch)
    }

    /// The largest batch ≤ `requested` whose predicted peak fits in `budget` bytes (nil budget: `requested`);
    /// nil if even one image does not fit.
    public func batchSize(upTo requested: Int, budget: Int?) -> Int? {
        guard let budget else { return requested }
        return prediction.largestBatch(upTo: requested, budget: budget)
    }

    /// The run's memory from the configuration and file sizes alone (reads only the VQVAE's tensor index).
    public static func predictMemory(_ configuration: PipelineConfiguration) throws -> MemoryPrediction {
        let checkpoint = try Checkpoint(path: configuration.tokenizer)
        return predictMemory(configuration,
                             vqvae: try VQVAEConfig.forCheckpoint(at: configuration.tokenizer, checkpoint),
                             vqvaeWeightBytes: VQVAE.weightBytes(checkpoint: checkpoint),
                             vqvaeFileBytes: fileSize(configuration.tokenizer))
    }

    /// The prediction for a VQVAE described by its configuration and sizes (model files that do not exist,
    /// such as random weights' labels, count 0 bytes of pages).
    public static func predictMemory(_ configuration: PipelineConfiguration, vqvae: VQVAEConfig, vqvaeWeightBytes: Int,
                                     vqvaeFileBytes: Int) -> MemoryPrediction {
        let models = configuration.roles.map { entry in
            MemoryPrediction.Model(role: entry.role, config: entry.source.config,
                                   fileBytes: entry.source.fileBytes, precision: entry.source.precision)
        }
        return MemoryPrediction(vqvae: vqvae, vqvaeWeightBytes: vqvaeWeightBytes, vqvaeFileBytes: vqvaeFileBytes,
                                models: models, draftSteps: configuration.draftSteps,
                                moreSmooth: configuration.sampling.moreSmooth)
    }
}
