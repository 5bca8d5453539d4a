/// One reusable block of memory for key/value caches. A drafter's cache and, after it, a refiner's cache
/// can live in the same arena (CoDe), so the peak is the larger of the two instead of their sum.
public final class KVArena {
    private(set) var pointer: UnsafeMutablePointer<Float>
    /// Capacity in floats.
    public private(set) var capacity: Int

    public init(floats: Int = 0) {
        capacity = max(floats, 1)
        pointer = .allocate(capacity: capacity)
    }

    /// Bytes currently held.
    public var bytes: Int { capacity * MemoryLayout<Float>.stride }

    private var meter: MemoryMeter?

    /// Charges the arena to `accountant` as `.kvCache` (now and whenever it grows); nil stops charging.
    public func account(to accountant: MemoryAccountant?) {
        meter?.close()
        meter = accountant.map { MemoryMeter($0, .kvCache) }
        meter?.update(bytes: bytes)
    }

    /// Grows to at least `floats` (contents are discarded when it grows).
    func reserve(floats: Int) {
        guard floats > capacity else { return }
        pointer.deallocate()
        capacity = floats
        meter?.update(bytes: bytes)
        pointer = .allocate(capacity: floats)
    }

    deinit { pointer.deallocate(); meter?.close() }
}

/// Per-block key/value cache for all `rows` = 2B rows (docs/model.md §5.7): L2-normalised keys and values,
/// laid out `(depth, 2 [k, v], rows, H, plane)` inside a `KVArena`. Keys are stored transposed,
/// `(hd, keyStride)` with `keyStride` = capacity rounded up to 16 (what the attention kernel reads); values
/// `(capacity, hd)`; both planes are `hd · keyStride` floats.
public final class KVCache {
    public let depth: Int
    /// 2B: conditional rows first, then unconditional.
    public let rows: Int
    public let heads: Int
    public let headDim: Int
    /// Maximum number of positions.
    public let capacity: Int
    /// Positions filled so far, `[0, length)`.
    public internal(set) var length = 0
    let arena: KVArena

    /// Floats a cache of this shape needs: `depth · 2 · rows · H · keyStride · hd`.
    public static func floats(depth: Int, rows: Int, heads: Int, headDim: Int, capacity: Int) -> Int {
        depth * 2 * rows * heads * keyStride(capacity: capacity) * headDim
    }

    /// Distance between the rows of the transposed keys: capacity rounded up to 16.
    static func keyStride(capacity: Int) -> Int { (capacity + 15) / 16 * 16 }

    /// Distance between the rows of the transposed keys `(hd, keyStride)`.
    var keyStride: Int { KVCache.keyStride(capacity: capacity) }

    public init(depth: Int, rows: Int, heads: Int, headDim: Int, capacity: Int, arena: KVArena) {
        self.depth = depth; self.rows = rows; self.heads = heads; self.headDim = headDim
        self.capacity = capacity; self.arena = arena
        arena.reserve(floats: KVCache.floats(depth: depth, rows: rows, heads: heads, headDim: headDim,
                                             capacity: capacity))
    }

    /// Bytes this cache uses.
    public var bytes: Int {
        KVCache.floats(depth: depth, rows: rows, heads: heads, headDim: headDim, capacity: capacity)
            * MemoryLayout<Float>.stride
    }

    /// Keys of (block, row, head), transposed: `(hd, keyStride)`, columns `[0, length)` valid.
    @inline(__always)
    func keys(block: Int, row: Int, head: Int) -> UnsafeMutablePointer<Float> {
        let plane = keyStride * headDim
        return arena.pointer + ((block * 2 * rows + row) * heads + head) * plane
    }

    /// Values of (block, row, head): `(capacity, hd)`.
    @inline(__always)
    func values(block: Int, row: Int, head: Int) -> UnsafeMutablePointer<Float> {
        let plane = keyStride * headDim
        return arena.pointer + (((block * 2 + 1) * rows + row) * heads + head) * plane
    }

    /// Forgets all positions (the storage stays allocated).
    public func reset() { length = 0 }
}
