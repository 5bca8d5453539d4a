import Foundation
import VARKit

/// Renders generation progress on stderr: one redrawn line on a terminal, one line per event otherwise.
final class ProgressPrinter {
    let console: Console
    let pipeline: Pipeline
    private let start = Date()
    private var lineOpen = false

    init(console: Console, pipeline: Pipeline) {
        self.console = console
        self.pipeline = pipeline
    }

    /// Which model produced a stage ("drafter.pth", "refiner.pth", or the plain model).
    func modelName(_ stage: GenerationProgress.Stage) -> String {
        switch (stage, pipeline) {
        case let (.refine, .collaborative(_, r, _)): return "refiner \(r.name)"
        case let (.draft, .collaborative(d, _, _)): return "drafter \(d.name)"
        default: return pipeline.primary.name
        }
    }

    /// A `ProgressHandler` for one batch; `prefix` names the batch (e.g. "batch 2/5").
    func handler(prefix: String) -> ProgressHandler {
        let sizes = pipeline.primary.config.patchSizes
        return { [self] p in
            let pn = sizes[p.scale]
            line("\(prefix)scale \(p.scale + 1)/\(p.scaleCount) (\(pn)×\(pn)) \(modelName(p.stage)), "
                 + "\(p.tokensDone)/\(p.tokenCount) tokens, \(elapsed)")
            return true
        }
    }

    var elapsed: String { String(format: "%.1fs", Date().timeIntervalSince(start)) }

    private var lastThrottled: Date?

    /// A status line (redrawn in place on a terminal). With `throttle`, a non-terminal gets at most one such
    /// line every 10 seconds (plus `final` ones), so logs of long runs stay readable.
    func line(_ text: String, throttle: Bool = false, final: Bool = false) {
        if throttle && !console.interactive && !final {
            let now = Date()
            if let last = lastThrottled, now.timeIntervalSince(last) < 10 { return }
            lastThrottled = now
        }
        if console.interactive {
            console.err("\r\u{1B}[2K" + text)
            lineOpen = true
        } else {
            console.err(text + "\n")
        }
    }

    /// A line that stays (ends any redrawn line first).
    func message(_ text: String) {
        finish()
        console.err(text + "\n")
    }

    func finish() {
        if lineOpen { console.err("\n"); lineOpen = false }
    }
}

/// `--memory-stats`: the accountant's categories and the process RSS.
func renderMemoryReport(_ r: MemoryAccountant.Report) -> String {
    var s = "memory (accounted)      current        peak\n"
    for c in MemoryAccountant.Category.allCases {
        let u = r.categories[c] ?? .init()
        s += "  " + c.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
            + ByteSize.format(u.current).leftPadded(12) + ByteSize.format(u.peak).leftPadded(12) + "\n"
    }
    s += "  " + "total".padding(toLength: 14, withPad: " ", startingAt: 0)
        + ByteSize.format(r.total.current).leftPadded(12) + ByteSize.format(r.total.peak).leftPadded(12) + "\n"
    if let p = r.process {
        s += "  " + "process RSS".padding(toLength: 14, withPad: " ", startingAt: 0)
            + ByteSize.format(p.residentBytes).leftPadded(12) + ByteSize.format(p.peakResidentBytes).leftPadded(12) + "\n"
    }
    return s
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
