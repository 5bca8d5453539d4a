/// A dense, row-major float32 tensor: the one array type of the engine.
///
/// Storage is a Swift array (copy-on-write), so tensors are values. Shapes use the
/// letters of docs/model.md: B batch, L tokens, C width, H heads, V vocabulary, pn patch side.
public struct Tensor: Sendable, Equatable {
    /// Sizes, outermost first (PyTorch order).
    public var shape: [Int]
    /// `shape.reduce(1, *)` elements, row-major.
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose every element is `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `[start, end)` of the outermost dimension.
    public func slice(outer start: Int, _ end: Int) -> Tensor {
        precondition(0 <= start && start <= end && end <= shape[0])
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [end - start] + shape.dropFirst(),
                      data: Array(data[(start * inner)..<(end * inner)]))
    }

    /// Concatenation along the outermost dimension.
    public static func concat(outer parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty)
        let inner = Array(parts[0].shape.dropFirst())
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        var rows = 0
        for p in parts {
            precondition(Array(p.shape.dropFirst()) == inner, "concat: inner shapes differ")
            data += p.data
            rows += p.shape[0]
        }
        return Tensor(shape: [rows] + inner, data: data)
    }
}
