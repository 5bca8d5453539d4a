import Dispatch
import Foundation

/// Splits elementwise work over the machine's cores.
public enum Parallel {
    /// The machine's cores (fixed for the process).
    public static let processorCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Number of worker chunks used by `forEach` (`--threads`; defaults to every core).
    public static var workerCount: Int = processorCount

    /// Sets the engine's workers and OpenBLAS's threads together (process-wide; OpenBLAS's count is C state).
    public static func setThreadCount(_ n: Int) {
        BLAS.setThreadCount(n)
        workerCount = max(1, n)
    }

    /// Calls `body(range)` on disjoint sub-ranges covering `0..<count`, in parallel when the work is large enough.
    /// `grain` is the smallest range worth a thread hop.
    @inlinable
    public static func forEach(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        let chunks = min(workerCount, max(1, count / max(grain, 1)))
        if chunks <= 1 { body(0..<count); return }
        let per = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = i * per, hi = min(count, lo + per)
                if lo < hi { body(lo..<hi) }
            }
        }
    }

    /// Like `forEach`, with at most `maxChunks` chunks and each chunk's index (`0..<maxChunks`), e.g. to give
    /// every chunk its own slice of a scratch buffer.
    public static func forEachChunk(_ count: Int, grain: Int, maxChunks: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = min(workerCount, maxChunks, max(1, count / max(grain, 1)))
        if chunks <= 1 { body(0, 0..<count); return }
        let per = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = i * per, hi = min(count, lo + per)
                if lo < hi { body(i, lo..<hi) }
            }
        }
    }
}
