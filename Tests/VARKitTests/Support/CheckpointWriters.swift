import Foundation
@testable import VARCore
import VARKit

/// Writers for test checkpoints: safetensors, pickle streams and torch.save-style ZIP archives,
/// written in Swift so the checkpoint tests need no Python. Shapes and bytes follow docs/model.md §8.
enum CheckpointWriters {
    /// A fresh path under the system temp directory (files are small; the OS cleans /tmp).
    static func temporaryPath(_ stem: String, _ ext: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vargen-checkpoint-tests")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("\(stem)-\(UUID().uuidString).\(ext)").path
    }

    static func write(_ bytes: [UInt8], _ stem: String, _ ext: String) -> String {
        let path = temporaryPath(stem, ext)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}

/// Little-endian byte helpers.
extension Array where Element == UInt8 {
    mutating func le16(_ v: Int) { append(UInt8(truncatingIfNeeded: v)); append(UInt8(truncatingIfNeeded: v >> 8)) }
    mutating func le32(_ v: Int) { for k in 0..<4 { append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func le64(_ v: UInt64) { for k in 0..<8 { append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
    mutating func le64(_ v: Int) { le64(UInt64(bitPattern: Int64(v))) }
    mutating func put32(_ v: Int, at o: Int) { for k in 0..<4 { self[o + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
    mutating func put64(_ v: UInt64, at o: Int) {
        for k in 0..<8 { self[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
    }
}

/// Element encodings of test tensors.
enum TestEncode {
    static func f32(_ xs: [Float]) -> [UInt8] { xs.flatMap { v -> [UInt8] in var b: [UInt8] = []; b.le32(Int(v.bitPattern)); return b } }
    static func f16(_ xs: [Float]) -> [UInt8] {
        xs.flatMap { v -> [UInt8] in var b: [UInt8] = []; b.le16(Int(Float16(v).bitPattern)); return b }
    }
    /// Truncating bf16 (test values are chosen exactly representable).
    static func bf16(_ xs: [Float]) -> [UInt8] {
        xs.flatMap { v -> [UInt8] in var b: [UInt8] = []; b.le16(Int(v.bitPattern >> 16)); return b }
    }
    static func f64(_ xs: [Double]) -> [UInt8] { xs.flatMap { v -> [UInt8] in var b: [UInt8] = []; b.le64(v.bitPattern); return b } }
    static func i64(_ xs: [Int64]) -> [UInt8] { xs.flatMap { v -> [UInt8] in var b: [UInt8] = []; b.le64(UInt64(bitPattern: v)); return b } }
}

/// Writes `.safetensors` files (docs/model.md §8.6): header JSON padded with spaces to 8-byte alignment.
struct SafetensorsWriter {
    struct Item { var name: String; var dtype: String; var shape: [Int]; var bytes: [UInt8] }
    var items: [Item] = []
    var metadata: [String: String] = [:]

    mutating func add(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8]) {
        items.append(Item(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }
    mutating func f32(_ name: String, _ shape: [Int], _ values: [Float]) { add(name, "F32", shape, TestEncode.f32(values)) }

    /// The header JSON text with the given offsets (override for hostile files).
    func header(offsets: [(Int, Int)]? = nil) -> String {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\"\($0)\":\"\(metadata[$0]!)\"" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(m)}")
        }
        var cursor = 0
        for (i, item) in items.enumerated() {
            let (b, e) = offsets?[i] ?? (cursor, cursor + item.bytes.count)
            cursor += item.bytes.count
            let shape = item.shape.map(String.init).joined(separator: ",")
            parts.append("\"\(item.name)\":{\"dtype\":\"\(item.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(b),\(e)]}")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// The file; `headerLength` pads the JSON with spaces to exactly that many bytes.
    func bytes(header text: String? = nil, headerLength: Int? = nil) -> [UInt8] {
        var h = Array((text ?? header()).utf8)
        while (8 + h.count) % 8 != 0 || h.count < (headerLength ?? 0) { h.append(0x20) }
        var out: [UInt8] = []
        out.le64(UInt64(h.count))
        out += h
        for item in items { out += item.bytes }
        return out
    }

    func write(_ stem: String = "st") -> String { CheckpointWriters.write(bytes(), stem, "safetensors") }
}
