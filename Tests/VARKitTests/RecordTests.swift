import Foundation
import Testing
@testable import VARCore
@testable import VARKit

/// Generation records (PNG metadata that re-runs an image) and sample manifests.
@Suite("Records: generation records and sample manifests")
struct RecordTests {
    static let hashA = String(repeating: "ab", count: 32), hashB = String(repeating: "cd", count: 32)
    static let hashV = String(repeating: "0f", count: 32)

    static func record(_ kind: GenerationRecord.Kind) -> GenerationRecord {
        var r = GenerationRecord(command: kind, version: "0.2", vqvae: .init(name: "vqvae.pth", sha256: hashV))
        if kind == .decode || kind == .reconstruct {
            if kind == .decode { r.tokens = .init(file: .init(name: "t.safetensors", sha256: hashA), index: 1); r.classes = [.id(3)] }
            else { r.input = .init(name: "in.png", sha256: hashA) }
            return r
        }
        r.models = kind == .grid
            ? .init(drafter: .init(name: "drafter.pth", sha256: hashA), refiner: .init(name: "refiner.pth", sha256: hashB),
                    draftSteps: 2, weights: "f16,f32")
            : .init(model: .init(name: "drafter.pth", sha256: hashA), weights: "f16")
        r.sampling = .init(SamplingConfig(cfg: 1.5, topK: .perScale([0, 5, 5, 5]), topP: 0.9,
                                          temperature: .perScale([1.1, 1.1, 1, 1]), moreSmooth: true))
        r.classes = [.unconditional]
        r.seed = 4_294_967_295
        switch kind {
        case .grid: r.classes = [.id(0), .id(1), .unconditional]; r.grid = .init(count: 3, columns: 2); r.seed = 7
        case .sample: r.classes = [.id(2)]; r.sample = .init(baseSeed: 0, index: 4)
        case .edit: r.edit = .init(input: .init(name: "é photo.png", sha256: hashB), mask: nil, box: [0.25, 0, 1, 0.5], outpaint: true)
        default: break
        }
        return r
    }

    @Test(arguments: GenerationRecord.Kind.allCases)
    func jsonRoundTripIsExactAndLatin1(kind: GenerationRecord.Kind) throws {
        let r = Self.record(kind)
        let json = try r.json()
        #expect(json.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(try r.json() == json)                       // deterministic bytes
        #expect(try GenerationRecord.parse(json: json, path: "x.png") == r)
        let chunks = try r.textChunks(classNames: ["uncond"], steps: 4, width: 8, height: 8)
        #expect(try GenerationRecord.from(textChunks: chunks, path: "x.png") == r)
        _ = try PNG.encode(RGBImage(width: 2, height: 2), text: chunks)   // both chunks fit tEXt
    }

    @Test func uncondAndSeedAreSpelledAsTheCLIAcceptsThem() throws {
        let json = try Self.record(.generate).json()
        #expect(json.contains("\"classes\":[\"uncond\"]"))
        #expect(json.contains("\"seed\":4294967295"))
        #expect(json.contains("\"weights\":\"f16\""))
    }

