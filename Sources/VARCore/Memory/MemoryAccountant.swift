import Foundation

/// Explicit accounting of the engine's large allocations by purpose, so `--memory-stats` can say where the
/// memory goes (RSS alone cannot). Code charges bytes when it allocates and releases them when it frees; the
/// accountant keeps the current and peak value per category and in total. Thread-safe.
///
/// Categories: the weights of each loaded model separately (`.weights(.drafter)`), the checkpoint file pages
/// resident while a model is being loaded, the KV cache, the transformer activations, the work buffers
/// (attention scores, logits, sampling), and the VQVAE decoder.
public final class MemoryAccountant: @unchecked Sendable {
    public struct Category: Hashable, Sendable, Comparable, CustomStringConvertible {
        /// Display name ("weights drafter", "kvCache", …).
        public let name: String
        /// Sort key of the fixed categories; weights sort first, by name.
        let rank: Int

        public var description: String { name }

        /// The weights one loaded transformer holds, named by its role ("weights drafter", "weights model", …).
        public static func weights(_ role: ModelRole) -> Category { Category(name: "weights \(role)", rank: 0) }
        /// The weights of the VQVAE ("weights vqvae").
        public static let vqvaeWeights = Category(name: "weights vqvae", rank: 0)
        /// Pages of a checkpoint file that are mapped while its model is being loaded.
        public static let checkpointPages = Category(name: "checkpointPages", rank: 1)
        /// Key/value caches (the shared `KVArena`).
        public static let kvCache = Category(name: "kvCache", rank: 2)
        /// Transformer activations: residual stream, LN output, qkv, attention output, FFN hidden, AdaLN rows.
        public static let activations = Category(name: "activations", rank: 3)
        /// Work buffers: attention scores, logits, guided logits and sampling weights.
        public static let workspace = Category(name: "workspace", rank: 4)
        /// The VQVAE decoder's feature maps and convolution buffers.
        public static let vqvaeDecode = Category(name: "vqvaeDecode", rank: 5)

        /// The fixed categories (without per-model weights), in display order.
        public static let fixed: [Category] = [.checkpointPages, .kvCache, .activations, .workspace, .vqvaeDecode]

        public static func < (a: Category, b: Category) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.name < b.name
        }

        /// True for the weights categories (`.weights(_)`, `.vqvaeWeights`).
        public var isWeights: Bool { rank == 0 }
    }

    /// Current and peak bytes of one category (or of the total).
    public struct Usage: Sendable, Equatable {
        public var current: Int = 0
        public var peak: Int = 0
        public init(current: Int = 0, peak: Int = 0) { self.current = current; self.peak = peak }
    }

    /// A snapshot: per-category usage, the total (whose peak is the peak of the *sum*, not the sum of peaks),
    /// and the process's RSS at the time of the snapshot.
    public struct Report: Sendable, Equatable {
        public var categories: [Category: Usage]
        public var total: Usage
        public var process: ProcessMemory?

        /// Categories in display order: weights of every model, then the fixed ones.
        public var orderedCategories: [Category] {
            let weights = categories.keys.filter(\.isWeights).sorted()
            return weights + Category.fixed
        }

        /// Usage of one category (zero when never charged).
        public subscript(_ c: Category) -> Usage { categories[c] ?? Usage() }
    }

    private let lock = NSLock()
    private var usage: [Category: Usage] = [:]
    private var total = Usage()

    public init() {}

    /// Records an allocation of `bytes` for `category`.
    public func charge(_ bytes: Int, to category: Category) {
        precondition(bytes >= 0, "MemoryAccountant.charge: negative byte count")
        lock.lock(); defer { lock.unlock() }
        var u = usage[category] ?? Usage()
        u.current += bytes
        u.peak = max(u.peak, u.current)
        usage[category] = u
        total.current += bytes
        total.peak = max(total.peak, total.current)
    }

    /// Records that `bytes` of `category` were freed (clamped so the current value never goes negative).
    public func release(_ bytes: Int, from category: Category) {
        precondition(bytes >= 0, "MemoryAccountant.release: negative byte count")
        lock.lock(); defer { lock.unlock() }
        var u = usage[category] ?? Usage()
        let freed = min(bytes, u.current)
        u.current -= freed
        usage[category] = u
        total.current -= freed
    }

    /// A buffer of `category` was resized from `old` to `new` bytes, freeing the old storage before
    /// allocating the new one (so the peak sees only the larger of the two).
    public func resize(from old: Int, to new: Int, in category: Category) {
        release(old, from: category)
        charge(new, to: category)
    }

    /// Current bytes of one category.
    public func current(_ category: Category) -> Int {
        lock.lock(); defer { lock.unlock() }
        return usage[category]?.current ?? 0
    }

    /// Current bytes of all weights categories together.
    public var currentWeights: Int {
        lock.lock(); defer { lock.unlock() }
        return usage.filter { $0.key.isWeights }.reduce(0) { $0 + $1.value.current }
    }

    public var report: Report {
        lock.lock()
        let r = Report(categories: usage, total: total, process: nil)
        lock.unlock()
        var out = r
        out.process = ProcessMemory.current()
        return out
    }

    /// Forgets peaks (current values stay), e.g. between benchmark repeats.
    public func resetPeaks() {
        lock.lock(); defer { lock.unlock() }
        for (k, v) in usage { usage[k] = Usage(current: v.current, peak: v.current) }
        total.peak = total.current
    }
}
