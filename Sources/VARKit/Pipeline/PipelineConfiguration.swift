/// Everything a `GenerationPipeline` needs, as data. Every field has a documented default.
public struct PipelineConfiguration: Sendable {
    /// Which transformer(s) make the scales.
    public enum Models: Sendable {
        /// Plain VAR with one model (docs/model.md §6.1).
        case plain(ModelSource)
        /// CoDe with a drafter and a refiner (docs/model.md §7).
        case collaborative(CoDePlan)
    }

    /// The VQVAE checkpoint (tokenizer). Default: the VQVAE named by the primary model's JSON (`"vqvae"`).
    public var tokenizer: String
    /// The transformers, each with its weight precision and in-place choice (`ModelSource`).
    public var models: Models
    /// Sampling settings of `generate` calls that do not pass their own. Default:
    /// `SamplingPolicy.defaults(for:collaborative:)` of the primary model.
    public var sampling: SamplingConfig
    /// Threads for OpenBLAS and the engine's loops of this pipeline's calls. Default nil: one per core.
    public var threads: Int?

    /// `threads` as the value the kernels are given.
    public var parallelism: Parallelism { Parallelism(threads: threads) }

    /// Throws `PipelineError.noTokenizer` when `tokenizer` is nil and the model's JSON names no VQVAE, and
    /// `PipelineError.referenceOutsideDirectory` when the VQVAE it names is not beside it.
    public init(models: Models, tokenizer: String? = nil, sampling: SamplingConfig? = nil, threads: Int? = nil) throws {
        let primary: ModelSource
        switch models {
        case let .plain(m): primary = m
        case let .collaborative(plan): primary = plan.drafter
        }
        guard let path = try tokenizer ?? primary.referencedVQVAE() else { throw PipelineError.noTokenizer(model: primary.path) }
        self.models = models
        self.tokenizer = path
        self.sampling = sampling ?? Self.defaultSampling(for: models)
        self.threads = threads
    }

    /// The sampling defaults of `models` (`SamplingPolicy`): CoDe's for a CoDe plan, the model JSON's or the
    /// VAR demo's for plain VAR.
    public static func defaultSampling(for models: Models) -> SamplingConfig {
        switch models {
        case let .plain(m): return SamplingPolicy.defaults(for: m.config, collaborative: false)
        case let .collaborative(plan): return SamplingPolicy.defaults(for: plan.drafter.config, collaborative: true)
        }
    }

    /// The model whose configuration defines classes and the scale schedule (the plain model or the drafter).
    public var primary: ModelSource {
        switch models {
        case let .plain(m): return m
        case let .collaborative(plan): return plan.drafter
        }
    }

    /// The primary model's configuration.
    public var config: VARConfig { primary.config }

    /// CoDe's split N, nil for plain VAR.
    public var draftSteps: Int? {
        if case let .collaborative(plan) = models { return plan.draftSteps }
        return nil
    }

    /// "drafter.pth" or "drafter.pth+refiner.pth".
    public var modelDescription: String {
        switch models {
        case let .plain(m): return m.name
        case let .collaborative(plan): return "\(plan.drafter.name)+\(plan.refiner.name)"
        }
    }

    /// The transformers to load, in load order, with their roles (one entry for a CoDe pair of one file).
    public var roles: [(role: ModelRole, source: ModelSource)] {
        switch models {
        case let .plain(m): return [(.model, m)]
        case let .collaborative(plan):
            return plan.isOneModel ? [(.drafterAndRefiner, plan.drafter)]
                : [(.drafter, plan.drafter), (.refiner, plan.refiner)]
        }
    }
}
