/// The accepted range of every sampling setting, the same whether it comes from a flag (`--cfg`, `--top-k`,
/// `--top-p`, `--temp`, `--draft-steps`) or from a model JSON's `sampling` object. Values outside are
/// refused with a `LimitViolation` before any work.
public enum SamplingLimits {
    /// Classifier-free guidance strength (official models use 1.5–4).
    public static let cfg = 0.0...100.0
    /// Top-p threshold; 0 = off.
    public static let topP = 0.0...1.0
    /// Temperature (dividing the logits); bounded away from 0 so the division stays finite.
    public static let temperature = 0.001...1000.0
    /// Seeds (image i uses seed + i).
    public static let seed: ClosedRange<UInt64> = 0...UInt64(UInt32.max)

    /// Top-k: 0 (off) … V.
    public static func topK(vocabSize: Int) -> ClosedRange<Int> { 0...vocabSize }
    /// CoDe's split N: the drafter makes scales 0…N−1, so 1…S−1.
    public static func draftSteps(scaleCount: Int) -> ClosedRange<Int> { 1...max(1, scaleCount - 1) }

    /// Checks a model JSON's `sampling` defaults against a model of `scaleCount` scales and `vocabSize` codes.
    public static func check(_ d: SamplingDefaults, scaleCount: Int, vocabSize: Int) throws {
        try Check.double(d.cfg, cfg, "sampling.cfg")
        try Check.int(d.topK, topK(vocabSize: vocabSize), "sampling.top_k")
        try Check.double(d.topP, topP, "sampling.top_p")
        try checkTemperature(d.temperature, scaleCount: scaleCount, field: "sampling.temperature")
        if let n = d.draftSteps {
            guard scaleCount >= 2 else {
                throw LimitViolation(field: "sampling.draft_steps", value: String(n), allowed: "no value for a one-scale model")
            }
            try Check.int(n, draftSteps(scaleCount: scaleCount), "sampling.draft_steps")
        }
    }

    /// Checks the settings of one generation call. A top-k above V keeps every code (the library's default
    /// 900 on a small model), so calls accept 0…`ConfigLimits.maxVocab`; flags and JSON files accept 0…V.
    public static func check(_ s: SamplingConfig, scaleCount: Int, vocabSize: Int) throws {
        try Check.double(s.cfg, cfg, "cfg")
        try checkPerScale(s.topK, scaleCount: scaleCount, field: "top_k") {
            try Check.int($0, 0...max(vocabSize, ConfigLimits.maxVocab), "top_k")
        }
        try Check.double(s.topP, topP, "top_p")
        try checkTemperature(s.temperature, scaleCount: scaleCount, field: "temperature")
    }

    static func checkTemperature(_ t: PerScale<Double>, scaleCount: Int, field: String) throws {
        try checkPerScale(t, scaleCount: scaleCount, field: field) { try Check.double($0, temperature, field) }
    }

    /// A per-scale list has one value or one per scale; each value passes `check`.
    static func checkPerScale<T>(_ p: PerScale<T>, scaleCount: Int, field: String, _ check: (T) throws -> Void) throws {
        switch p {
        case let .uniform(v): try check(v)
        case let .perScale(list):
            guard list.count == 1 || list.count == scaleCount else {
                throw LimitViolation(field: field, value: "\(list.count) values", allowed: "1 value or one per scale (\(scaleCount))")
            }
            for v in list { try check(v) }
        }
    }
}
