import CKernels

/// How a model stores the weight matrices of its linear layers.
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// IEEE binary32, as in the checkpoint (the default).
    case float32
    /// IEEE binary16 (round to nearest even at load), converted to float32 on the fly and accumulated in float32:
    /// half the weight memory and the weight traffic of the memory-bound small scales (docs/performance.md §9).
    case float16
    /// Symmetric int8 with a float32 scale per output row, quantized at load; products quantize their input rows
    /// the same way and run int8 dot products (`Int8GEMM`). The head stays float32 (docs/quantization.md).
    case int8

    /// Whether this CPU runs the float16 kernels (AVX2 + FMA + F16C).
    public static let float16Supported = vg_cpu_has_f16c() != 0

    /// The precision actually used when this one is asked for: float16 falls back to float32 on a CPU
    /// without F16C (the weights are then kept as loaded).
    public var effective: WeightPrecision { self == .float16 && !Self.float16Supported ? .float32 : self }

    /// Bytes per stored weight.
    public var bytesPerWeight: Int { self == .float16 ? 2 : self == .int8 ? 1 : 4 }

    /// Bytes of a stored `(out, in)` matrix (int8: padded rows and their scales).
    public func matrixBytes(out: Int, in k: Int) -> Int {
        guard self == .int8 else { return out * k * bytesPerWeight }
        let kp = Int8GEMM.paddedWidth(k), g = Int8GEMM.groupSize == 0 ? kp : Int8GEMM.groupSize
        return out * (kp + kp / g * MemoryLayout<Float>.stride)
    }

    /// The precision of the output head's matrices (head and its AdaLN) under this one: int8 keeps them float32.
    var head: WeightPrecision { self == .int8 ? .float32 : self }

    /// One line naming the storage and the kernels, for `--verbose`.
    public var kernelDescription: String {
        switch self {
        case .float32:
            return "float32 weights (SmallGEMM ≤ \(SmallGEMM.maxRows) rows, OpenBLAS sgemm above)"
        case .float16:
            return "float16 weights (F16C: fused kernel ≤ \(HalfGEMM.maxRows) rows, ≤ \(HalfGEMM.longRows) for inputs "
                + "≥ \(HalfGEMM.longK) wide; float32 panels + sgemm above)"
        case .int8:
            return "int8 weights (" + (Int8GEMM.groupSize == 0 ? "per-row scales" : "groups of \(Int8GEMM.groupSize)")
                + ", \(Int8GEMM.pathName(vg_q8_best_path())) int8 products; head float32)"
        }
    }
}

/// The weight matrix `W (out, in)` of a linear layer, row-major, stored in float32 (own copy or in place in the
/// checkpoint's memory map) or float16. Biases stay float32 `Tensor`s beside it.
struct LinearWeight {
    enum Storage {
        case float32([Float])
        case mapped(MappedFloats)  // float32 in the checkpoint file's pages
        case float16([UInt16])     // binary16 bit patterns
        case int8(QuantizedMatrix)
    }

    let outFeatures: Int
    let inFeatures: Int
    let storage: Storage

    /// Stores `tensor (out, in)` with `precision.effective` (int8 rows are quantized on `parallelism`).
    init(_ tensor: Tensor, precision: WeightPrecision, int8Group: Int = Int8GEMM.groupSize, parallelism: Parallelism) {
        precondition(tensor.rank == 2, "LinearWeight needs a (out, in) matrix, got \(tensor.shape)")
        outFeatures = tensor.shape[0]
        inFeatures = tensor.shape[1]
        switch precision.effective {
        case .float32:
            storage = .float32(tensor.data)
        case .float16:
            storage = .float16(HalfConversion.half(tensor.data))
        case .int8:
            storage = .int8(QuantizedMatrix(tensor.data, outFeatures: outFeatures, inFeatures: inFeatures, group: int8Group,
                                            parallelism: parallelism))
        }
    }

    /// Float32 weights used in place (`buffer.count` must be `shape[0]·shape[1]`).
    init(mapped: MappedFloats, shape: [Int]) {
        precondition(shape.count == 2 && mapped.buffer.count == shape[0] * shape[1], "LinearWeight: mapped size")
        outFeatures = shape[0]
        inFeatures = shape[1]
        storage = .mapped(mapped)
    }

    /// Whether the weights are read in place from the checkpoint's memory map.
    var isMapped: Bool {
        if case .mapped = storage { return true }
        return false
    }

    var precision: WeightPrecision {
        switch storage {
        case .float16: return .float16
        case .int8: return .int8
        default: return .float32
        }
    }

    var shape: [Int] { [outFeatures, inFeatures] }
    var count: Int { outFeatures * inFeatures }
    var bytes: Int {
        if case let .int8(q) = storage { return q.bytes }
        return count * precision.bytesPerWeight
    }

    /// The weights as float32 (the stored values exactly; float16 ones widened).
    var tensor: Tensor {
        switch storage {
        case let .float32(d): return Tensor(shape: shape, data: d)
        case let .mapped(m): return Tensor(shape: shape, data: Array(m.buffer))
        case let .float16(h): return Tensor(shape: shape, data: HalfConversion.float(h))
        case let .int8(q): return Tensor(shape: shape, data: q.dequantized)
        }
    }
}

/// Conversions between float32 and binary16 bit patterns (round to nearest even; F16C when present).
enum HalfConversion {
    static func half(_ x: [Float]) -> [UInt16] { map(x, zero: 0, vg_f32_to_f16) }

    static func float(_ h: [UInt16]) -> [Float] { map(h, zero: 0, vg_f16_to_f32) }

    /// `convert(src, dst, count)` over a whole array.
    private static func map<A, B>(_ src: [A], zero: B,
                                  _ convert: (UnsafePointer<A>, UnsafeMutablePointer<B>, Int) -> Void) -> [B] {
        var out = [B](repeating: zero, count: src.count)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                if let sp = s.baseAddress, let dp = d.baseAddress { convert(sp, dp, src.count) }
            }
        }
        return out
    }
}
