import Foundation
import VARKit

/// Saved token pyramids (`generate --save-tokens`, `reconstruct --save-tokens`, read by `decode`): a
/// safetensors file with `scale_{si}` `(B, pn, pn)` int64 per scale, `labels` `(B)` and `seeds` `(B)`,
/// and `__metadata__` holding `patch_sizes` and provenance.
enum TokenFile {
    static func write(tokens: [[Int32]], labels: [Int], seeds: [UInt64], patchSizes: [Int],
                      metadata: [String: String], to path: String) throws {
        let B = labels.count
        var tensors: [SafetensorsEncoder.Entry] = []
        for (si, t) in tokens.enumerated() {
            let pn = patchSizes[si]
            tensors.append(.init(name: "scale_\(si)", shape: [B, pn, pn], int64s: t.map(Int64.init)))
        }
        tensors.append(.init(name: "labels", shape: [B], int64s: labels.map(Int64.init)))
        tensors.append(.init(name: "seeds", shape: [B], int64s: seeds.map { Int64(bitPattern: $0) }))
        var meta = metadata
        meta["patch_sizes"] = patchSizes.map(String.init).joined(separator: ",")
        meta["format"] = "var-gen tokens 1"
        try SafetensorsEncoder.write(tensors, metadata: meta, to: path)
    }

    struct Contents {
        var tokens: [[Int32]]
        var patchSizes: [Int]
        var labels: [Int]?
        var count: Int
    }

    static func read(_ path: String) throws -> Contents {
        let ck = try Checkpoint(path: path)
        var tokens: [[Int32]] = []
        var sizes: [Int] = []
        while let e = ck.entry("scale_\(tokens.count)") {
            guard e.shape.count == 3, e.shape[1] == e.shape[2] else {
                throw CLIFailure("\(path): scale_\(tokens.count) has shape \(e.shape); expected (B, pn, pn)")
            }
            sizes.append(e.shape[1])
            tokens.append(try ck.int64s(e.name).map { Int32(truncatingIfNeeded: $0) })
        }
        guard !tokens.isEmpty else {
            throw CLIFailure("\(path) holds no scale_0 tensor\nHINT: pass a file written by --save-tokens")
        }
        let B = (ck.entry("scale_0")?.shape.first) ?? 0
        let labels = ck.entry("labels") != nil ? try ck.int64s("labels").map { Int($0) } : nil
        return Contents(tokens: tokens, patchSizes: sizes, labels: labels, count: B)
    }
}
