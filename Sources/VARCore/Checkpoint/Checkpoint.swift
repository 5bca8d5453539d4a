import Glibc

/// A tensor checkpoint on disk: a `torch.save` ZIP (`.pth`) or a `.safetensors` file, detected by
/// content (docs/model.md §8.1), memory-mapped read-only and validated completely when opened.
///
/// After `init` succeeds every tensor's byte range is known to lie inside the file, so reading a
/// tensor can only fail for a missing key or a wrong element kind. Nothing in the file is executed:
/// `.pth` pickles run on a data-only machine with an allow-list (`PickleMachine`).
///
/// ```swift
/// let ckpt = try Checkpoint(path: "weights/vqvae.safetensors")
/// let w = try ckpt.tensor("quant_conv.weight")           // (32, 32, 3, 3) float32
/// try ckpt.withFloat32Storage("head.weight") { w in … }  // zero-copy, f32 only
/// ```
public final class Checkpoint: @unchecked Sendable {
    /// Container format of the file.
    public enum Format: String, Sendable { case torchZip, safetensors }

    public let path: String
    public let format: Format
    /// Tensor names in file order (pickle order for `.pth`, data-section order for safetensors).
    public let names: [String]
    /// The safetensors `__metadata__` map (empty for `.pth`).
    public let metadata: [String: String]

    private let file: MappedFile
    private let tensors: [String: StoredTensor]

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    /// Parses an in-memory copy of a file's bytes; `name` stands in for the path in errors.
    convenience init(bytes: [UInt8], name: String) throws {
        try self.init(file: MappedFile(copying: bytes, name: name))
    }

    private init(file: MappedFile) throws {
        let path = file.path
        let view = ByteView(bytes: file.bytes)
        self.file = file
        self.path = path
        if view.matches(0, [0x50, 0x4B, 0x03, 0x04]) {
            let contents = try TorchZipReader.read(view, file: path)
            format = .torchZip
            names = contents.names
            tensors = contents.tensors
            metadata = [:]
        } else if view.u8(0) == 0x80 && !Self.looksLikeSafetensors(view) {
            throw CheckpointError.unsupportedFormat(
                file: path, reason: "this is a legacy (pre-1.6) torch.save file, which var-gen does not read")
        } else if view.count == 0 {
            throw CheckpointError.unsupportedFormat(file: path, reason: "the file is empty")
        } else {
            if view.matches(0, [0x50, 0x4B]) {
                throw CheckpointError.badZip(file: path, offset: 0, reason: "the file does not start with a "
                                             + "ZIP local file header (bytes 50 4B 03 04)")
            }
            guard let n = view.u64(0), n <= UInt64(view.count - 8) else {
                // Never interpret (or print) the bytes of a file that is not a checkpoint: name what it is.
                if let kind = FileKind.describe(file.bytes) {
                    throw CheckpointError.unsupportedFormat(file: path, reason: "the file is \(kind), not a checkpoint")
                }
                throw CheckpointError.unsupportedFormat(
                    file: path, reason: "the file is neither a torch.save ZIP nor a .safetensors file (its first 8 bytes "
                    + "are not the length of a JSON header within the file)")
            }
            let contents = try SafetensorsReader.read(view, file: path)
            format = .safetensors
            names = contents.names
            tensors = contents.tensors
            metadata = contents.metadata
        }
        try Self.checkReferencedBytes(tensors, fileBytes: view.count, file: path)
    }

    /// How many times the file's size its tensors may describe in all. `.pth` views may share a storage
    /// (tied weights); far more than that would let a small file make a loader copy the same bytes over
    /// and over. Safetensors tensors tile their data exactly (factor 1).
    public static let maxViewAmplification = 4

    private static func checkReferencedBytes(_ tensors: [String: StoredTensor], fileBytes: Int, file: String) throws {
        var total = 0
        let limit = maxViewAmplification * fileBytes + (1 << 20)
        for t in tensors.values {
            total += t.entry.count * t.entry.dtype.itemSize   // each ≤ its storage ≤ the file: no overflow
            guard total <= limit else {
                throw CheckpointError.exceedsLimit(
                    file: file, reason: "its tensors describe more than \(maxViewAmplification)× the file's \(fileBytes) "
                    + "bytes (views sharing storage)")
            }
        }
    }

    /// Elements stored across all tensors: an upper bound on the weights a model built from this file can
    /// hold (`ConfigLimits.requireBacked`).
    public var storedElementCount: Int { tensors.values.reduce(0) { $0 + $1.entry.count } }

    /// A safetensors header length can start with byte 0x80 (e.g. 640 = `80 02 00…`), the same byte as
    /// a legacy pickle's PROTO; the JSON's opening brace right after the length tells them apart.
    private static func looksLikeSafetensors(_ view: ByteView) -> Bool {
        guard let n = view.u64(0), n >= 2, n <= UInt64(view.count - 8) else { return false }
        return view.u8(8) == UInt8(ascii: "{")
    }

    /// Name, dtype and shape of a tensor, or nil if the file has no such key.
    public func entry(_ name: String) -> TensorEntry? { tensors[name]?.entry }

    /// All entries in file order.
    public var entries: [TensorEntry] { names.compactMap { tensors[$0]?.entry } }

    private func stored(_ name: String) throws -> StoredTensor {
        guard let t = tensors[name] else { throw CheckpointError.tensorNotFound(file: path, key: name) }
        return t
    }

