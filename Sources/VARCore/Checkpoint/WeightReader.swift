/// The key/shape contract between a model and its checkpoint (docs/design.md, convention 2, llama.cpp-style).
///
/// A model asks for every weight by its official key and expected shape through a `WeightScope`;
/// the reader records each request. Problems never throw at request time — the scope hands back a
/// `Tensor.placeholder` (no elements: nothing is allocated in a shape the file did not pay for) so
/// construction can continue — and `finish()` then throws one `CheckpointError.contract` listing every
/// missing, unused and mis-shaped key, or the first tensor holding NaN/Inf.
///
/// Every tensor handed out is checked once for NaN and ±Inf (`Finite`, vectorised); a non-finite value
/// is a problem like a missing key, reported with the tensor's name and the element's index.
///
/// ```swift
/// let reader = WeightReader(ckpt, optional: ["lvl_1L", "blocks.*.attn.zero_k_bias"])
/// let q = reader.root.scope("blocks").scope(3)("attn.q_bias", [C])   // (C)
/// try reader.finish()
/// ```
/// Patterns in `optional` and `ignoredShapes` match whole keys; a `*` component matches any one
/// dotted component (`blocks.*.attn.zero_k_bias`). Literal patterns are looked up in a set and the
/// (few) wildcard patterns are tried one by one, so checking n file keys costs O(n · wildcards).
public final class WeightReader {
    public let checkpoint: Checkpoint
    /// Keys that may be absent (buffers the engine recomputes). Optional keys the model never asks
    /// for are not reported as unused either.
    public let optional: Set<String>
    /// Keys whose shape is not checked (`quantize.ema_vocab_hit_SV`, docs/model.md §2.3).
    public let ignoredShapes: Set<String>

    /// Keys stored as IEEE half after loading (`--weights f16`): their finite values must also fit binary16.
    private var halfPatterns = KeyPatterns([])
    private let optionalPatterns: KeyPatterns
    private let ignoredShapePatterns: KeyPatterns
    private var requested: Set<String> = []
    private var missing: Set<String> = []
    private var misshaped: [String: CheckpointError.ShapeMismatch] = [:]
    private var readError: CheckpointError?
    private var nonFinite: CheckpointError?

    public init(_ checkpoint: Checkpoint, optional: Set<String> = [], ignoredShapes: Set<String> = []) {
        self.checkpoint = checkpoint
        self.optional = optional
        self.ignoredShapes = ignoredShapes
        optionalPatterns = KeyPatterns(optional)
        ignoredShapePatterns = KeyPatterns(ignoredShapes)
    }

    /// Declares the keys (patterns as for `optional`) that the model will hold in binary16: a value beyond its
    /// range (|x| > 65504) would become ±∞, so it is a problem reported by `finish()` like a non-finite one.
    public func requireHalfRange(_ patterns: Set<String>) { halfPatterns = KeyPatterns(patterns) }

    /// The scope with no prefix.
    public var root: WeightScope { WeightScope(reader: self, prefix: "") }

    /// Every key requested so far.
    public var requestedKeys: Set<String> { requested }

    /// Throws one `.contract` error if any required key was missing, any file key was never requested,
    /// or any shape differed; otherwise the first read error, or `.nonFiniteWeight` for the first tensor
    /// holding NaN/Inf.
    public func finish() throws {
        let unused = checkpoint.names.filter { !requested.contains($0) && !optionalPatterns.matches($0) }
        if !(missing.isEmpty && unused.isEmpty && misshaped.isEmpty) {
            throw CheckpointError.contract(
                file: checkpoint.path, missing: missing.sorted(), unused: unused.sorted(),
                misshaped: misshaped.keys.sorted().compactMap { misshaped[$0] })
        }
        if let readError { throw readError }
        if let nonFinite { throw nonFinite }
    }

    /// Whether `key` equals a pattern in `set` (with `*` matching one dotted component).
    static func matches(_ key: String, _ set: Set<String>) -> Bool { KeyPatterns(set).matches(key) }

    /// Records a problem with `key`'s values (first one wins).
    private func checkFinite(_ key: String, _ values: UnsafeBufferPointer<Float>) {
        guard nonFinite == nil, let i = Finite.firstNonFinite(values) else { return }
        nonFinite = .nonFiniteWeight(file: checkpoint.path, key: key, index: i, value: values[i])
    }

