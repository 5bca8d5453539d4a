/// Element type of a stored tensor, as read from the file (never assumed; docs/model.md §2, §8.3, §8.6).
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    public var description: String { rawValue }

    /// The safetensors dtype string (`"F32"`, …) → dtype; nil for dtypes var-gen does not read.
    init?(safetensors name: String) {
        switch name {
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F64": self = .float64
        case "I64": self = .int64
        case "I32": self = .int32
        case "I16": self = .int16
        case "I8": self = .int8
        case "U8": self = .uint8
        case "BOOL": self = .bool
        default: return nil
        }
    }

    /// The torch storage class name (`"FloatStorage"`, …) → dtype (docs/model.md §8.3 table).
    init?(torchStorage name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }
}

/// Name, element type and shape of one tensor in a checkpoint.
public struct TensorEntry: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    /// Sizes, outermost first; `[]` for a scalar.
    public var shape: [Int]
    /// Number of elements (the product of `shape`, checked for overflow when the file was opened).
    public var count: Int { shape.reduce(1, *) }
}
