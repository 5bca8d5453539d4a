import Foundation
import VARKit

/// What a benchmark ran on: commit, CPU, BLAS core and threads.
struct BenchEnvironment {
    var commit: String
    var cpu: String
    var blasCore: String
    /// The threads of OpenBLAS and of the engine's loops (one figure serves both); nil when `--threads`
    /// sweeps several counts (each row then has its own).
    var blasThreads: Int?
    var loadSeconds: Double
    var random: Bool
    /// How the transformers' linear weights were held (nil for `--sgemm`, or when configurations differ).
    var weights: WeightPrecision?
    /// The refiner's, when a refiner was loaded.
    var refinerWeights: WeightPrecision?
    /// Bytes of float32 matrices used in place from the checkpoints' memory maps.
    var mappedBytes = 0

    static func current(_ context: CLIContext, loadSeconds: Double, random: Bool, parallelism: Parallelism,
                        weights: WeightPrecision? = nil, refinerWeights: WeightPrecision? = nil) -> BenchEnvironment {
        BenchEnvironment(commit: gitCommit(near: context.executablePath), cpu: cpuModel(), blasCore: BLAS.coreName,
                         blasThreads: parallelism.workers, loadSeconds: loadSeconds,
                         random: random, weights: weights, refinerWeights: refinerWeights)
    }

    /// `git describe --always --dirty` of the checkout holding the executable, else "unknown".
    static func gitCommit(near executable: String) -> String {
        let dir = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir), FileManager.default.isExecutableFile(atPath: "/usr/bin/git")
        else { return "unknown" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", dir, "describe", "--always", "--dirty"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && !s.isEmpty ? s : "unknown"
    }

    /// The "model name" line of /proc/cpuinfo, else "unknown".
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmed }
        }
        return "unknown"
    }

    var json: [String: Any] {
        ["commit": commit, "cpu": cpu, "blas_core": blasCore, "blas_threads": blasThreads ?? NSNull(), "workers": blasThreads ?? NSNull(),
         "load_seconds": loadSeconds, "random_weights": random, "weight_precision": weights?.rawValue ?? NSNull(),
         "refiner_weight_precision": refinerWeights?.rawValue ?? NSNull(), "mapped_weight_bytes": mappedBytes]
    }

    var markdown: String {
        "- commit \(commit); CPU \(cpu); OpenBLAS core \(blasCore), "
            + (blasThreads.map { "\($0) BLAS threads, \($0) workers\n" } ?? "threads per configuration\n")
            + String(format: "- weights: %@; load %.1f s%@\n", random ? "random, official shapes" : "files", loadSeconds,
                     mappedBytes > 0 ? "; \(ByteSize.format(mappedBytes)) of float32 matrices used in place from the file" : "")
            + (weights.map { w in
                guard let r = refinerWeights, r != w else { return "- transformer weights: \(w.kernelDescription)\n" }
                return "- transformer weights: drafter \(w.kernelDescription); refiner \(r.kernelDescription)\n"
            } ?? "")
    }
}
