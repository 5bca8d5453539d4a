/// The key/shape contract between a model and its checkpoint (style.md §2, llama.cpp-style).
///
/// A model asks for every weight by its official key and expected shape through a `WeightScope`;
/// the reader records each request. Problems never throw at request time — the scope hands back
/// zeros of the expected shape so construction can continue — and `finish()` then throws one
/// `CheckpointError.contract` listing every missing, unused and mis-shaped key.
///
/// ```swift
/// let reader = WeightReader(ckpt, optional: ["lvl_1L", "blocks.*.attn.zero_k_bias"])
/// let q = reader.root.scope("blocks").scope(3)("attn.q_bias", [C])   // (C)
/// try reader.finish()
/// ```
/// Patterns in `optional` and `ignoredShapes` match whole keys; a `*` component matches any one
/// dotted component (`blocks.*.attn.zero_k_bias`).
public final class WeightReader {
    public let checkpoint: Checkpoint
    /// Keys that may be absent (buffers the engine recomputes). Optional keys the model never asks
    /// for are not reported as unused either.
    public let optional: Set<String>
    /// Keys whose shape is not checked (`quantize.ema_vocab_hit_SV`, spec §2.3).
    public let ignoredShapes: Set<String>

    private var requested: Set<String> = []
    private var missing: Set<String> = []
    private var misshaped: [String: CheckpointError.ShapeMismatch] = [:]
    private var readError: CheckpointError?

    public init(_ checkpoint: Checkpoint, optional: Set<String> = [], ignoredShapes: Set<String> = []) {
        self.checkpoint = checkpoint
        self.optional = optional
        self.ignoredShapes = ignoredShapes
    }

    /// The scope with no prefix.
    public var root: WeightScope { WeightScope(reader: self, prefix: "") }

    /// Every key requested so far.
    public var requestedKeys: Set<String> { requested }

    /// Throws one `.contract` error if any required key was missing, any file key was never requested,
    /// or any shape differed; rethrows the first read error if a tensor could not be read.
    public func finish() throws {
        if let readError { throw readError }
        let unused = checkpoint.names.filter { !requested.contains($0) && !Self.matches($0, optional) }
        if missing.isEmpty && unused.isEmpty && misshaped.isEmpty { return }
        throw CheckpointError.contract(
            file: checkpoint.path, missing: missing.sorted(), unused: unused.sorted(),
            misshaped: misshaped.keys.sorted().compactMap { misshaped[$0] })
    }

    /// Whether `key` equals a pattern in `set` (with `*` matching one dotted component).
    static func matches(_ key: String, _ set: Set<String>) -> Bool {
        if set.contains(key) { return true }
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        return set.contains { pattern in
            guard pattern.contains("*") else { return false }
            let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
            return p.count == parts.count && zip(p, parts).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    fileprivate func request(_ key: String, _ shape: [Int]) -> Tensor {
        requested.insert(key)
        guard let entry = checkpoint.entry(key) else {
            if !Self.matches(key, optional) { missing.insert(key) }
            return Tensor(zeros: shape)
        }
        let checkShape = !Self.matches(key, ignoredShapes)
        if checkShape && entry.shape != shape {
            misshaped[key] = .init(key: key, expected: shape, actual: entry.shape)
            return Tensor(zeros: shape)
        }
        do {
            return try checkpoint.tensor(key)
        } catch {
            if readError == nil { readError = error as? CheckpointError }
            return Tensor(zeros: shape)
        }
    }

    /// `key` in place when it exists with exactly `shape` and is contiguous aligned float32; otherwise nil and
    /// nothing is recorded (the caller falls back to `request`, which records the problem).
    fileprivate func requestInPlace(_ key: String, _ shape: [Int]) -> MappedFloats? {
        guard let entry = checkpoint.entry(key), entry.shape == shape,
              let mapped = checkpoint.mappedFloat32(key) else { return nil }
        requested.insert(key)
        return mapped
    }

    fileprivate func requestIntegers(_ key: String, _ shape: [Int]) -> [Int64] {
        requested.insert(key)
        let count = shape.reduce(1, *)
        guard let entry = checkpoint.entry(key) else {
            if !Self.matches(key, optional) { missing.insert(key) }
            return [Int64](repeating: 0, count: count)
        }
        if !Self.matches(key, ignoredShapes) && entry.shape != shape {
            misshaped[key] = .init(key: key, expected: shape, actual: entry.shape)
            return [Int64](repeating: 0, count: count)
        }
        do {
            return try checkpoint.int64s(key)
        } catch {
            if readError == nil { readError = error as? CheckpointError }
            return [Int64](repeating: 0, count: count)
        }
    }

    fileprivate func markUsed(_ key: String) { requested.insert(key) }
}

/// A key prefix inside a `WeightReader`: `root.scope("blocks").scope(3)("attn.q_bias", [C])` reads
/// `blocks.3.attn.q_bias`.
public struct WeightScope {
    let reader: WeightReader
    /// The prefix including its trailing dot (empty at the root).
    public let prefix: String

    init(reader: WeightReader, prefix: String) {
        self.reader = reader
        self.prefix = prefix
    }

    /// The full key of `name` in this scope.
    public func key(_ name: String) -> String { prefix + name }

    /// The tensor `prefix + name` as float32, expected to have `shape`. When it is missing or has
    /// another shape the problem is recorded (reported by `finish()`) and zeros of `shape` are returned.
    public func callAsFunction(_ name: String, _ shape: [Int]) -> Tensor {
        reader.request(key(name), shape)
    }

    /// `prefix + name` in place in the mapped file when it is stored as contiguous float32 of exactly `shape`;
    /// nil otherwise (then read it with `callAsFunction`, which converts and records any problem).
    public func inPlace(_ name: String, _ shape: [Int]) -> MappedFloats? {
        reader.requestInPlace(key(name), shape)
    }

    /// An integer tensor (e.g. `lvl_1L`), row-major, with the same contract as `callAsFunction`.
    public func int64s(_ name: String, _ shape: [Int]) -> [Int64] {
        reader.requestIntegers(key(name), shape)
    }

    /// The scope `prefix + name + "."`.
    public func scope(_ name: String) -> WeightScope { WeightScope(reader: reader, prefix: key(name) + ".") }
    /// The scope `prefix + "i."` (list index, e.g. `blocks.3`).
    public func scope(_ i: Int) -> WeightScope { scope(String(i)) }

    /// Whether the file has `prefix + name` (does not count as a request).
    public func contains(_ name: String) -> Bool { reader.checkpoint.entry(key(name)) != nil }
    /// The stored shape of `prefix + name`, or nil (does not count as a request).
    public func shape(of name: String) -> [Int]? { reader.checkpoint.entry(key(name))?.shape }
    /// Declares `prefix + name` as consumed without reading it (e.g. a buffer the engine recomputes).
    public func markUsed(_ name: String) { reader.markUsed(key(name)) }
}
