import Foundation
import VARKit

/// Flags about the process rather than the images: threads, verbosity, memory.
struct RuntimeOptions {
    static let specs: [OptionSpec] = [
        .value("threads", "N", "Threads for BLAS and the engine's loops.", default: "all cores"),
        .flag("verbose", "Print the BLAS core, threads and timings on stderr."),
        .flag("quiet", "No progress or status lines on stderr (results on stdout, notices and errors still shown)."),
        .flag("memory-stats", "Print accounted memory per category, the predicted peak and the process RSS at the end."),
        .value("memory-budget", "SIZE", "Cap on the peak memory, process baseline included (e.g. 6G): the largest batch that fits, or exit 2 naming the minimum."),
    ]

    var threads: Int?
    /// `--threads` as given when it exceeded the cores (then `threads` is the core count).
    var requestedThreads: Int?
    var verbose: Bool
    var quiet: Bool
    var memoryStats: Bool
    var memoryBudget: Int?

    init(_ p: ParsedOptions) throws {
        threads = try p.int("threads")
        if let t = threads, t < 1 { throw UsageError.invalid("threads", String(t), expected: "a thread count ≥ 1") }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let t = threads, t > cores { requestedThreads = t; threads = cores }
        verbose = p.flag("verbose")
        quiet = p.flag("quiet")
        if verbose && quiet { throw UsageError("--verbose and --quiet contradict each other; give one") }
        memoryStats = p.flag("memory-stats")
        if let s = p.string("memory-budget") {
            guard let b = ByteSize.parse(s), b > 0 else {
                throw UsageError.invalid("memory-budget", s, expected: "a size such as 6G, 512M or 1.5GiB, at most 1 PiB")
            }
            memoryBudget = b
        }
    }

    /// `--threads` as the value the library's calls are given (all cores when not given).
    var parallelism: Parallelism { Parallelism(threads: threads) }

    /// Notes a `--threads` above the core count and, with `--verbose`, reports the BLAS configuration and, for
    /// commands that load transformers, how their weights are held (`--weights`).
    func apply(_ console: Console, weightsOf models: ModelOptions? = nil) {
        if let requestedThreads, let threads {
            console.err("var-gen: note: --threads \(requestedThreads) is more than the \(threads) cores of this machine; using \(threads)\n")
        }
        if verbose {
            // Large BLAS products use the engine's thread count, so one figure serves both.
            let n = parallelism.workers
            console.err("OpenBLAS core \(BLAS.coreName), \(n) BLAS threads, \(n) workers\n")
            if let m = models, m.refinerPrecision != m.precision {
                console.err("drafter: " + describeWeights(m.precision) + "\nrefiner: " + describeWeights(m.refinerPrecision) + "\n")
            } else if let m = models {
                console.err(describeWeights(m.precision) + "\n")
            }
        }
    }
}

/// "float16 weights (F16C: …)", or the float32 fallback when the CPU cannot run the float16 kernels.
func describeWeights(_ requested: WeightPrecision) -> String {
    let used = requested.effective
    return used.kernelDescription + (used == requested ? "" : "; --weights f16 asked for, but this CPU lacks AVX2/FMA/F16C")
}
