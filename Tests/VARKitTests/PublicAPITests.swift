import Foundation
import Testing
import VARKit

/// The library as an application sees it: `import VARKit` only, no `@testable`. README.md's "Use as a
/// library" shows `generateWithCoDe` verbatim; this test is what keeps that code compiling.
@Suite struct PublicAPITests {
    /// The shipped models (weights/ at the package root).
    static let weights = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("weights").path

    /// README "Use as a library": CoDe with the shipped drafter and refiner, five images in batches of two,
    /// each PNG written as soon as its batch is done. Returns the files and the predicted peak of a batch.
    static func generateWithCoDe(weights: String, into directory: String, seed: UInt64)
        throws -> (files: [String], peak: MemoryPrediction.Peak) {
        let drafter = try ModelSource(path: weights + "/drafter.pth")    // reads drafter.json beside it
        let refiner = try ModelSource(path: weights + "/refiner.pth")
        let plan = try CoDePlan(drafter: drafter, refiner: refiner)     // draft steps: the JSON's, else min(8, S−1)
        let configuration = try PipelineConfiguration(models: .collaborative(plan))   // VQVAE: the JSON's "vqvae"
        let pipeline = try GenerationPipeline(configuration)             // predicts memory, then loads
        let peak = pipeline.predictMemory(batch: 2)
        var files: [String] = []
        let request = GenerationRequest(labels: [0, 1, 2, 3, 4], seed: seed, batchSize: 2)
        try pipeline.generate(request) { event in
            if case let .batch(batch) = event {
                for (i, image) in batch.images.enumerated() {
                    let file = directory + "/image_\(batch.firstImage + i).png"
                    try PNG.write(image, to: file)
                    files.append(file)
                }
            }
            return true    // false cancels
        }
        return (files, peak)
    }

    @Test func generatesWithCoDeAndStreamsPNGs() throws {
        let root = NSTemporaryDirectory() + "vargen-public-api-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var runs: [[Data]] = []
        for run in 0..<2 {
            let dir = root + "/run\(run)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let (files, peak) = try Self.generateWithCoDe(weights: Self.weights, into: dir, seed: 7)
            #expect(files.count == 5)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 5)
            let size = try ImageTokenizer.configuration(at: Self.weights + "/vqvae.pth").imageSize
            for file in files {
                let image = try PNG.read(file).image
                #expect(image.width == size && image.height == size, "\(file): \(image.width)×\(image.height)")
            }
            #expect(peak.total > peak.accounted && peak.accounted > 0)
            runs.append(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) })
        }
        // Same seed, same bytes; different seeds within a run, different images.
        #expect(runs[0] == runs[1])
        #expect(Set(runs[0]).count == 5)
    }

    /// The memory prediction grows with the batch, and a budget picks the largest batch whose peak fits.
    @Test func memoryPredictionFollowsTheBatch() throws {
        let drafter = try ModelSource(path: Self.weights + "/drafter.pth")
        let refiner = try ModelSource(path: Self.weights + "/refiner.pth")
        let configuration = try PipelineConfiguration(models: .collaborative(try CoDePlan(drafter: drafter, refiner: refiner)))
        let prediction = try GenerationPipeline.predictMemory(configuration)
        let one = prediction.peak(batch: 1), four = prediction.peak(batch: 4)
        #expect(one.total > 0 && four.total > one.total)
        #expect(prediction.largestBatch(upTo: 8, budget: four.total) == 4)
        #expect(prediction.largestBatch(upTo: 8, budget: one.total - 1) == nil)
        #expect(throws: PipelineError.self) {
            try CoDePlan(drafter: drafter, refiner: refiner, draftSteps: drafter.config.scaleCount)
        }
        var unnamed = drafter.config
        unnamed.vqvae = nil        // a model JSON that names no VQVAE, and none given
        #expect(throws: PipelineError.self) {
            try PipelineConfiguration(models: .plain(ModelSource(path: "m.pth", config: unnamed)))
        }
    }
}
