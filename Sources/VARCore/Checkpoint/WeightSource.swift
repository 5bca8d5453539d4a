/// Where models take their weights from: a scoped reader keyed by the official checkpoint names, each
/// tensor requested with its expected shape (docs/design.md, convention 2). The VQVAE and the VAR transformer both build
/// from one; `WeightScope` (a checkpoint through a `WeightReader`), `InMemoryWeights` and `RandomWeights`
/// conform.
///
/// The contract of every source: a request whose tensor is missing, mis-shaped or unreadable is recorded
/// (its owner reports all problems in one error) and answered with `Tensor.placeholder(rank:)`, a tensor
/// with no elements. A placeholder never reaches arithmetic, because a model with any recorded problem is
/// refused; nothing is ever allocated in the shape a file *claims* without the file holding those bytes.
public protocol WeightSource {
    /// The tensor `name` (relative to this scope) with the expected `shape`, or a placeholder (see above).
    func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor
    /// `name` in place in a memory-mapped file when it is stored as contiguous aligned float32 of exactly
    /// `shape`; nil otherwise (then read it with `callAsFunction`, which records any problem).
    func inPlace(_ name: String, _ shape: [Int]) -> MappedFloats?
    func scope(_ name: String) -> Self
    func scope(_ i: Int) -> Self
    /// Whether the source holds `name` (does not count as a request).
    func contains(_ name: String) -> Bool
}

extension WeightSource {
    public func inPlace(_ name: String, _ shape: [Int]) -> MappedFloats? { nil }
    public func scope(_ i: Int) -> Self { scope(String(i)) }
}

/// The former name of `WeightSource` (the tokenizer's layers were written against it).
public typealias LayerWeights = WeightSource

extension Tensor {
    /// The stand-in a `WeightSource` returns for a tensor it could not supply: no elements, `rank`
    /// dimensions of size 0 (so layer constructors that only store tensors keep working).
    public static func placeholder(rank: Int) -> Tensor {
        Tensor(shape: rank == 0 ? [0] : [Int](repeating: 0, count: rank), data: [])
    }

    /// Whether this is a `placeholder` (no elements although a non-empty tensor was asked for).
    public var isPlaceholder: Bool { data.isEmpty && !shape.isEmpty && shape.allSatisfy { $0 == 0 } }
}

/// Weights held in a dictionary (built in memory, e.g. by tests), with the key/shape contract:
/// `problems` lists every missing and mis-shaped request, `unusedKeys` whatever was never asked for.
public struct InMemoryWeights: WeightSource {
    final class Store {
        var tensors: [String: Tensor]
        var used: Set<String> = []
        var problems: [String] = []
        init(_ t: [String: Tensor]) { tensors = t }
    }

    let store: Store
    let prefix: String

    public init(_ tensors: [String: Tensor]) {
        store = Store(tensors)
        prefix = ""
    }

    init(store: Store, prefix: String) { self.store = store; self.prefix = prefix }

    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    public func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        let k = key(name)
        guard let t = store.tensors[k] else {
            store.problems.append("missing \(k) \(shape)")
            return .placeholder(rank: shape.count)
        }
        store.used.insert(k)
        guard t.shape == shape else {
            store.problems.append("shape of \(k): expected \(shape), found \(t.shape)")
            return .placeholder(rank: shape.count)
        }
        return t
    }

    public func scope(_ name: String) -> InMemoryWeights { InMemoryWeights(store: store, prefix: key(name)) }
    public func contains(_ name: String) -> Bool { store.tensors[key(name)] != nil }

    /// Missing and mis-shaped requests so far.
    public var problems: [String] { store.problems }
    /// Stored keys never requested, sorted.
    public var unusedKeys: [String] { store.tensors.keys.filter { !store.used.contains($0) }.sorted() }
}