    /// The tensor as float32 (float16, bfloat16 and float64 converted; integers and bools converted
    /// to their float value). Strided and offset views are gathered into row-major order.
    /// Costs one copy for contiguous float32 data.
    public func tensor(_ name: String) throws -> Tensor {
        let t = try stored(name)
        let count = t.entry.count
        let bytes = file.bytes
        let base = t.dataOffset
        let data = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            var k = 0
            switch t.entry.dtype {
            case .float32:
                if t.isContiguous, count > 0 {
                    let src = UnsafeRawBufferPointer(rebasing: bytes[t.firstByte..<(t.firstByte + 4 * count)])
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: src)
                    #if _endian(big)
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
                    #endif
                } else {
                    t.forEachIndex { i in
                        out[k] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(
                            fromByteOffset: base + 4 * i, as: UInt32.self)))
                        k += 1
                    }
                }
            case .float16:
                t.forEachIndex { i in
                    let h = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
                    out[k] = Float(Float16(bitPattern: h)); k += 1
                }
            case .bfloat16:
                t.forEachIndex { i in
                    let h = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
                    out[k] = Float(bitPattern: UInt32(h) << 16); k += 1
                }
            case .float64:
                t.forEachIndex { i in
                    let d = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self))
                    out[k] = Float(Double(bitPattern: d)); k += 1
                }
            case .int64, .int32, .int16, .int8, .uint8, .bool:
                forEachInteger(t) { v in out[k] = Float(v); k += 1 }
            }
            initialized = count
        }
        if t.isContiguous && count > 0 {
            // The copy is what the model keeps; the file's pages it was read from would otherwise stay in this
            // process's resident set until the checkpoint is closed (VAR-d30: 8 GB of pages beside 8 GB of copies).
            file.release(t.firstByte, t.entry.dtype.itemSize * count)
        }
        return Tensor(shape: t.entry.shape, data: data)
    }

    /// The elements of an integer (or bool) tensor as Int64, row-major. Float tensors throw
    /// `.wrongDType`.
    public func int64s(_ name: String) throws -> [Int64] {
        let t = try stored(name)
        guard !t.entry.dtype.isFloatingPoint else {
            throw CheckpointError.wrongDType(file: path, key: name, dtype: t.entry.dtype, wanted: "an integer dtype")
        }
        var out: [Int64] = []
        out.reserveCapacity(t.entry.count)
        forEachInteger(t) { out.append($0) }
        return out
    }

    private func forEachInteger(_ t: StoredTensor, _ body: (Int64) -> Void) {
        let bytes = file.bytes
        let base = t.dataOffset
        switch t.entry.dtype {
        case .int64:
            t.forEachIndex { i in
                body(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 8 * i, as: Int64.self)))
            }
        case .int32:
            t.forEachIndex { i in
                body(Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self))))
            }
        case .int16:
            t.forEachIndex { i in
                body(Int64(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 2 * i, as: Int16.self))))
            }
        case .int8: t.forEachIndex { i in body(Int64(Int8(bitPattern: bytes[base + i]))) }
        case .uint8: t.forEachIndex { i in body(Int64(bytes[base + i])) }
        case .bool: t.forEachIndex { i in body(bytes[base + i] != 0 ? 1 : 0) }
        case .float32, .float16, .bfloat16, .float64: break
        }
    }

    /// Calls `body` with the tensor's float32 elements in place in the mapped file (row-major, no copy)
    /// when the tensor is contiguous float32 and 4-byte aligned; otherwise converts into a temporary
    /// buffer first. The pointer is valid only inside `body`.
    public func withFloat32Storage<R>(_ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        if let raw = try contiguousFloat32Bytes(name) {
            return try raw.withMemoryRebound(to: Float.self) { try body($0) }
        }
        return try tensor(name).data.withUnsafeBufferPointer { try body($0) }
    }

    /// The tensor's float32 elements in place in the mapped file, kept valid by the returned value (it holds
    /// this checkpoint); nil unless the tensor is contiguous, float32 and 4-byte aligned.
    public func mappedFloat32(_ name: String) -> MappedFloats? {
        guard let raw = try? contiguousFloat32Bytes(name) else { return nil }
        return MappedFloats(buffer: raw.bindMemory(to: Float.self), owner: self)
    }

    /// Whether `withFloat32Storage` would hand out the mapped bytes directly.
    public func isZeroCopy(_ name: String) -> Bool {
        (try? contiguousFloat32Bytes(name)) != nil
    }

    private func contiguousFloat32Bytes(_ name: String) throws -> UnsafeRawBufferPointer? {
        let t = try stored(name)
        #if _endian(little)
        guard t.entry.dtype == .float32, t.isContiguous, t.entry.count > 0 else { return nil }
        let start = t.firstByte
        guard start % 4 == 0 else { return nil }  // mmap base is page-aligned
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + 4 * t.entry.count)])
        #else
        return nil
        #endif
    }

    /// The raw little-endian bytes of a contiguous tensor, in the mapped file (valid as long as this
    /// `Checkpoint` is alive); nil for strided views.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer? {
        let t = try stored(name)
        guard t.isContiguous else { return nil }
        if t.entry.count == 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = t.firstByte
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + t.entry.dtype.itemSize * t.entry.count)])
    }
}
