/// Where tokenizer layers take their weights from: a scoped reader keyed by the official
/// checkpoint names, each tensor requested with its expected shape (style.md §2).
/// Checkpoint/'s `WeightScope` has exactly this shape; `InMemoryWeights` and `RandomWeights`
/// serve tests and benchmarks.
public protocol LayerWeights {
    /// The tensor `name` (relative to this scope) with the expected `shape`. Implementations record
    /// missing or mis-shaped tensors (to report them all at once) and return zeros of `shape`.
    func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor
    func scope(_ name: String) -> Self
    func scope(_ i: Int) -> Self
    func contains(_ name: String) -> Bool
}

/// Weights held in a dictionary (built in memory, e.g. by tests), with the key/shape contract:
/// `problems` lists every missing and mis-shaped request, `unusedKeys` whatever was never asked for.
public struct InMemoryWeights: LayerWeights {
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
            return Tensor(zeros: shape)
        }
        store.used.insert(k)
        guard t.shape == shape else {
            store.problems.append("shape of \(k): expected \(shape), found \(t.shape)")
            return Tensor(zeros: shape)
        }
        return t
    }

    public func scope(_ name: String) -> InMemoryWeights { InMemoryWeights(store: store, prefix: key(name)) }
    public func scope(_ i: Int) -> InMemoryWeights { scope(String(i)) }
    public func contains(_ name: String) -> Bool { store.tensors[key(name)] != nil }

    /// Missing and mis-shaped requests so far.
    public var problems: [String] { store.problems }
    /// Stored keys never requested, sorted.
    public var unusedKeys: [String] { store.tensors.keys.filter { !store.used.contains($0) }.sorted() }
}

/// Deterministic pseudo-random weights of whatever shapes a model asks for (for speed
/// benchmarks and tests; the arithmetic cost does not depend on the values). Conv/linear weights
/// are uniform in `±1/√fan_in` (PyTorch's default bound), norm weights are 1, other vectors
/// uniform in ±0.1. Every requested tensor is also kept in `tensors` under its full key.
public struct RandomWeights: LayerWeights {
    final class Store {
        var tensors: [String: Tensor] = [:]
        let seed: UInt64
        init(seed: UInt64) { self.seed = seed }
    }

    let store: Store
    let prefix: String

    public init(seed: UInt64 = 0) { store = Store(seed: seed); prefix = "" }
    init(store: Store, prefix: String) { self.store = store; self.prefix = prefix }

    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    public func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        let k = key(name)
        if let t = store.tensors[k], t.shape == shape { return t }
        let n = shape.reduce(1, *)
        var t: Tensor
        if shape.count == 1 && k.contains("norm") && k.hasSuffix("weight") {
            t = Tensor(repeating: 1, shape: shape)
        } else {
            let bound: Float = shape.count >= 2 ? 1 / Float(shape.dropFirst().reduce(1, *)).squareRoot() : 0.1
            // SplitMix64 seeded by the key, so a tensor does not depend on request order.
            var state = store.seed &+ UInt64(truncatingIfNeeded: k.utf8.reduce(UInt64(1469598103934665603)) {
                ($0 ^ UInt64($1)) &* 1099511628211
            })
            var data = [Float](repeating: 0, count: n)
            for i in 0..<n {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                let u = Float(z >> 40) / Float(1 << 24)      // [0, 1)
                data[i] = (2 * u - 1) * bound
            }
            t = Tensor(shape: shape, data: data)
        }
        store.tensors[k] = t
        return t
    }

    public func scope(_ name: String) -> RandomWeights { RandomWeights(store: store, prefix: key(name)) }
    public func scope(_ i: Int) -> RandomWeights { scope(String(i)) }
    public func contains(_ name: String) -> Bool { true }

    /// Every tensor handed out so far, by full key (e.g. to build an `InMemoryWeights` or a fixture).
    public var tensors: [String: Tensor] { store.tensors }
}
