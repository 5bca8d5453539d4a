import Foundation

/// Writes small `.safetensors` files of int64 tensors (saved token pyramids: `var-gen generate --save-tokens`);
/// read them back with `Checkpoint`. Layout: little-endian `u64` header length, a JSON header
/// `{"name": {"dtype": "I64", "shape": [...], "data_offsets": [a, b]}, "__metadata__": {...}}` padded with
/// spaces to a multiple of 8, then the data.
public enum SafetensorsWriter {
    public struct IntTensor {
        public var name: String
        public var shape: [Int]
        public var values: [Int64]
        public init(name: String, shape: [Int], values: [Int64]) {
            precondition(shape.reduce(1, *) == values.count, "IntTensor \(name): shape \(shape) vs \(values.count) values")
            self.name = name; self.shape = shape; self.values = values
        }
    }

    public static func encode(_ tensors: [IntTensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": "I64", "shape": t.shape, "data_offsets": [offset, offset + 8 * t.values.count]] as [String: Any]
            offset += 8 * t.values.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out: [UInt8] = (0..<8).map { UInt8((UInt64(json.count) >> (8 * $0)) & 0xFF) }
        out += json
        out.reserveCapacity(out.count + offset)
        for t in tensors {
            for v in t.values {
                let u = UInt64(bitPattern: v)
                for k in 0..<8 { out.append(UInt8((u >> (8 * k)) & 0xFF)) }
            }
        }
        return out
    }

    /// Encodes and writes atomically.
    public static func write(_ tensors: [IntTensor], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: path)
    }
}
