/// A CoDe run (docs/model.md §7): the drafter makes scales 0…N−1, the refiner N…S−1. Validated once, at creation:
/// the pair must be compatible (`CoDeGenerator.checkPair`) and N in 1…S−1.
public struct CoDePlan: Sendable {
    public let drafter: ModelSource
    public let refiner: ModelSource
    /// N, the scales the drafter makes.
    public let draftSteps: Int

    /// `draftSteps` nil takes the drafter JSON's `draft_steps`, else min(8, S−1) (`SamplingPolicy`).
    public init(drafter: ModelSource, refiner: ModelSource, draftSteps: Int? = nil) throws {
        if drafter.isSameFile(as: refiner) && drafter.precision != refiner.precision {
            throw PipelineError.conflictingPrecisions(path: drafter.path, drafter: drafter.precision,
                                                      refiner: refiner.precision)
        }
        let S = drafter.config.scaleCount
        let n = draftSteps ?? SamplingPolicy.draftSteps(for: drafter.config)
        guard S > 1, (1...(S - 1)).contains(n) else {
            throw PipelineError.draftStepsOutOfRange(draftSteps: n, scaleCount: S)
        }
        do {
            try CoDeGenerator.checkPair(drafter.config, refiner.config, draftSteps: n)
        } catch GenerationError.incompatiblePair(let property, let d, let r) {
            throw PipelineError.incompatiblePair(property: property, drafter: d, refiner: r)
        }
        self.drafter = drafter; self.refiner = refiner; self.draftSteps = n
    }

    /// True when one file is both drafter and refiner: it is loaded once and CoDe hands its cache over.
    public var isOneModel: Bool { drafter.isSameFile(as: refiner) }
}
