import Foundation

/// Deterministic pseudo-random weights of whatever shapes a model asks for: the one generator of random
/// models for tests and speed benchmarks (the arithmetic cost does not depend on the values).
///
/// Element i of the tensor with full key k is `u·bound + center`, where u ∈ [−1, 1) comes from SplitMix64
/// seeded by `seed` and an FNV-1a hash of k — so a tensor depends on neither the request order nor the
/// other tensors. `profile` chooses `(center, bound)` per key; every requested tensor is kept in
/// `tensors` under its full key.
public struct RandomWeights: WeightSource {
    /// The spread of a tensor's values: uniform in `center ± bound` (bound 0 = the constant `center`).
    public struct Spread: Sendable, Equatable {
        public var center: Float
        public var bound: Float
        public init(center: Float = 0, bound: Float) { self.center = center; self.bound = bound }
    }

    /// How the spread of each tensor is chosen.
    public enum Profile: Sendable {
        /// Convolution/linear weights uniform in ±1/√fan_in (PyTorch's default bound), norm weights 1,
        /// other vectors ±0.1 (the VQVAE's layers).
        case layers
        /// The VAR transformer (docs/model.md §2.2): matrices ±1/√in (the head ×4), class/position/level embeddings
        /// ±0.5, `scale_mul_1H11` around ln 4 ± 0.25, other vectors ±0.02 — spread enough that sampling
        /// draws varied tokens.
        case transformer

        func spread(key: String, shape: [Int]) -> Spread {
            switch self {
            case .layers:
                if shape.count == 1 && key.contains("norm") && key.hasSuffix("weight") { return Spread(center: 1, bound: 0) }
                if shape.count >= 2 {
                    return Spread(bound: 1 / Float(max(1, shape.dropFirst().reduce(1, *))).squareRoot())
                }
                return Spread(bound: 0.1)
            case .transformer:
                if key.hasSuffix("scale_mul_1H11") { return Spread(center: Float(log(4.0)), bound: 0.25) }
                if key.hasSuffix("class_emb.weight") || key.hasPrefix("pos_") || key.hasPrefix("lvl_embed") {
                    return Spread(bound: 0.5)
                }
                if key.hasSuffix(".weight"), shape.count == 2 {
                    let b = 1 / Float(max(1, shape[1])).squareRoot()
                    return Spread(bound: key == "head.weight" ? 4 * b : b)
                }
                return Spread(bound: 0.02)
            }
        }
    }

    final class Store {
        var tensors: [String: Tensor] = [:]
        let seed: UInt64
        let profile: Profile
        init(seed: UInt64, profile: Profile) { self.seed = seed; self.profile = profile }
    }

    let store: Store
    let prefix: String

    public init(seed: UInt64 = 0, profile: Profile = .layers) {
        store = Store(seed: seed, profile: profile); prefix = ""
    }
    init(store: Store, prefix: String) { self.store = store; self.prefix = prefix }

    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    public func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        let k = key(name)
        if let t = store.tensors[k], t.shape == shape { return t }
        let t = Self.tensor(key: k, shape: shape, seed: store.seed, spread: store.profile.spread(key: k, shape: shape))
        store.tensors[k] = t
        return t
    }

    /// The values of one tensor (see the type's documentation).
    static func tensor(key: String, shape: [Int], seed: UInt64, spread: Spread) -> Tensor {
        let n = shape.reduce(1, *)
        var state = seed &+ key.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        var data = [Float](repeating: spread.center, count: n)
        if spread.bound != 0 {
            for i in 0..<n {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                let u = Float(z >> 40) / Float(1 << 24)      // [0, 1)
                data[i] = (2 * u - 1) * spread.bound + spread.center
            }
        }
        return Tensor(shape: shape, data: data)
    }

    public func scope(_ name: String) -> RandomWeights { RandomWeights(store: store, prefix: key(name)) }
    public func contains(_ name: String) -> Bool { true }

    /// Every tensor handed out so far, by full key (e.g. to build an `InMemoryWeights` or a fixture).
    public var tensors: [String: Tensor] { store.tensors }
}
