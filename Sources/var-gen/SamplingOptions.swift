import VARKit

/// Sampling flags shared by generate, sample and edit (docs/model.md §6). Unset flags take the model JSON's
/// `sampling` defaults, else the official settings (VAR demo; CoDe inference script for CoDe).
struct SamplingOptions {
    static let specs: [OptionSpec] = specs(seedHelp: "Base seed; image i uses seed+i (its own generator).")

    /// The flags, with the command's own description of how `--seed` maps to images.
    static func specs(seedHelp: String) -> [OptionSpec] { [
        .value("seed", "N", seedHelp + " -1 or 'random': a random seed, printed and recorded.", default: "0"),
        .value("cfg", "X", "Classifier-free guidance strength, ≥ 0.", default: "model JSON, else 4"),
        .value("top-k", "K[,K…]", "Top-k, 0 = off, ≤ V; one value or one per scale.", default: "model JSON, else 900 (CoDe 600)"),
        .value("top-p", "P", "Top-p in [0, 1], 0 = off.", default: "model JSON, else 0.95"),
        .value("temp", "T[,T…]", "Temperature > 0; one value or one per scale.", default: "model JSON, else 1 (CoDe 1.1×7, 1.0…)"),
        .flag("smooth", "Gumbel-softmax codeword mixing (more_smooth, docs/model.md §6.4)."),
    ] }

    var seed: UInt64 = 0
    /// `--seed -1`/`random`: `seed` was drawn at random (say so, and record it).
    var randomSeed = false
    var cfg: Double?
    var topK: [Int]?
    var topP: Double?
    var temperature: [Double]?
    var smooth: Bool

    init(_ p: ParsedOptions) throws {
        if let (v, random) = try SeedOption.parse(p.string("seed")) { seed = v; randomSeed = random }
        cfg = try p.double("cfg")
        topK = try p.ints("top-k")
        topP = try p.double("top-p")
        temperature = try p.doubles("temp")
        smooth = p.flag("smooth")
        // The same ranges as a model JSON's `sampling` object (SamplingLimits, docs/security.md).
        if let cfg, !SamplingLimits.cfg.contains(cfg) {
            throw UsageError.invalid("cfg", p.string("cfg")!, expected: "a guidance strength in \(range(SamplingLimits.cfg))")
        }
        if let topP, !SamplingLimits.topP.contains(topP) {
            throw UsageError.invalid("top-p", p.string("top-p")!, expected: "a value in [0, 1] (0 = off)")
        }
        if let t = temperature, !t.allSatisfy({ SamplingLimits.temperature.contains($0) }) {
            throw UsageError.invalid("temp", p.string("temp")!, expected: "temperatures in \(range(SamplingLimits.temperature))")
        }
        if let k = topK, k.contains(where: { $0 < 0 }) {
            throw UsageError.invalid("top-k", p.string("top-k")!, expected: "values in [0, V] (0 = off)")
        }
    }

    /// The complete settings for `configuration`: its defaults (`SamplingPolicy`) with the flags given,
    /// checked against its vocabulary and scale count.
    func resolve(for configuration: PipelineConfiguration) throws -> SamplingConfig {
        let c = configuration.config
        let S = c.scaleCount, V = c.vocabSize
        var base = PipelineConfiguration.defaultSampling(for: configuration.models)
        if let cfg { base.cfg = cfg }
        if let topP { base.topP = topP }
        if smooth { base.moreSmooth = true }
        if let k = topK {
            guard k.count == 1 || k.count == S else {
                throw UsageError("--top-k: got \(k.count) values; expected 1 or one per scale (\(S))")
            }
            if let bad = k.first(where: { $0 > V }) {
                throw UsageError("--top-k: got \(bad); expected a value in [0, \(V)] (0 = off; the vocabulary has \(V) entries)")
            }
            base.topK = k.count == 1 ? .uniform(k[0]) : .perScale(k)
        }
        if let t = temperature {
            guard t.count == 1 || t.count == S else {
                throw UsageError("--temp: got \(t.count) values; expected 1 or one per scale (\(S))")
            }
            base.temperature = t.count == 1 ? .uniform(t[0]) : .perScale(t)
        }
        base.seed = seed
        return base
    }
}

/// "[a, b]" with integral bounds printed without a fraction.
private func range(_ r: ClosedRange<Double>) -> String {
    func n(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
    return "[\(n(r.lowerBound)), \(n(r.upperBound))]"
}

/// Compact `key=value` text of the settings, for PNG metadata and logs.
func describe(_ s: SamplingConfig) -> String {
    func perScale<T>(_ p: PerScale<T>) -> String {
        switch p {
        case let .uniform(v): return "\(v)"
        case let .perScale(list): return list.map { "\($0)" }.joined(separator: ",")
        }
    }
    func num(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
    let temp: String
    switch s.temperature {
    case let .uniform(v): temp = num(v)
    case let .perScale(l): temp = l.map(num).joined(separator: ",")
    }
    return "cfg=\(num(s.cfg)) top_k=\(perScale(s.topK)) top_p=\(num(s.topP)) temp=\(temp)" + (s.moreSmooth ? " smooth=1" : "")
}

/// Class selections: ids, ranges `a-b`, names from the model JSON's `class_names`, `all`, and `uncond`
/// (the unconditional class), comma-separated.
enum ClassList {
    static func parse(_ text: String, flag: String, config c: VARConfig) throws -> [Int] {
        var out: [Int] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = raw.trimmed
            if item == "all" { out += Array(0..<c.numClasses); continue }
            if item == "uncond" || item == "none" { out.append(c.unconditionalClass); continue }
            if let i = Int(item) {
                guard (0..<c.numClasses).contains(i) else { throw outOfRange(flag, item, c) }
                out.append(i); continue
            }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]) {
                guard a <= b else {
                    throw UsageError("--\(flag): '\(item)' is a reversed range; expected a-b with a ≤ b, e.g. \(b)-\(a)")
                }
                guard (0..<c.numClasses).contains(a), (0..<c.numClasses).contains(b) else { throw outOfRange(flag, item, c) }
                out += Array(a...b); continue
            }
            if let names = c.classNames, let i = names.firstIndex(of: item) ?? names.firstIndex(where: { $0.lowercased() == item.lowercased() }) {
                out.append(i); continue
            }
            var message = "--\(flag): unknown class '\(item)'; expected an id in 0…\(c.numClasses - 1), a range a-b, 'all', 'uncond'"
            if let names = c.classNames, !names.isEmpty {
                message += " or a class name"
                if let s = OptionParser.suggestion(for: item, among: names) { message += "; did you mean '\(s)'?" }
                else { message += " (\(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", …" : ""))" }
            }
            throw UsageError(message)
        }
        guard !out.isEmpty else { throw UsageError("--\(flag): empty class list") }
        return out
    }

    private static func outOfRange(_ flag: String, _ item: String, _ c: VARConfig) -> UsageError {
        UsageError("--\(flag): class \(item) is outside the model's range 0…\(c.numClasses - 1)")
    }

    /// The name of a class for messages and metadata.
    static func name(_ id: Int, _ c: VARConfig) -> String {
        if id == c.unconditionalClass { return "uncond" }
        if let n = c.classNames, id < n.count { return n[id] }
        return String(id)
    }
}