    fileprivate func request(_ key: String, _ shape: [Int]) -> Tensor {
        requested.insert(key)
        guard let entry = checkpoint.entry(key) else {
            if !optionalPatterns.matches(key) { missing.insert(key) }
            return .placeholder(rank: shape.count)
        }
        let checkShape = !ignoredShapePatterns.matches(key)
        if checkShape && entry.shape != shape {
            misshaped[key] = .init(key: key, expected: shape, actual: entry.shape)
            return .placeholder(rank: shape.count)
        }
        do {
            let t = try checkpoint.tensor(key)
            t.data.withUnsafeBufferPointer { checkFinite(key, $0) }
            if nonFinite == nil, halfPatterns.matches(key),
               let i = t.data.firstIndex(where: { abs($0) > Float(Float16.greatestFiniteMagnitude) && $0.isFinite }) {
                nonFinite = .badTensor(file: checkpoint.path, key: key,
                                       reason: "element \(i) is \(t.data[i]), beyond the float16 range (|x| ≤ 65504) in which "
                                           + "--weights f16 stores this matrix; use --weights f32 or q8 for this file")
            }
            return t
        } catch {
            if readError == nil { readError = error as? CheckpointError }
            return .placeholder(rank: shape.count)
        }
    }

    /// `key` in place when it exists with exactly `shape` and is contiguous aligned float32; otherwise nil and
    /// nothing is recorded (the caller falls back to `request`, which records the problem).
    fileprivate func requestInPlace(_ key: String, _ shape: [Int]) -> MappedFloats? {
        guard let entry = checkpoint.entry(key), entry.shape == shape,
              let mapped = checkpoint.mappedFloat32(key) else { return nil }
        requested.insert(key)
        checkFinite(key, mapped.buffer)
        return mapped
    }

    fileprivate func requestIntegers(_ key: String, _ shape: [Int]) -> [Int64] {
        requested.insert(key)
        guard let entry = checkpoint.entry(key) else {
            if !optionalPatterns.matches(key) { missing.insert(key) }
            return []
        }
        if !ignoredShapePatterns.matches(key) && entry.shape != shape {
            misshaped[key] = .init(key: key, expected: shape, actual: entry.shape)
            return []
        }
        do {
            return try checkpoint.int64s(key)
        } catch {
            if readError == nil { readError = error as? CheckpointError }
            return []
        }
    }

    fileprivate func markUsed(_ key: String) { requested.insert(key) }
}

/// A set of whole-key patterns: literal keys in a hash set, wildcard ones (`*` = one dotted component)
/// split once into components.
struct KeyPatterns {
    private let literal: Set<String>
    private let wildcards: [[Substring]]

    init(_ patterns: Set<String>) {
        literal = patterns.filter { !$0.contains("*") }
        wildcards = patterns.filter { $0.contains("*") }.map { $0.split(separator: ".", omittingEmptySubsequences: false) }
    }

    func matches(_ key: String) -> Bool {
        if literal.contains(key) { return true }
        if wildcards.isEmpty { return false }
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        return wildcards.contains { p in
            p.count == parts.count && zip(p, parts).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }
}

/// A key prefix inside a `WeightReader`: `root.scope("blocks").scope(3)("attn.q_bias", [C])` reads
/// `blocks.3.attn.q_bias`. The `WeightSource` of checkpoint files.
public struct WeightScope: WeightSource {
    let reader: WeightReader
    /// The prefix including its trailing dot (empty at the root).
    public let prefix: String

    init(reader: WeightReader, prefix: String) {
        self.reader = reader
        self.prefix = prefix
    }

    /// The full key of `name` in this scope.
    public func key(_ name: String) -> String { prefix + name }

    /// The tensor `prefix + name` as float32, expected to have `shape`. When it is missing, has another
    /// shape or cannot be read, the problem is recorded (reported by `finish()`) and a placeholder is returned.
    public func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        reader.request(key(name), shape)
    }

    /// `prefix + name` in place in the mapped file when it is stored as contiguous float32 of exactly `shape`;
    /// nil otherwise (then read it with `callAsFunction`, which converts and records any problem).
    public func inPlace(_ name: String, _ shape: [Int]) -> MappedFloats? {
        reader.requestInPlace(key(name), shape)
    }

    /// An integer tensor (e.g. `lvl_1L`), row-major, with the same contract as `callAsFunction` (empty on a problem).
    public func int64s(_ name: String, _ shape: [Int]) -> [Int64] {
        reader.requestIntegers(key(name), shape)
    }

    /// The scope `prefix + name + "."`.
    public func scope(_ name: String) -> WeightScope { WeightScope(reader: reader, prefix: key(name) + ".") }

    /// Whether the file has `prefix + name` (does not count as a request).
    public func contains(_ name: String) -> Bool { reader.checkpoint.entry(key(name)) != nil }
    /// The stored shape of `prefix + name`, or nil (does not count as a request).
    public func shape(of name: String) -> [Int]? { reader.checkpoint.entry(key(name))?.shape }
    /// Declares `prefix + name` as consumed without reading it (e.g. a buffer the engine recomputes).
    public func markUsed(_ name: String) { reader.markUsed(key(name)) }
}
