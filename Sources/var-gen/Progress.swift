import Foundation
import VARKit

/// Renders progress on stderr in one style for every long command: a single redrawn line on a terminal;
/// into a file or pipe at most one line every `interval` seconds (plus the final one). `quiet` (`--quiet`)
/// silences progress and status messages; notices about ignored flags and errors are still printed.
final class ProgressPrinter {
    let console: Console
    let pipeline: PipelineConfiguration?
    let quiet: Bool
    /// Seconds between two progress lines written to a file.
    static let interval: TimeInterval = 2
    private let start = Date()
    private var lineOpen = false

    init(console: Console, pipeline: PipelineConfiguration? = nil, quiet: Bool = false) {
        self.console = console
        self.pipeline = pipeline
        self.quiet = quiet
    }

    /// Which model produced a stage ("drafter.pth", "refiner.pth", or the plain model).
    func modelName(_ stage: GenerationProgress.Stage) -> String {
        guard let pipeline else { return "" }
        switch (stage, pipeline.models) {
        case let (.refine, .collaborative(plan)): return "refiner \(plan.refiner.name)"
        case let (.draft, .collaborative(plan)): return "drafter \(plan.drafter.name)"
        default: return pipeline.primary.name
        }
    }

    /// A `ProgressHandler` for one batch; `prefix` names the batch (e.g. "batch 2/5"). The last scale of the
    /// last batch (`last`) is always shown.
    func handler(prefix: String, last: Bool = true) -> ProgressHandler {
        let sizes = pipeline?.primary.config.patchSizes ?? []
        return { [self] p in
            let pn = p.scale < sizes.count ? sizes[p.scale] : 0
            line("\(prefix)scale \(p.scale + 1)/\(p.scaleCount) (\(pn)×\(pn)) \(modelName(p.stage)), "
                 + "\(p.tokensDone)/\(p.tokenCount) tokens, \(elapsed)", final: last && p.scale == p.scaleCount - 1)
            return true
        }
    }

    var elapsed: String { String(format: "%.1fs", Date().timeIntervalSince(start)) }

    private var lastThrottled: Date?

    /// A progress line: redrawn in place on a terminal; into a file at most one every `interval` seconds
    /// (the first and `final` ones always), so logs of long runs stay readable.
    func line(_ text: String, final: Bool = false) {
        if quiet { return }
        if !console.interactive && !final {
            let now = Date()
            if let last = lastThrottled, now.timeIntervalSince(last) < Self.interval { return }
            lastThrottled = now
        }
        if console.interactive {
            console.err("\r\u{1B}[2K" + terminalSafe(text))
            lineOpen = true
        } else {
            console.err(terminalSafe(text) + "\n")
        }
    }

    /// A status line that stays (ends any redrawn line first); silent with `--quiet`.
    func message(_ text: String) {
        if quiet { return }
        finish()
        console.err(terminalSafe(text) + "\n")
    }

    /// A notice the user must see even with `--quiet` (an ignored or adjusted flag).
    func notice(_ text: String) {
        finish()
        console.err("var-gen: note: " + terminalSafe(text) + "\n")
    }

    func finish() {
        if lineOpen { console.err("\n"); lineOpen = false }
    }
}

/// `--memory-stats`: the accountant's categories (current and peak), the prediction made before loading,
/// and the process RSS, with the predicted peak next to the measured peak RSS.
func renderMemoryReport(_ r: MemoryAccountant.Report, predicted: MemoryPrediction.Peak? = nil) -> String {
    func row(_ name: String, _ cells: [String]) -> String {
        "  " + name.padding(toLength: 22, withPad: " ", startingAt: 0) + cells.map { $0.leftPadded(12) }.joined() + "\n"
    }
    var s = "memory".padding(toLength: 24, withPad: " ", startingAt: 0)
        + ["current", "peak", predicted == nil ? "" : "predicted"].map { $0.leftPadded(12) }.joined() + "\n"
    var cats = r.orderedCategories
    for c in predicted?.categories.keys.sorted() ?? [] where !cats.contains(c) { cats.append(c) }
    for c in cats.sorted() {
        let u = r[c]
        let name = c == .vqvaeDecode ? "vqvaeDecode (est.)" : c.name
        row(name, [ByteSize.format(u.current), ByteSize.format(u.peak)]
            + (predicted.map { [ByteSize.format($0.categories[c] ?? 0)] } ?? [])).write(to: &s)
    }
    row("accounted total", [ByteSize.format(r.total.current), ByteSize.format(r.total.peak)]
        + (predicted.map { [ByteSize.format($0.accounted)] } ?? [])).write(to: &s)
    if let p = r.process {
        row("process RSS", [ByteSize.format(p.residentBytes), ByteSize.format(p.peakResidentBytes)]
            + (predicted.map { [ByteSize.format($0.total)] } ?? [])).write(to: &s)
        if let predicted, p.peakResidentBytes > 0 {
            let err = 100 * Double(predicted.total - p.peakResidentBytes) / Double(p.peakResidentBytes)
            s += String(format: "  predicted peak %@ (%@) vs measured peak RSS %@: %+.1f%%\n",
                        ByteSize.format(predicted.total), predicted.phase, ByteSize.format(p.peakResidentBytes), err)
        }
    }
    return s
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
