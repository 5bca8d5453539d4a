import Dispatch
import Foundation

/// How many workers the engine's loops and large BLAS products use: a value handed to every kernel (from
/// `PipelineConfiguration.threads` down through the transformer's and the VQVAE's workspaces), never process
/// state, so two pipelines in one process each run with their own count.
///
/// A loop over `count` items is cut into at most `workers` contiguous chunks of equal size (the last may be
/// shorter), at most `count / grain` of them (`partition`). The engine's loops give each item the same arithmetic whatever chunk it lands in; the golden
/// tests check that generated images are byte-identical with 1 and 2 workers.
public struct Parallelism: Sendable, Equatable, CustomStringConvertible {
    /// The machine's cores (fixed for the process).
    public static let processorCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// One worker per core: the default of the library's entry points.
    public static let allCores = Parallelism(workers: processorCount)
    /// One worker: every loop and product on the calling thread.
    public static let serial = Parallelism(workers: 1)

    /// Workers of the engine's loops and threads of large BLAS products (at least 1).
    public let workers: Int

    /// `workers` below 1 count as 1.
    public init(workers: Int) { self.workers = max(1, workers) }

    /// `threads` workers, or one per core when nil (`PipelineConfiguration.threads`).
    public init(threads: Int?) { self.init(workers: threads ?? Parallelism.processorCount) }

    public var description: String { workers == 1 ? "1 worker" : "\(workers) workers" }

    /// The number of chunks a loop over `count` items with `grain` is cut into: at most `workers`, `maxChunks`
    /// and `count / grain` (so every chunk but the last holds at least `grain` items), and at least one.
    public func chunkCount(_ count: Int, grain: Int, maxChunks: Int = .max) -> Int {
        max(1, min(workers, maxChunks, count / max(grain, 1)))
    }

    /// The chunks a loop over `0..<count` is cut into (`chunkCount` of them, empty ones dropped): contiguous,
    /// in order, covering the range exactly. `forEach` and `forEachChunk` run exactly these ranges.
    public func partition(_ count: Int, grain: Int, maxChunks: Int = .max) -> [Range<Int>] {
        let chunks = chunkCount(count, grain: grain, maxChunks: maxChunks)
        if chunks == 1 { return [0..<count] }
        return (0..<chunks).map { Self.chunk($0, of: chunks, count: count) }.filter { !$0.isEmpty }
    }

    /// Chunk `i` of `chunks` equal ranges over `0..<count` (the last ones shorter or empty).
    @inline(__always)
    static func chunk(_ i: Int, of chunks: Int, count: Int) -> Range<Int> {
        let per = (count + chunks - 1) / chunks, lo = min(count, i * per)
        return lo..<min(count, lo + per)
    }

    /// Calls `body(range)` on the chunks of `partition(count, grain:)`, in parallel when there are several.
    /// `grain` is the smallest range worth a thread hop.
    public func forEach(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        forEachChunk(count, grain: grain, maxChunks: .max) { _, range in body(range) }
    }

    /// Like `forEach`, with at most `maxChunks` chunks and each chunk's index (`0..<maxChunks`), e.g. to give
    /// every chunk its own slice of a scratch buffer.
    public func forEachChunk(_ count: Int, grain: Int, maxChunks: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count, grain: grain, maxChunks: maxChunks)
        if chunks == 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let range = Self.chunk(i, of: chunks, count: count)
                if !range.isEmpty { body(i, range) }
            }
        }
    }

    /// The OpenBLAS threads of a product of `flops` FLOPs: `workers` for large products, else one
    /// (`BLAS.parallelFlops`).
    public func blasThreads(forFlops flops: Int) -> Int {
        flops >= BLAS.parallelFlops ? workers : 1
    }
}