    @Test func parametersChunkHasStableDiffusionFields() throws {
        let text = Self.record(.grid).parametersText(classNames: ["cat", "dog", "uncond"], steps: 4, width: 8, height: 8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0] == "cat, dog, uncond")
        for field in ["Steps: 4", "Sampler: CoDe next-scale", "CFG scale: 1.5", "Seed: 7", "Size: 8x8",
                      "Model hash: \(String(Self.hashA.prefix(10)))", "Model: drafter", "Refiner: refiner", "Draft steps: 2",
                      "Weights: \"f16,f32\"", "VAE: vqvae.pth", "Top k: \"0,5,5,5\"", "Top p: 0.9", "Temperature: \"1.1,1.1,1,1\"",
                      "Version: var-gen 0.2"] {
            #expect(lines[1].contains(field), "missing \(field) in \(lines[1])")
        }
    }

    @Test func errorsNameTheFieldWithoutFoundationInternals() throws {
        let good = try Self.record(.sample).json()
        func message(_ json: String) -> String {
            do { _ = try GenerationRecord.parse(json: json, path: "a.png"); return "" } catch { return "\(error)" }
        }
        let missingSeed = message(good.replacingOccurrences(of: "\"seed\":4294967295,", with: ""))
        #expect(missingSeed == "a.png: record field 'seed': missing (needed by 'sample')")
        let wrongType = message(good.replacingOccurrences(of: "\"cfg\":1.5", with: "\"cfg\":\"high\""))
        #expect(wrongType == "a.png: record field 'sampling.cfg': expected a number")
        let noKey = message(good.replacingOccurrences(of: "\"version\":\"0.2\",", with: ""))
        #expect(noKey == "a.png: record field 'version': missing")
        let badClass = message(good.replacingOccurrences(of: "\"classes\":[2]", with: "\"classes\":[\"none\"]"))
        #expect(badClass.hasPrefix("a.png: record field 'classes[0]': expected a class id or \"uncond\""))
        #expect(message("{not json").contains("not valid JSON"))
        let badHash = message(good.replacingOccurrences(of: Self.hashV, with: "xyz"))
        #expect(badHash == "a.png: record field 'vqvae.sha256': expected 64 lower-case hex digits")
        let future = message(good.replacingOccurrences(of: "\"format\":1", with: "\"format\":9"))
        #expect(future.contains("record format 9 is not supported"))
        for m in [missingSeed, wrongType, noKey, badClass] {
            #expect(!m.contains("CodingKeys") && !m.contains("DecodingError") && !m.contains("Swift."))
        }
        #expect(throws: RecordError.noRecord(path: "p.png")) {
            try GenerationRecord.from(textChunks: [PNGTextChunk(key: "Comment", text: "hi")], path: "p.png")
        }
        #expect(throws: RecordError.legacy(path: "p.png", text: "class=10 seed=0")) {
            try GenerationRecord.from(textChunks: [PNGTextChunk(key: "var-gen", text: "class=10 seed=0")], path: "p.png")
        }
    }

    @Test func recordsOnDiskAreReadBackFromThePNG() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = Self.record(.edit)
        try PNG.write(RGBImage(width: 3, height: 3), text: try r.textChunks(classNames: ["uncond"], steps: 4, width: 3, height: 3),
                      to: dir + "/e.png")
        #expect(try GenerationRecord.read(png: dir + "/e.png") == r)
    }

    // MARK: Sample manifests

    static func manifest() -> SampleManifest {
        let r = record(.sample)
        return SampleManifest(version: r.version, vqvae: r.vqvae, models: r.models!, sampling: r.sampling!, baseSeed: 0)
    }

    @Test func manifestDifferencesNameEveryField() throws {
        let m = Self.manifest()
        #expect(m.differences(from: m).isEmpty)
        var other = m
        other.sampling.cfg = 3
        other.baseSeed = 7
        other.models.weights = "f32"
        other.vqvae.sha256 = Self.hashB
        let d = m.differences(from: other)
        #expect(d.map(\.field) == ["baseSeed", "models.weights", "sampling.cfg", "vqvae.sha256"])
        #expect(d.first { $0.field == "sampling.cfg" }?.expected == "1.5")
        #expect(d.first { $0.field == "sampling.cfg" }?.actual == "3")
        var coDe = m
        coDe.models = .init(drafter: m.models.model!, refiner: .init(name: "r.pth", sha256: Self.hashB), draftSteps: 2, weights: "f16")
        #expect(Set(m.differences(from: coDe).map(\.field)) ==
                ["models.model.name", "models.model.sha256", "models.drafter.name", "models.drafter.sha256",
                 "models.refiner.name", "models.refiner.sha256", "models.draftSteps"])
    }

    @Test func manifestFileRoundTripAndImageCheck() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try SampleManifest.read(directory: dir) == nil)
        let m = Self.manifest()
        try m.write(directory: dir)
        #expect(try SampleManifest.read(directory: dir) == m)
        let image = m.record(classID: .id(2), index: 4, seed: 99)
        #expect(m.differences(image: image, classID: .id(2), index: 4, seed: 99).isEmpty)
        #expect(m.differences(image: image, classID: .id(2), index: 5, seed: 100).map(\.field) == ["sample.index", "seed"])
        var foreign = image
        foreign.sampling?.topP = 0
        #expect(m.differences(image: foreign, classID: .id(2), index: 4, seed: 99).map(\.field) == ["sampling.topP"])
        try AtomicFile.write(Array("{\"format\":1}".utf8), to: dir + "/" + SampleManifest.fileName)
        #expect(throws: RecordError.self) { try SampleManifest.read(directory: dir) }
    }
}
