/// Errors of building a pipeline configuration or a pipeline. Each case names the file or value at fault;
/// callers (the CLI) add the flag the user gave.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// The model's configuration could not be read (its JSON) or inferred (from the checkpoint's shapes):
    /// `underlying` is the reader's error (`VARConfigError`, `CheckpointError`, a file or JSON error).
    case modelConfiguration(path: String, underlying: any Error)
    /// CoDe's split is outside 1…S−1.
    case draftStepsOutOfRange(draftSteps: Int, scaleCount: Int)
    /// The drafter and refiner differ in `property` (values: the drafter's, the refiner's).
    case incompatiblePair(property: SharedProperty, drafter: [Int], refiner: [Int])
    /// One file is both drafter and refiner (loaded once) but two precisions were asked for.
    case conflictingPrecisions(path: String, drafter: WeightPrecision, refiner: WeightPrecision)
    /// A generation request whose seed count differs from its label count.
    case seedCount(labels: Int, seeds: Int)
    /// No VQVAE was given and the model's JSON names none.
    case noTokenizer(model: String)
    /// A file named inside a model JSON (`field`, e.g. "vqvae") is absolute or resolves (after `..` and symbolic
    /// links) outside the JSON's directory; such files must be given on the command line instead.
    case referenceOutsideDirectory(json: String, field: String, name: String, reason: String)

    public var description: String {
        switch self {
        case let .modelConfiguration(path, underlying):
            return "cannot read the model configuration of '\(path)': \(underlying)"
        case let .draftStepsOutOfRange(n, S):
            return "got \(n); expected 1…\(S - 1) (the model has \(S) scales)"
        case let .incompatiblePair(property, drafter, refiner):
            return GenerationError.incompatiblePair(property: property, drafter: drafter, refiner: refiner).description
        case let .conflictingPrecisions(path, d, r):
            return "the drafter and the refiner are one file (\(path)), loaded once; give one precision, not "
                + "\(d.rawValue),\(r.rawValue)"
        case let .seedCount(labels, seeds):
            return "got \(seeds) seeds for \(labels) labels; expected one seed per label"
        case let .noTokenizer(model):
            return "no VQVAE given and the configuration of '\(model)' names none"
        case let .referenceOutsideDirectory(json, field, name, reason):
            return "\(DisplayText.escaped(json)): \"\(field)\": \"\(DisplayText.escaped(name))\" \(reason); a model JSON may "
                + "only name files in its own directory (a plain name or a relative path that stays inside it)"
        }
    }

    /// Equal cases with equal fields; `modelConfiguration` compares its underlying errors by their text.
    public static func == (a: PipelineError, b: PipelineError) -> Bool {
        switch (a, b) {
        case let (.modelConfiguration(p, e), .modelConfiguration(q, f)): return p == q && "\(e)" == "\(f)"
        case let (.draftStepsOutOfRange(n, s), .draftStepsOutOfRange(m, t)): return n == m && s == t
        case let (.incompatiblePair(p, d, r), .incompatiblePair(q, e, s)): return p == q && d == e && r == s
        case let (.conflictingPrecisions(p, d, r), .conflictingPrecisions(q, e, s)): return p == q && d == e && r == s
        case let (.seedCount(l, s), .seedCount(m, t)): return l == m && s == t
        case let (.noTokenizer(m), .noTokenizer(n)): return m == n
        default: return false
        }
    }
}
