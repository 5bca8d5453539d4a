import Foundation
import VARKit

/// Everything `var-gen bench` prints after a sweep: where it ran, how it was timed, and one row per
/// configuration and batch size. Rendered as Markdown (`+Markdown`) or one JSON record (`+JSON`).
struct BenchReport {
    var environment: BenchEnvironment
    /// The process's peak resident set over the whole run, bytes.
    var peakRSS: Int
    var repeats: Int, warmup: Int
    var results: [BenchResult]
    /// `--interleave`: the speed-up table pairs calls by round.
    var paired: Bool
    /// `--profile`: include the per-operation table.
    var profile: Bool
}
