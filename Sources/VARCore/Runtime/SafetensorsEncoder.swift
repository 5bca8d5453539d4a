import Foundation

/// Writes small `.safetensors` files of int64 or float32 tensors (saved token pyramids: `var-gen generate
/// --save-tokens`; test checkpoints); read them back with `Checkpoint`. Layout: little-endian `u64` header length, a JSON header
/// `{"name": {"dtype": "I64", "shape": [...], "data_offsets": [a, b]}, "__metadata__": {...}}` padded with
/// spaces to a multiple of 8, then the data.
public enum SafetensorsEncoder {
    /// One tensor: name, safetensors dtype ("I64" or "F32"), shape and little-endian bytes.
    public struct Entry {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, shape: [Int], int64s values: [Int64]) {
            precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) vs \(values.count) values")
            self.name = name; dtype = "I64"; self.shape = shape
            bytes = []
            bytes.reserveCapacity(values.count * 8)
            for v in values { let u = UInt64(bitPattern: v); for k in 0..<8 { bytes.append(UInt8((u >> (8 * k)) & 0xFF)) } }
        }

        public init(name: String, tensor: Tensor) {
            self.name = name; dtype = "F32"; shape = tensor.shape
            bytes = tensor.data.withUnsafeBytes { Array($0) }     // little-endian hosts only (x86-64, arm64)
        }
    }

    public static func encode(_ tensors: [Entry], metadata: [String: String] = [:]) throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]] as [String: Any]
            offset += t.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out: [UInt8] = (0..<8).map { UInt8((UInt64(json.count) >> (8 * $0)) & 0xFF) }
        out += json
        out.reserveCapacity(out.count + offset)
        for t in tensors { out += t.bytes }
        return out
    }

    /// Encodes and writes atomically.
    public static func write(_ tensors: [Entry], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: path)
    }
}
