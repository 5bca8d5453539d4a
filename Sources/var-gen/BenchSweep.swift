import Foundation
import VARKit

/// The swept parameters of `var-gen bench` (llama-bench's convention): a comma separates the values of a
/// sweep, and `/` joins the parts of one value — a drafter/refiner precision pair (`--weights q8/f32`) or a
/// per-scale list (`--top-k 900/900/600`, `--temp 1.1/1.0`). The cross product of every list is run, one
/// configuration per combination, each at every `--batch` size.
struct BenchSweep {
    /// One `--weights` value: the precision of the drafter (or plain model) and of the refiner.
    struct WeightPair: Equatable, Hashable {
        var drafter: WeightPrecision, refiner: WeightPrecision
        /// "f16", or "q8/f32" when the two differ.
        var text: String { drafter == refiner ? drafter.flagValue : "\(drafter.flagValue)/\(refiner.flagValue)" }
    }

    /// `--draft-steps`: nil = the default split, 0 = `off` (the drafter alone).
    var draftSteps: [Int?] = [nil]
    var weights: [WeightPair] = [WeightPair(drafter: .float32, refiner: .float32)]
    /// `--threads` (nil: all cores), capped at the machine's cores.
    var threads: [Int?] = [nil]
    /// Sampling flags, each value spelled the way `generate` takes the flag (a per-scale list with commas);
    /// nil: the configuration's default.
    var cfg: [String?] = [nil], topK: [String?] = [nil], topP: [String?] = [nil], temp: [String?] = [nil]
    /// `--threads` values above the cores, as given (for the note).
    var cappedThreads: [Int] = []

    /// The flags that sweep, in the order of the cross product (outermost first; `--batch` is innermost).
    static let flags = ["weights", "draft-steps", "threads", "cfg", "top-k", "top-p", "temp"]

    init(_ p: ParsedOptions) throws {
        if let steps = try BenchCommand.parseDraftSteps(p.string("draft-steps")) { draftSteps = steps.map { Optional($0) } }
        if let s = p.string("weights") { weights = try Self.parseWeights(s) }
        if let s = p.string("threads") {
            let cores = ProcessInfo.processInfo.activeProcessorCount
            var out: [Int?] = []
            for item in try Self.items(s, flag: "threads") {
                guard let t = Int(item), t >= 1 else {
                    throw UsageError.invalid("threads", item, expected: "thread counts ≥ 1, comma-separated (e.g. 1,2)")
                }
                if t > cores { cappedThreads.append(t) }
                let used = min(t, cores)
                if !out.contains(used) { out.append(used) }
            }
            threads = out
        }
        cfg = try p.string("cfg").map { try Self.items($0, flag: "cfg") } ?? [nil]
        topP = try p.string("top-p").map { try Self.items($0, flag: "top-p") } ?? [nil]
        // Per-scale lists: `/` inside one value becomes the comma `generate` takes.
        topK = try p.string("top-k").map { try Self.items($0, flag: "top-k").map { $0.replacingOccurrences(of: "/", with: ",") } } ?? [nil]
        temp = try p.string("temp").map { try Self.items($0, flag: "temp").map { $0.replacingOccurrences(of: "/", with: ",") } } ?? [nil]
    }

    /// The comma-separated items of a sweep, trimmed; an empty item is an error naming the flag.
    static func items(_ text: String, flag: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed }
        guard !items.contains(where: \.isEmpty) else {
            throw UsageError.invalid(flag, text, expected: "values separated by commas, none empty (e.g. 1,4)")
        }
        var unique: [String] = []
        for i in items where !unique.contains(i) { unique.append(i) }
        return unique
    }

    /// `--weights` in `bench`: comma-separated values, each `P` (both models) or `D/R` (drafter/refiner).
    static func parseWeights(_ text: String) throws -> [WeightPair] {
        var out: [WeightPair] = []
        for item in try items(text, flag: "weights") {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else {
                throw UsageError.invalid("weights", item, expected: "f32, f16, q8, or a drafter/refiner pair such as q8/f32")
            }
            let d = try ModelOptions.precision(parts[0])
            let pair = WeightPair(drafter: d, refiner: parts.count == 2 ? try ModelOptions.precision(parts[1]) : d)
            if !out.contains(pair) { out.append(pair) }
        }
        return out
    }

    /// One combination of the lists (before `--batch`).
    struct Point {
        var weights: WeightPair
        var draftSteps: Int?
        var threads: Int?
        var cfg: String?, topK: String?, topP: String?, temp: String?
        /// Which value of each list, except `--draft-steps`: points that differ only in their split share it
        /// (the CoDe speed-up table pairs a CoDe row with the drafter alone of the same key).
        var key: [Int]
    }

    /// The cross product, `--weights` outermost.
    var points: [Point] {
        var out: [Point] = []
        for (wi, w) in weights.enumerated() {
            for n in draftSteps {
                for (ti, t) in threads.enumerated() {
                    for (ci, c) in cfg.enumerated() {
                        for (ki, k) in topK.enumerated() {
                            for (pi, p) in topP.enumerated() {
                                for (ei, e) in temp.enumerated() {
                                    out.append(Point(weights: w, draftSteps: n, threads: t, cfg: c, topK: k, topP: p, temp: e,
                                                     key: [wi, ti, ci, ki, pi, ei]))
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The options of one point, as a single-configuration command takes them: `base` with each swept flag
    /// replaced by the point's value (removed for a default).
    static func options(_ base: ParsedOptions, _ point: Point, seed: UInt64) -> ParsedOptions {
        var q = base
        q.values["weights"] = "\(point.weights.drafter.flagValue),\(point.weights.refiner.flagValue)"
        q.values["draft-steps"] = point.draftSteps.flatMap { $0 > 0 ? String($0) : nil }
        q.values["threads"] = point.threads.map(String.init)
        q.values["cfg"] = point.cfg
        q.values["top-k"] = point.topK
        q.values["top-p"] = point.topP
        q.values["temp"] = point.temp
        q.values["seed"] = String(seed)
        return q
    }

    /// Notes for lists that changed meaning from `generate`'s: `--weights A,B` with CoDe sweeps two precisions
    /// (a pair is `A/B`); `--top-k`/`--temp` with exactly S values, repeats included, sweep their distinct values
    /// (one value per scale is `a/b/…`).
    func notes(_ p: ParsedOptions, collaborative: Bool, scaleCount: Int) -> [String] {
        var out: [String] = []
        if let t = p.string("weights"), collaborative, !t.contains("/"), weights.count == 2 {
            out.append("--weights \(t) sweeps \(weights.map(\.text).joined(separator: " and ")) (each for both models); "
                       + "for a drafter and a refiner precision write \(weights[0].text)/\(weights[1].text)")
        }
        for (flag, list) in [("top-k", topK), ("temp", temp)] {
            // S values as given, repeats included (`1.1,…,1.1,1,1,1` is a per-scale schedule written for generate).
            if let t = p.string(flag), !t.contains("/"), list.count > 1,
               t.split(separator: ",", omittingEmptySubsequences: false).count == scaleCount {
                out.append("--\(flag) \(t) sweeps \(list.count) values (one configuration each); for one value per scale "
                           + "write \(t.replacingOccurrences(of: ",", with: "/"))")
            }
        }
        if let most = cappedThreads.max() {
            let cores = ProcessInfo.processInfo.activeProcessorCount
            out.append("--threads \(most) is more than the \(cores) cores of this machine; using \(cores)")
        }
        return out
    }
}
