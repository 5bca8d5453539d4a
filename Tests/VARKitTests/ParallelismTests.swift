import Foundation
import Testing
@testable import VARCore
import VARKit

/// The thread count is a value each call is given (`Parallelism`), not process state: the partition of a loop
/// follows the value, a BLAS product sets OpenBLAS to the caller's count, and two pipelines with different
/// `threads` in one process keep their own counts and make the same tokens.
@Suite struct ParallelismTests {
    /// The chunks cover the range exactly, in order, at most `workers` (and `maxChunks`) of them, each but the
    /// last of at least `grain` items.
    @Test(arguments: [1, 2, 3, 8])
    func partitionCoversTheRange(workers: Int) {
        let p = Parallelism(workers: workers)
        for (count, grain, maxChunks) in [(0, 1, Int.max), (1, 1, .max), (7, 1, .max), (100, 10, .max), (100, 30, .max),
                                          (1000, 1, 2), (4096, 4096, .max), (65537, 4096, .max)] {
            let chunks = p.partition(count, grain: grain, maxChunks: maxChunks)
            #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == count, "\(count)")
            #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(chunks.count <= min(workers, maxChunks) && chunks.count >= 1)
            #expect(chunks.dropLast().allSatisfy { $0.count >= grain } && chunks.allSatisfy { !$0.isEmpty || count == 0 })
            #expect(chunks.count == min(workers, maxChunks, max(1, count / grain)))
        }
        #expect(Parallelism(workers: 0).workers == 1 && Parallelism(threads: nil).workers == Parallelism.processorCount)
    }

    /// `forEachChunk` runs exactly the chunks of `partition`: one with one worker, two with two.
    @Test func loopsRunThePartitionOfTheirValue() {
        func chunksRun(_ p: Parallelism, count: Int, grain: Int) -> [Range<Int>] {
            let lock = NSLock()
            var seen: [(Int, Range<Int>)] = []
            p.forEachChunk(count, grain: grain, maxChunks: .max) { i, r in lock.lock(); seen.append((i, r)); lock.unlock() }
            return seen.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let one = Parallelism.serial, two = Parallelism(workers: 2)
        #expect(chunksRun(one, count: 10_000, grain: 100) == [0..<10_000])
        #expect(chunksRun(two, count: 10_000, grain: 100) == [0..<5000, 5000..<10_000])
        #expect(chunksRun(two, count: 10_000, grain: 100) == two.partition(10_000, grain: 100))
        #expect(chunksRun(two, count: 150, grain: 100) == [0..<150])     // too small to split
    }

    /// The OpenBLAS threads a product is given (set right before it runs; the C library keeps them as
    /// process state, which another test's products may change at any time, so the decision is tested here):
    /// the caller's count for large products, one for small ones.
    @Test func blasProductsGetTheCallersCount() {
        let large = 2 * 256 * 256 * 256, small = 2 * 16 * 16 * 16
        #expect(large >= BLAS.parallelFlops && small < BLAS.parallelFlops)
        #expect(Parallelism(workers: 2).blasThreads(forFlops: large) == 2)
        #expect(Parallelism(workers: 3).blasThreads(forFlops: large) == 3)
        #expect(Parallelism.serial.blasThreads(forFlops: large) == 1)
        #expect(Parallelism(workers: 2).blasThreads(forFlops: small) == 1)
    }

    /// Two pipelines with 1 and 2 threads in one process: each keeps its own count (building the second does not
    /// change the first), and both make the same tokens, in either order.
    @Test func twoPipelinesKeepTheirOwnThreadCounts() throws {
        let w = TinyWeights.directory
        func pipeline(threads: Int) throws -> GenerationPipeline {
            let plan = try CoDePlan(drafter: try ModelSource(path: w + "/drafter.pth"),
                                    refiner: try ModelSource(path: w + "/refiner.pth"), draftSteps: 2)
            return try GenerationPipeline(try PipelineConfiguration(models: .collaborative(plan), tokenizer: w + "/vqvae.pth",
                                                                    threads: threads))
        }
        let one = try pipeline(threads: 1), two = try pipeline(threads: 2)
        #expect(one.parallelism.workers == 1 && two.parallelism.workers == 2)
        #expect(one.workspace.parallelism == .serial && two.workspace.parallelism == Parallelism(workers: 2))
        let sampling = SamplingConfig(cfg: 1.5)
        let a = try one.generateBatch(labels: [0, 1], seeds: [5, 6], sampling: sampling)
        let b = try two.generateBatch(labels: [0, 1], seeds: [5, 6], sampling: sampling)
        let c = try one.generateBatch(labels: [0, 1], seeds: [5, 6], sampling: sampling)
        #expect(a.tokens == b.tokens && b.tokens == c.tokens)
        #expect(a.images.map(\.pixels) == b.images.map(\.pixels))
        #expect(one.parallelism.workers == 1 && one.workspace.parallelism.workers == 1)
    }
}
