/// The one source of default sampling settings: the official VAR demo's, the CoDe inference script's, what a
/// model JSON's `sampling` block leaves out, and CoDe's default split. Every other place (SamplingConfig's
/// initialiser, `VARConfig.official`, the JSON decoder, the pipeline and the CLI) asks this type.
public enum SamplingPolicy {
    /// Guidance strength of the official VAR demo and of the CoDe script (docs/model.md §6.1).
    public static let officialCFG = 4.0
    /// Top-k of the official VAR demo (docs/model.md §6.2).
    public static let officialTopK = 900
    /// Top-p of the official VAR demo and of the CoDe script.
    public static let officialTopP = 0.95
    /// Top-k of the CoDe inference script (docs/model.md §6.6).
    public static let codeTopK = 600
    /// The CoDe script's temperatures: 1.1 on scales 0–6, 1.0 after (docs/model.md §6.6).
    public static let codeTemperature: PerScale<Double> = .perScale([1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 1.0, 1.0])
    /// The largest default CoDe split: the drafter makes at most 8 scales.
    public static let maxDefaultDraftSteps = 8

    /// The official VAR demo's settings: cfg 4, top-k 900, top-p 0.95, temperature 1, seed 0.
    public static var officialVAR: SamplingConfig { SamplingConfig() }

    /// The official CoDe inference settings: cfg 4, top-k 600, top-p 0.95, temperature 1.1 on scales 0–6.
    public static var officialCoDe: SamplingConfig {
        SamplingConfig(cfg: officialCFG, topK: .uniform(codeTopK), topP: officialTopP, temperature: codeTemperature)
    }

    /// The `sampling` block an official checkpoint without a JSON is given (the VAR demo's settings).
    public static var officialJSON: SamplingDefaults {
        SamplingDefaults(cfg: officialCFG, topK: officialTopK, topP: officialTopP, temperature: .uniform(1),
                         moreSmooth: false, draftSteps: maxDefaultDraftSteps)
    }

    /// What a model JSON's `sampling` block means for the fields it leaves out: the demo's guidance and no
    /// filtering (top-k 0, top-p 0), temperature 1, no more_smooth, no draft-steps preference.
    public static var jsonFieldDefaults: SamplingDefaults {
        SamplingDefaults(cfg: officialCFG, topK: 0, topP: 0, temperature: .uniform(1), moreSmooth: false)
    }

    /// CoDe's default split for a model of `scaleCount` scales: min(8, S − 1).
    public static func defaultDraftSteps(scaleCount: Int) -> Int { min(maxDefaultDraftSteps, scaleCount - 1) }

    /// The draft steps of a CoDe run whose drafter has configuration `drafter`: its JSON's `draft_steps`, else
    /// `defaultDraftSteps`.
    public static func draftSteps(for drafter: VARConfig) -> Int {
        drafter.sampling?.draftSteps ?? defaultDraftSteps(scaleCount: drafter.scaleCount)
    }

    /// The default settings for a model of configuration `config`, plain or CoDe (`collaborative`).
    /// A CoDe run takes the CoDe script's settings unless the model's JSON gives its own (an official
    /// checkpoint without a JSON counts as giving none); a plain run takes the JSON's, else the VAR demo's.
    /// A uniform top-k larger than the vocabulary (the official 900 on a small model) becomes 0 (off).
    public static func defaults(for config: VARConfig, collaborative: Bool) -> SamplingConfig {
        let inferredOfficial = config.numClasses == 1000 && config.sampling == officialJSON
        var base: SamplingConfig
        if collaborative, config.sampling == nil || inferredOfficial {
            base = officialCoDe
        } else if let d = config.sampling {
            base = SamplingConfig(defaults: d)
        } else {
            base = officialVAR
        }
        if case let .uniform(k) = base.topK, k > config.vocabSize { base.topK = .uniform(0) }
        return base
    }
}
