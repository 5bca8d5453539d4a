import Foundation
@testable import VARCore
import VARKit
@testable import var_gen

/// A tiny VQVAE + drafter + refiner with random weights and JSON configurations, written once per test
/// process as `weights/` in a temporary directory (safetensors content under the shipped `.pth` names; the
/// checkpoint reader detects the format by content). 8×8 images, 4 scales, 3 classes "cat", "dog", "fish".
enum TinyWeights {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "vargen-cli-weights-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do { try write(to: dir) } catch { fatalError("TinyWeights: \(error)") }
        return dir
    }()

    static let patchSizes = [1, 2, 3, 4]

    static var vqvaeConfig: VQVAEConfig {
        VQVAEConfig(vocabSize: 64, zChannels: 8, ch: 32, chMult: [1, 2], numResBlocks: 1, patchSizes: patchSizes,
                    phiCount: 2, phiIndex: VQVAEConfig.phiTable(scaleCount: 4, phiCount: 2), quantResi: 0.5)
    }

    static func varConfig(depth: Int) -> VARConfig {
        VARConfig(depth: depth, width: 32, heads: 2, numClasses: 3, vocabSize: 64, zChannels: 8, patchSizes: patchSizes,
                  classNames: ["cat", "dog", "fish"], vqvae: "vqvae.pth",
                  sampling: SamplingDefaults(cfg: 1.5, topK: 0, topP: 0, temperature: .uniform(1), moreSmooth: false, draftSteps: 2))
    }

    static func write(to dir: String) throws {
        let encoder = JSONEncoder()
        let vq = RandomWeights(seed: 11)
        _ = VQVAE(config: vqvaeConfig, weights: vq)
        try SafetensorsEncoder.write(vq.store.tensors.sorted { $0.key < $1.key }.map { .init(name: $0.key, tensor: $0.value) },
                                    to: dir + "/vqvae.pth")
        try encoder.encode(vqvaeConfig).write(to: URL(fileURLWithPath: dir + "/vqvae.json"))
        for (name, depth) in [("drafter", 2), ("refiner", 1)] {
            let config = varConfig(depth: depth)
            let random = RandomWeights(seed: UInt64(depth), profile: .transformer)
            _ = VARModel(config: config, weights: random)
            let tensors = random.tensors
            try SafetensorsEncoder.write(tensors.sorted { $0.key < $1.key }.map { .init(name: $0.key, tensor: $0.value) },
                                        to: "\(dir)/\(name).pth")
            try encoder.encode(config).write(to: URL(fileURLWithPath: "\(dir)/\(name).json"))
        }
    }
}

/// Runs the CLI in-process with captured output; `VARGEN_WEIGHTS` points at the tiny weights unless
/// `environment` overrides it.
func runCLI(_ arguments: [String], environment: [String: String]? = nil, in directory: String = NSTemporaryDirectory())
    -> (code: Int32, out: String, err: String) {
    let (console, captured) = Console.capturing()
    let context = CLIContext(console: console, environment: environment ?? ["VARGEN_WEIGHTS": TinyWeights.directory],
                             currentDirectory: directory, executablePath: "/nonexistent/var-gen")
    let code = CLI.run(arguments, context: context)
    let (out, err) = captured()
    return (code, out, err)
}
